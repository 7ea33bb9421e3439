#pragma once

// The platform's contracts on the test anvil (scripts/testenv.sh) and a fresh chain_db per
// test, for the indexer's tests: deploys from the committed artifacts, sends signed
// transactions and waits for their receipts, runs the indexer until it is caught up.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "abi.hpp"
#include "fresh_database.hpp"
#include "indexer.hpp"
#include "indexer_store.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pg.hpp"
#include "rpc.hpp"
#include "transaction.hpp"

namespace restinu::blockchain::indexer_testing {

namespace json = boost::json;
using eth::Address;
using eth::PrivateKey;
using eth::U256;
namespace abi = eth::abi;

// anvil's first development account: the operator (every operational role) and deployer.
inline constexpr std::string_view kDevKey0 =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
inline constexpr std::string_view kPropertyId = "8f14e45f-ceea-467a-9c4e-4e2a7c1b0d31";

/// One deployment of the platform's contracts: registry, payment token, deed and shares, the
/// treasury registered and holding the 1,000 shares.
struct Deployment {
    Address registry;
    Address payment;
    Address deed;
    Address shares;
    std::int64_t first_block = 0;  ///< the registry's deployment block
};

class IndexerTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* url = std::getenv("RESTINU_TEST_ANVIL_URL");
        ASSERT_NE(url, nullptr) << "run under scripts/testenv.sh (RESTINU_TEST_ANVIL_URL)";
        db_ = testenv::freshDatabase("chain_idx", "blockchain");
        http_ = std::make_unique<rt::HttpClient>(io_);
        rpc_ = std::make_unique<eth::RpcClient>(*http_, url);
        rt::PgOptions o;
        o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        o.size = 2;
        pool_ = std::make_unique<rt::PgPool>(io_, o);
        op_ = std::make_unique<PrivateKey>(*PrivateKey::parse(kDevKey0));
        treasury_ = fundedKey();
        alice_ = fundedKey();
        bob_ = fundedKey();
    }

    void TearDown() override {
        indexer_.reset();
        pool_->close();
    }

    template <class T>
    T run(rt::Task<T> t) {
        return rt::runBlocking(io_, std::move(t));
    }

    json::value rpc(std::string method, json::array params = {}) {
        return run(rpc_->call(std::move(method), std::move(params)));
    }

    std::unique_ptr<PrivateKey> fundedKey() {
        auto key = std::make_unique<PrivateKey>(PrivateKey::generate());
        rpc("anvil_setBalance",
            {json::value(key->address().lower()), json::value("0x56bc75e2d63100000")});  // 100 ETH
        return key;
    }

    /// Signs and sends from `key`, waits for the receipt; fails the test on a revert.
    json::object send(const PrivateKey& key, std::optional<Address> to, std::string data) {
        eth::Eip1559Tx tx;
        tx.chain_id = 31337;
        tx.nonce = run(rpc_->transactionCount(key.address(), "pending"));
        tx.max_priority_fee_per_gas = 1'000'000'000;
        tx.max_fee_per_gas = *eth::parseDecimal("100000000000");
        tx.gas_limit = 6'000'000;
        tx.to = to;
        tx.data = std::move(data);
        auto signed_tx = eth::sign(tx, key);
        run(rpc_->sendRawTransaction(signed_tx.raw));
        for (int i = 0; i < 500; ++i) {
            auto r = run(rpc_->receipt(signed_tx.hash));
            if (r) {
                EXPECT_EQ(r->at("status").as_string(), "0x1")
                    << "reverted: " << json::serialize(*r);
                return *r;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ADD_FAILURE() << "no receipt for " << eth::hex(signed_tx.hash);
        return {};
    }

    json::object call(const PrivateKey& key, const Address& to, std::string_view sig,
                      const std::vector<abi::Value>& args) {
        return send(key, to, abi::encodeCall(sig, args));
    }

    static std::int64_t blockOf(const json::object& receipt) {
        return static_cast<std::int64_t>(eth::quantityOf(receipt, "blockNumber"));
    }

    /// Deploys `name` from its artifact with constructor `args` of `types`.
    std::pair<Address, std::int64_t> deploy(const std::string& name,
                                            const std::vector<std::string>& types,
                                            const std::vector<abi::Value>& args) {
        std::ifstream in(std::string(RESTINU_SOURCE_DIR) + "/services/blockchain/contracts/build/" +
                         name + ".json");
        std::stringstream ss;
        ss << in.rdbuf();
        auto code = *eth::unhex(json::parse(ss.str()).at("bytecode").as_string());
        auto r = send(*op_, std::nullopt, code + abi::encode(types, args));
        return {*Address::parse(std::string(r.at("contractAddress").as_string())), blockOf(r)};
    }

    Deployment deployPlatform() {
        Deployment p;
        const auto admin = PrivateKey::generate().address();  // the timelock's place
        const auto op = op_->address();
        std::tie(p.registry, p.first_block) =
            deploy("IdentityRegistry", {"address", "address"},
                   {abi::Value::address(admin), abi::Value::address(op)});
        p.payment = deploy("PaymentToken", {"string", "string", "address", "address"},
                           {abi::Value::bytes("Local INR"), abi::Value::bytes("INRL"),
                            abi::Value::address(admin), abi::Value::address(op)})
                        .first;
        p.deed = deploy("PropertyDeed", {"string", "string", "address", "address"},
                        {abi::Value::bytes("Deed"), abi::Value::bytes("RIUDEED"),
                         abi::Value::address(admin), abi::Value::address(op)})
                     .first;
        registerIdentity(p, treasury_->address());
        std::string property_id(16, '\x8f');
        p.shares =
            deploy("PropertyShares",
                   {"string", "string", "bytes32", "uint256", "uint256", "address", "address",
                    "address", "address", "address"},
                   {abi::Value::bytes("Sea View shares"), abi::Value::bytes("RIU-SV"),
                    abi::Value::bytes(property_id + std::string(16, '\0')), abi::Value::uint(1000),
                    abi::Value::uint(250000), abi::Value::address(treasury_->address()),
                    abi::Value::address(p.registry), abi::Value::address(p.payment),
                    abi::Value::address(admin), abi::Value::address(op)})
                .first;
        return p;
    }

    void registerIdentity(const Deployment& p, const Address& wallet) {
        call(*op_, p.registry, "registerIdentity(address)", {abi::Value::address(wallet)});
    }

    json::object transferShares(const Deployment& p, const PrivateKey& from, const Address& to,
                                std::uint64_t amount) {
        return call(from, p.shares, "transfer(address,uint256)",
                    {abi::Value::address(to), abi::Value::uint(amount)});
    }

    /// The contract's answer to a view function returning one uint256.
    U256 viewUint(const Address& contract, std::string_view sig,
                  const std::vector<abi::Value>& args) {
        auto out = run(rpc_->callContract(contract, abi::encodeCall(sig, args), "latest"));
        return abi::decode({"uint256"}, out)[0].asUint();
    }

    U256 balanceOf(const Deployment& p, const Address& holder) {
        return viewUint(p.shares, "balanceOf(address)", {abi::Value::address(holder)});
    }

    void watch(const Address& a, ContractKind kind, std::optional<std::string> property,
               std::int64_t from) {
        std::function<rt::Task<void>(rt::PgConn&)> body = [a, kind, property,
                                                           from](rt::PgConn& tx) -> rt::Task<void> {
            co_await IndexerStore::watch(tx, a.checksummed(), kind, property, from);
        };
        run(pool_->transaction(std::move(body)));
    }

    void watchAll(const Deployment& p) {
        watch(p.registry, ContractKind::Registry, std::nullopt, p.first_block);
        watch(p.deed, ContractKind::Deed, std::string(kPropertyId), p.first_block);
        watch(p.shares, ContractKind::Shares, std::string(kPropertyId), p.first_block);
    }

    Indexer& indexer(int confirmations) {
        IndexerSettings s;
        s.confirmations = confirmations;
        s.batch_blocks = 7;  // small, so that catching up takes several passes
        indexer_ = std::make_unique<Indexer>(io_, *pool_, *rpc_, s, metrics_);
        return *indexer_;
    }

    /// Passes until one is not behind; what they did in all.
    IndexerPass catchUp() {
        IndexerPass all;
        for (int i = 0; i < 100; ++i) {
            auto p = run(indexer_->runOnce());
            all.blocks += p.blocks;
            all.logs += p.logs;
            all.duplicates += p.duplicates;
            all.rolled_back += p.rolled_back;
            all.events += p.events;
            if (!p.behind) {
                return all;
            }
        }
        ADD_FAILURE() << "the indexer did not catch up in 100 passes";
        return all;
    }

    std::int64_t count(std::string sql, std::vector<rt::PgParam> params = {}) {
        auto r = run(pool_->query(sql, std::move(params)));
        return r.getInt(0, 0);
    }
    std::int64_t outbox(std::string_view type) {
        return count("SELECT count(*) FROM restinu_outbox WHERE type = $1", {std::string(type)});
    }

    /// The indexed balance of `holder` in the platform's shares (0 if none).
    U256 indexedBalance(const Deployment& p, const Address& holder) {
        for (const auto& h : run(IndexerStore::holdings(*pool_, holder.checksummed()))) {
            if (h.contract == p.shares.lower()) {
                return h.balance;
            }
        }
        return 0;
    }

    std::uint64_t reorgs() {
        return metrics_.counter("restinu_chain_indexer_reorgs_total", "", {}).labels({}).value();
    }

    rt::IoContext io_;
    std::string db_;
    std::unique_ptr<rt::HttpClient> http_;
    std::unique_ptr<eth::RpcClient> rpc_;
    std::unique_ptr<rt::PgPool> pool_;
    rt::MetricsRegistry metrics_;
    std::unique_ptr<Indexer> indexer_;
    std::unique_ptr<PrivateKey> op_;
    std::unique_ptr<PrivateKey> treasury_;
    std::unique_ptr<PrivateKey> alice_;
    std::unique_ptr<PrivateKey> bob_;
};

}  // namespace restinu::blockchain::indexer_testing
