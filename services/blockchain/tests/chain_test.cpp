// The Ethereum primitives against a real node (anvil, started by scripts/testenv.sh): a signed
// EIP-1559 transaction is accepted with the hash we computed and the sender we derived, a
// contract deployed from the committed build artifacts lands at the address we predicted, ABI
// calls and logs decode to what was sent, and anvil's own personal_sign recovers to its account.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "abi.hpp"
#include "keccak.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/http_client.hpp"
#include "rpc.hpp"
#include "transaction.hpp"

namespace restinu::blockchain::eth {
namespace {

namespace json = boost::json;

// anvil's first two development accounts (public, funded on every fresh anvil).
constexpr std::string_view kDevKey0 =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr std::string_view kDevKey1 =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

struct Artifact {
    std::string bytecode;
};

Artifact artifact(const std::string& name) {
    std::ifstream in(std::string(RESTINU_SOURCE_DIR) + "/services/blockchain/contracts/build/" +
                     name + ".json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = json::parse(ss.str());
    return {*unhex(v.at("bytecode").as_string())};
}

class ChainTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* url = std::getenv("RESTINU_TEST_ANVIL_URL");
        ASSERT_NE(url, nullptr) << "run under scripts/testenv.sh (RESTINU_TEST_ANVIL_URL)";
        http_ = std::make_unique<rt::HttpClient>(io_);
        rpc_ = std::make_unique<RpcClient>(*http_, url);
    }

    template <class T>
    T run(rt::Task<T> t) {
        return rt::runBlocking(io_, std::move(t));
    }

    // Signs and sends `tx` from `key` with its next nonce; waits for the receipt.
    std::pair<SignedTx, json::object> send(const PrivateKey& key, Eip1559Tx tx) {
        tx.chain_id = 31337;
        tx.nonce = run(rpc_->transactionCount(key.address(), "pending"));
        tx.max_priority_fee_per_gas = 1'000'000'000;
        tx.max_fee_per_gas = *parseDecimal("100000000000");
        if (tx.gas_limit == 0) {
            tx.gas_limit = 3'000'000;
        }
        auto signed_tx = sign(tx, key);
        const auto node_hash = run(rpc_->sendRawTransaction(signed_tx.raw));
        EXPECT_EQ(hex(node_hash), hex(signed_tx.hash)) << "the node hashes what we hashed";
        for (int i = 0; i < 200; ++i) {
            auto r = run(rpc_->receipt(signed_tx.hash));
            if (r) {
                return {signed_tx, *r};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ADD_FAILURE() << "no receipt for " << hex(signed_tx.hash);
        return {signed_tx, {}};
    }

    rt::IoContext io_;
    std::unique_ptr<rt::HttpClient> http_;
    std::unique_ptr<RpcClient> rpc_;
};

TEST_F(ChainTest, TheNodeTakesOurSignedTransferWithOurHashAndSender) {
    EXPECT_EQ(run(rpc_->chainId()), U256(31337));
    const auto key = *PrivateKey::parse(kDevKey0);
    const auto to = PrivateKey::generate().address();
    Eip1559Tx tx;
    tx.to = to;
    tx.value = *parseDecimal("1234567890123456789");
    tx.gas_limit = 21000;
    auto [signed_tx, receipt] = send(key, tx);
    EXPECT_EQ(receipt.at("status").as_string(), "0x1");
    EXPECT_EQ(run(rpc_->balance(to)), tx.value);
    auto got = run(rpc_->call("eth_getTransactionByHash", {json::value(hex(signed_tx.hash))}));
    EXPECT_EQ(Address::parse(got.at("from").as_string()), key.address());
    EXPECT_EQ(got.at("type").as_string(), "0x2");
    // The same bytes again: the node refuses them (already known or nonce too low).
    EXPECT_THROW(run(rpc_->sendRawTransaction(signed_tx.raw)), RpcError);
}

TEST_F(ChainTest, AContractDeploysWhereWePredictedAndAnswersThroughTheAbi) {
    const auto admin = *PrivateKey::parse(kDevKey0);
    const auto minter = *PrivateKey::parse(kDevKey1);
    Eip1559Tx deploy;
    deploy.data =
        artifact("PaymentToken").bytecode +
        abi::encode({"string", "string", "address", "address"},
                    {abi::Value::bytes("Test Rupee"), abi::Value::bytes("tINR"),
                     abi::Value::address(admin.address()), abi::Value::address(minter.address())});
    const auto nonce = run(rpc_->transactionCount(admin.address(), "pending"));
    auto [d, receipt] = send(admin, deploy);
    ASSERT_EQ(receipt.at("status").as_string(), "0x1");
    const auto token = *Address::parse(std::string(receipt.at("contractAddress").as_string()));
    EXPECT_EQ(token, contractAddress(admin.address(), nonce));

    auto call = [&](std::string_view sig, const std::vector<abi::Value>& args,
                    const std::vector<std::string>& out) {
        return abi::decode(out,
                           run(rpc_->callContract(token, abi::encodeCall(sig, args), "latest")));
    };
    EXPECT_EQ(call("decimals()", {}, {"uint8"})[0].asUint(), U256(2));
    EXPECT_EQ(call("symbol()", {}, {"string"})[0].asBytes(), "tINR");

    const auto holder = PrivateKey::generate().address();
    Eip1559Tx mint;
    mint.to = token;
    mint.data = abi::encodeCall("mint(address,uint256)",
                                {abi::Value::address(holder), abi::Value::uint(150000)});
    auto [m, minted] = send(minter, mint);
    ASSERT_EQ(minted.at("status").as_string(), "0x1");
    EXPECT_EQ(call("balanceOf(address)", {abi::Value::address(holder)}, {"uint256"})[0].asUint(),
              U256(150000));
    // The Transfer log: topic 0 the event, topics 1 and 2 the parties, data the amount.
    const auto& logs = minted.at("logs").as_array();
    ASSERT_EQ(logs.size(), 1u);
    const auto& log = logs[0].as_object();
    const auto& topics = log.at("topics").as_array();
    ASSERT_EQ(topics.size(), 3u);
    EXPECT_EQ(*unhex(topics[0].as_string()), abi::eventTopic("Transfer(address,address,uint256)"));
    EXPECT_EQ(abi::decodeTopic("address", *unhex(topics[1].as_string())).asAddress(), Address());
    EXPECT_EQ(abi::decodeTopic("address", *unhex(topics[2].as_string())).asAddress(), holder);
    EXPECT_EQ(abi::decode({"uint256"}, bytesOf(log, "data"))[0].asUint(), U256(150000));

    // A mint by someone without the role reverts: the node says so, nothing is minted.
    const auto stranger = *PrivateKey::parse(kDevKey0);
    Eip1559Tx bad = mint;
    bad.gas_limit = 200000;
    auto [b, reverted] = send(stranger, bad);
    EXPECT_EQ(reverted.at("status").as_string(), "0x0");
    EXPECT_EQ(call("balanceOf(address)", {abi::Value::address(holder)}, {"uint256"})[0].asUint(),
              U256(150000));
}

TEST_F(ChainTest, AnvilsPersonalSignRecoversToItsAccount) {
    const auto dev = *PrivateKey::parse(kDevKey0);
    const std::string message = "example.com wants you to sign in with your Ethereum account";
    auto sig = run(rpc_->call("personal_sign",
                              {json::value(hex(message)), json::value(dev.address().lower())}));
    auto parsed = Signature::fromRsv(*unhex(sig.as_string()));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(recoverSigner(personalMessageDigest(message), *parsed), dev.address());
    // And ours is the same bytes (RFC 6979 on both sides).
    EXPECT_EQ(hex(dev.sign(personalMessageDigest(message)).rsv()), sig.as_string());
}

TEST_F(ChainTest, AnUnreachableNodeIsUnavailableNotAnRpcError) {
    rt::HttpClient http(io_);
    RpcClient dead(http, "http://127.0.0.1:1");
    EXPECT_THROW(run(dead.chainId()), RpcUnavailable);
    EXPECT_THROW(RpcClient(http, "https://127.0.0.1:8545"), std::invalid_argument);
    EXPECT_THROW(RpcClient(http, "http://127.0.0.1:0"), std::invalid_argument);
}

}  // namespace
}  // namespace restinu::blockchain::eth
