// The transaction sender against a real PostgreSQL and a real anvil: a transfer is sent once,
// mined, confirmed at depth with its event; asking again for the same business key gives the
// same transaction; a crash before sending or after sending but before recording leaves no gap
// and no duplicate; a stuck transaction is replaced and only one version confirms; a reverted
// one fails with its event; a reorg that drops the block sends it again.
#include "tx_manager.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "abi.hpp"
#include "dev_chain.hpp"
#include "fresh_database.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pg.hpp"
#include "rpc.hpp"
#include "transaction.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
using eth::U256;

class TxManagerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("chain", "blockchain"); }

    void SetUp() override {
        const char* url = std::getenv("RESTINU_TEST_ANVIL_URL");
        ASSERT_NE(url, nullptr) << "run under scripts/testenv.sh";
        http_ = std::make_unique<rt::HttpClient>(io_);
        rpc_ = std::make_unique<eth::RpcClient>(*http_, url);
        rt::PgOptions o;
        o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        o.size = 2;
        pool_ = std::make_unique<rt::PgPool>(io_, o);
        rpc("evm_setAutomine", {json::value(true)});
        // A signer of its own per test, funded by a development account.
        key_ = eth::PrivateKey::generate();
        fund(key_->address(), *eth::parseDecimal("10000000000000000000"));
    }

    void TearDown() override {
        rpc("evm_setAutomine", {json::value(true)});
        pool_->close();
    }

    template <class T>
    T run(rt::Task<T> t) {
        return rt::runBlocking(io_, std::move(t));
    }
    json::value rpc(std::string method, json::array params) {
        return run(rpc_->call(std::move(method), std::move(params)));
    }
    void mine(int blocks = 1) {
        for (int i = 0; i < blocks; ++i) {
            rpc("evm_mine", {});
        }
    }

    // A plain transfer from a development account, signed here (not through the manager).
    void fund(const eth::Address& to, const U256& wei) { run(testchain::fund(*rpc_, to, wei)); }

    std::unique_ptr<TxManager> manager(TxSettings s = {}) {
        s.chain_id = 31337;
        if (s.confirmations == 12) {
            s.confirmations = 2;
        }
        auto m = std::make_unique<TxManager>(io_, *pool_, *rpc_, *key_, s, metrics_);
        run(m->init());
        return m;
    }

    // Enqueues in a transaction of its own (as a flow step would, next to its own rows).
    StoredTx enqueue(TxManager& m, TxIntent intent) {
        auto prepared = run(m.prepare(std::move(intent)));
        auto fees = run(m.fees());
        std::optional<StoredTx> out;
        run(pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            out = co_await m.enqueue(tx, prepared, fees);
        }));
        return *out;
    }

    TxIntent transfer(const std::string& reference, const eth::Address& to, U256 wei) {
        TxIntent i;
        i.purpose = "test.transfer";
        i.reference = reference;
        i.to = to;
        i.value = wei;
        return i;
    }

    // Passes (mining a block between them when asked) until the row reaches `state`.
    StoredTx until(TxManager& m, const std::string& id, const std::string& state,
                   bool mine_between = true) {
        for (int i = 0; i < 20; ++i) {
            run(m.runOnce());
            auto t = run(TxStore::byId(*pool_, id));
            if (t && t->state == state) {
                return *t;
            }
            if (mine_between) {
                mine();
            }
        }
        ADD_FAILURE() << id << " never reached " << state;
        return {};
    }

    std::vector<contracts::ChainTxChanged> events(const std::string& type, const std::string& id) {
        auto r = run(pool_->query(
            "SELECT data::text FROM restinu_outbox WHERE type = $1 AND aggregate_id = $2 "
            "ORDER BY seq",
            type, id));
        std::vector<contracts::ChainTxChanged> out;
        for (std::size_t i = 0; i < r.rows(); ++i) {
            out.push_back(contracts::ChainTxChanged::parse(r.get(i, 0)));
        }
        return out;
    }

    std::int64_t nextNonce() {
        auto r = run(pool_->query("SELECT next_nonce FROM chain_signers WHERE address = $1",
                                  key_->address().lower()));
        return r.getInt(0, 0);
    }

    static inline std::string db_;
    rt::IoContext io_;
    rt::MetricsRegistry metrics_;
    std::unique_ptr<rt::HttpClient> http_;
    std::unique_ptr<eth::RpcClient> rpc_;
    std::unique_ptr<rt::PgPool> pool_;
    std::optional<eth::PrivateKey> key_;
};

TEST_F(TxManagerTest, ATransferIsSentOnceMinedAndConfirmedAtDepthWithItsEvent) {
    auto m = manager();
    const auto to = eth::PrivateKey::generate().address();
    const U256 wei = 123456789;
    auto t = enqueue(*m, transfer("pay-1", to, wei));
    EXPECT_EQ(t.state, "signed");
    EXPECT_EQ(t.nonce, 0);
    EXPECT_EQ(run(rpc_->balance(to)), U256(0)) << "nothing is sent before a pass";
    // Asked again for the same business key: the same transaction, no second nonce.
    auto again = enqueue(*m, transfer("pay-1", to, wei));
    EXPECT_EQ(again.id, t.id);
    EXPECT_EQ(nextNonce(), 1);

    auto confirmed = until(*m, t.id, "confirmed");
    EXPECT_EQ(run(rpc_->balance(to)), wei);
    EXPECT_EQ(confirmed.mined_hash, t.hash);
    auto ev = events("chain.tx.confirmed", t.id);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].purpose, "test.transfer");
    EXPECT_EQ(ev[0].reference, "pay-1");
    EXPECT_EQ(ev[0].hash, eth::hex(t.hash));
    EXPECT_EQ(ev[0].block_number, confirmed.mined_block);
    EXPECT_EQ(run(rpc_->transactionCount(key_->address(), "latest")), U256(1));
}

TEST_F(TxManagerTest, ACrashBeforeOrAfterSendingLeavesNoGapAndNoDuplicate) {
    const auto a_to = eth::PrivateKey::generate().address();
    const auto b_to = eth::PrivateKey::generate().address();
    std::string a_id;
    std::string b_id;
    {
        // Signed and committed, then the process "dies" before its first pass.
        auto m = manager();
        a_id = enqueue(*m, transfer("crash-a", a_to, 1000)).id;
    }
    {
        // Signed, committed, sent by the pass, and it "dies" before recording that it sent.
        auto m = manager();
        auto b = enqueue(*m, transfer("crash-b", b_to, 2000));
        b_id = b.id;
        EXPECT_EQ(b.nonce, 1) << "the nonce after the unsent one, never a reused one";
        run(rpc_->sendRawTransaction(b.raw));
    }
    auto m = manager();  // the restart
    until(*m, a_id, "confirmed");
    until(*m, b_id, "confirmed");
    EXPECT_EQ(run(rpc_->balance(a_to)), U256(1000));
    EXPECT_EQ(run(rpc_->balance(b_to)), U256(2000)) << "sent twice, credited once";
    EXPECT_EQ(run(rpc_->transactionCount(key_->address(), "latest")), U256(2));
    EXPECT_EQ(nextNonce(), 2);
}

TEST_F(TxManagerTest, AStuckTransactionIsReplacedAndOnlyOneVersionConfirms) {
    TxSettings s;
    s.replace_after = std::chrono::milliseconds(0);
    auto m = manager(s);
    const auto to = eth::PrivateKey::generate().address();
    rpc("evm_setAutomine", {json::value(false)});
    auto t = enqueue(*m, transfer("stuck-1", to, 777));
    run(m->runOnce());  // sent, waiting in the pool
    // The base fee jumps past what it was signed for: the next block leaves it out.
    const U256 high = t.max_fee * 10;
    rpc("anvil_setNextBlockBaseFeePerGas", {json::value(eth::quantity(high))});
    mine();
    EXPECT_FALSE(run(rpc_->receipt(t.hash)).has_value());
    run(m->runOnce());  // stuck: replaced with a fee over the new base, and sent
    auto replaced = run(TxStore::byId(*pool_, t.id));
    ASSERT_TRUE(replaced.has_value());
    ASSERT_EQ(replaced->hashes.size(), 2u);
    EXPECT_NE(replaced->hash, t.hash);
    EXPECT_GT(replaced->max_fee, high);
    auto r = events("chain.tx.replaced", t.id);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].replaced_hash, eth::hex(t.hash));
    EXPECT_EQ(r[0].hash, eth::hex(replaced->hash));
    mine();
    rpc("evm_setAutomine", {json::value(true)});
    auto done = until(*m, t.id, "confirmed");
    EXPECT_EQ(done.mined_hash, replaced->hash);
    EXPECT_FALSE(run(rpc_->receipt(t.hash)).has_value()) << "the first version never mined";
    EXPECT_EQ(run(rpc_->balance(to)), U256(777));
    EXPECT_EQ(events("chain.tx.confirmed", t.id).size(), 1u);
    EXPECT_EQ(run(rpc_->transactionCount(key_->address(), "latest")), U256(1));
}

TEST_F(TxManagerTest, ARevertedTransactionFailsWithItsEvent) {
    // A token whose minter is someone else: our signer's mint reverts.
    std::ifstream in(std::string(RESTINU_SOURCE_DIR) +
                     "/services/blockchain/contracts/build/PaymentToken.json");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto code = *eth::unhex(json::parse(ss.str()).at("bytecode").as_string());
    const auto other = eth::PrivateKey::generate().address();
    auto m = manager();
    TxIntent deploy;
    deploy.purpose = "test.deploy";
    deploy.reference = "token";
    deploy.data =
        code + eth::abi::encode({"string", "string", "address", "address"},
                                {eth::abi::Value::bytes("Rupee"), eth::abi::Value::bytes("tINR"),
                                 eth::abi::Value::address(other), eth::abi::Value::address(other)});
    auto d = until(*m, enqueue(*m, deploy).id, "confirmed");
    ASSERT_FALSE(d.contract_address.empty());
    EXPECT_EQ(events("chain.tx.confirmed", d.id).at(0).contract_address, d.contract_address);
    TxIntent mint;
    mint.purpose = "test.mint";
    mint.reference = "m1";
    mint.to = eth::Address::parse(d.contract_address);
    mint.data = eth::abi::encodeCall("mint(address,uint256)",
                                     {eth::abi::Value::address(other), eth::abi::Value::uint(5)});
    mint.gas_limit = 100000;  // given: estimating would refuse a call that reverts
    auto failed = until(*m, enqueue(*m, mint).id, "failed");
    EXPECT_EQ(failed.receipt_status, 0);
    ASSERT_EQ(events("chain.tx.failed", failed.id).size(), 1u);
    EXPECT_TRUE(events("chain.tx.confirmed", failed.id).empty());
}

TEST_F(TxManagerTest, AReorgThatDropsItsBlockSendsItAgain) {
    TxSettings s;
    s.confirmations = 3;
    auto m = manager(s);
    const auto to = eth::PrivateKey::generate().address();
    mine();  // the funding transfer is below the snapshot
    const auto snapshot = rpc("evm_snapshot", {});
    auto t = enqueue(*m, transfer("reorg-1", to, 4242));
    auto mined = until(*m, t.id, "mined", false);
    const auto first_block = mined.mined_block_hash;
    // The chain goes back under it and grows again without it.
    rpc("evm_revert", {snapshot});
    mine(2);
    auto done = until(*m, t.id, "confirmed");
    EXPECT_NE(done.mined_block_hash, first_block);
    EXPECT_EQ(run(rpc_->balance(to)), U256(4242));
    EXPECT_EQ(events("chain.tx.confirmed", t.id).size(), 1u);
}

}  // namespace
}  // namespace restinu::blockchain
