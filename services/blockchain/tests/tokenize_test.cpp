// Tokenizing a listing through the service's routes (as the gateway forwards them) on a real
// PostgreSQL and a real anvil: the platform deployed, the deed minted with its metadata's CID,
// the shares contract deployed with the whole supply at the treasury, the flow completed by its
// own chain events; who may, bad bodies, a second request.
#include "tokenize.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "abi.hpp"
#include "cid.hpp"
#include "dev_chain.hpp"
#include "fresh_database.hpp"
#include "platform.hpp"
#include "restinu/blockchain/service.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/http_client.hpp"
#include "rpc.hpp"
#include "service_client.hpp"
#include "settings.hpp"
#include "transaction.hpp"
#include "tx_manager.hpp"
#include "views.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
using eth::U256;
using eth::abi::Value;

constexpr std::string_view kGovernance = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
constexpr testing::Route kTokenize{rt::Method::Post, "/api/v1/properties/{id}/tokenize"};
constexpr testing::Route kShow{rt::Method::Get, "/api/v1/properties/{id}/tokenize"};
constexpr testing::Route kRent{rt::Method::Post, "/api/v1/properties/{id}/rent"};
constexpr testing::Route kPortfolio{rt::Method::Get, "/api/v1/users/me/portfolio"};

rt::Identity person(const std::string& role) {
    return rt::Identity{rt::newUuidV7(), {role}, "s"};
}

class TokenizeTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("chain_tok", "blockchain"); }

    void SetUp() override {
        url_ = std::getenv("RESTINU_TEST_ANVIL_URL");
        dir_ = std::filesystem::temp_directory_path() / ("restinu-meta-" + rt::newUuidV7());
        http_ = std::make_unique<rt::HttpClient>(io_);
        rpc_ = std::make_unique<eth::RpcClient>(*http_, url_);
        rt::PgOptions o;
        o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        o.size = 2;
        pool_ = std::make_unique<rt::PgPool>(io_, o);
        if (!key_) {  // one operator for the suite: the platform is deployed once
            key_ = eth::PrivateKey::generate();
            fund(key_->address());
        }
        const std::string yaml =
            "pg:\n  url: \"" + testenv::pgConninfo() + "\"\n  database: " + db_ +
            "\n  pool_size: 2\nredis:\n  port: " + std::to_string(testenv::redisPort()) +
            "\nidentity:\n  secret: \"test-identity-secret-of-at-least-32-chars\"\n"
            "bus:\n  consume: false\nlog:\n  access: false\nchain:\n  rpc_url: \"" +
            url_ + "\"\n  operator_key: \"" + keyHex() + "\"\n  governance_address: \"" +
            std::string(kGovernance) + "\"\n  confirmations: 1\n  poll: 50ms\n" +
            "  metadata:\n    dir: \"" + dir_.string() + "\"\n  app_url: \"https://app.test\"\n";
        auto s = spec();
        s.database = std::string(registry::find("blockchain")->database);
        client_ = std::make_unique<testing::ServiceClient>(s, yaml);
        settings_.governance = eth::Address::parse(kGovernance);
        settings_.timelock_delay = std::chrono::seconds(3600);
        settings_.tx.chain_id = 31337;
        settings_.tx.confirmations = 1;
        TxManager tx(io_, *pool_, *rpc_, *key_, settings_.tx, metrics_);
        run(tx.init());
        platform_ = run(deployPlatform(*pool_, tx, settings_, [](const std::string&) {}));
    }

    void TearDown() override {
        client_.reset();
        pool_->close();
        std::filesystem::remove_all(dir_);
    }

    template <class T>
    T run(rt::Task<T> t) {
        return rt::runBlocking(io_, std::move(t));
    }

    std::string keyHex() const { return eth::hex(key_->exportSecret()); }

    void fund(const eth::Address& to) {
        run(testchain::fund(*rpc_, to, *eth::parseDecimal("100000000000000000000")));
    }

    // A listing as the property service's event carries it, applied to the service's view.
    std::string listing(const std::string& status = "active") {
        const auto id = rt::newUuidV7();
        json::object row{{"id", id},
                         {"owner_id", rt::newUuidV7()},
                         {"status", status},
                         {"title", "Sea-facing flat in Bandra"},
                         {"description", "Three bedrooms, two balconies."},
                         {"property_type", "apartment"},
                         {"city", "Mumbai"},
                         {"state", "Maharashtra"},
                         {"country", "IN"},
                         {"bedrooms", 3},
                         {"area_sqft", 1450},
                         {"images", json::array{}}};
        contracts::PropertyChanged c;
        c.listing_json = json::serialize(row);
        c.version = 1;
        auto e = rt::makeEvent("property.created", "property", id, c.data());
        run(pool_->transaction(
            [&](rt::PgConn& tx) -> rt::Task<void> { co_await applyListingEvent(tx, e); }));
        return id;
    }

    testing::ServiceClient::Reply call(const testing::Route& r, const std::string& id,
                                       const std::string& body, std::optional<rt::Identity> who) {
        testing::ServiceClient::Call c(r.method, r.target({{"id", id}}), body);
        c.who = std::move(who);
        return client_->send(std::move(c));
    }

    // Lets the service's sender run, feeding the flow its chain events, until `done`.
    bool until(const std::function<bool()>& done) {
        for (int i = 0; i < 100; ++i) {
            boost::asio::steady_timer t(client_->io(), std::chrono::milliseconds(50));
            rt::runBlocking(client_->io(), [&t]() -> rt::Task<void> {
                co_await t.async_wait(boost::asio::use_awaitable);
            }());
            auto events = run(pool_->query(
                "SELECT id::text, type, aggregate_id, data::text, seq FROM restinu_outbox "
                "WHERE aggregate_type = 'chain_tx' AND seq > $1::bigint ORDER BY seq",
                fed_));
            for (std::size_t k = 0; k < events.rows(); ++k) {
                auto e =
                    rt::makeEvent(std::string(events.get(k, 1)), "chain_tx",
                                  std::string(events.get(k, 2)), std::string(events.get(k, 3)));
                run(pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
                    co_await Tokenizer::applyChainTx(tx, e);
                }));
                fed_ = events.getInt(k, 4);
            }
            if (done()) {
                return true;
            }
        }
        return false;
    }

    std::vector<Value> view(const eth::Address& at, std::string_view sig,
                            const std::vector<Value>& args, const std::vector<std::string>& out) {
        return eth::abi::decode(
            out, run(rpc_->callContract(at, eth::abi::encodeCall(sig, args), "latest")));
    }

    static inline std::string db_;
    static inline std::optional<eth::PrivateKey> key_;
    static inline std::int64_t fed_ = 0;
    std::string url_;
    std::filesystem::path dir_;
    rt::IoContext io_;
    rt::MetricsRegistry metrics_;
    std::unique_ptr<rt::HttpClient> http_;
    std::unique_ptr<eth::RpcClient> rpc_;
    std::unique_ptr<rt::PgPool> pool_;
    std::unique_ptr<testing::ServiceClient> client_;
    ChainSettings settings_;
    Platform platform_;
};

TEST_F(TokenizeTest, AnAdminTokenizesAListingAndTheChainHoldsItsDeedAndShares) {
    const auto id = listing();
    const std::string body =
        R"({"total_shares":1000,"price_per_share":{"amount":250000,"currency":"INR"}})";
    auto r = call(kTokenize, id, body, person("admin"));
    ASSERT_EQ(r.status, 202) << json::serialize(r.body);
    EXPECT_EQ(r.body.at("state").as_string(), "pending");
    const std::string cid(r.body.at("metadata_cid").as_string());
    EXPECT_TRUE(cid::digestOf(cid).has_value());
    EXPECT_EQ(r.raw.header("Location"), "/api/v1/properties/" + id + "/tokenize");

    ASSERT_TRUE(until([&] {
        return call(kShow, id, "", std::nullopt).body.at("state").as_string() == "listed";
    }));
    auto shown = call(kShow, id, "", std::nullopt).body;
    const auto shares = *eth::Address::parse(std::string(shown.at("shares_contract").as_string()));
    const auto token_id = *eth::parseDecimal(shown.at("deed").at("token_id").as_string());
    // The deed: held by the treasury, pointing at the metadata by its CID.
    EXPECT_EQ(view(platform_.deed, "ownerOf(uint256)", {Value::uint(token_id)}, {"address"})[0]
                  .asAddress(),
              key_->address());
    EXPECT_EQ(
        view(platform_.deed, "tokenURI(uint256)", {Value::uint(token_id)}, {"string"})[0].asBytes(),
        "ipfs://" + cid);
    // The shares: the whole supply at the treasury, whole shares, the issue price on chain.
    EXPECT_EQ(view(shares, "totalSupply()", {}, {"uint256"})[0].asUint(), U256(1000));
    EXPECT_EQ(view(shares, "balanceOf(address)", {Value::address(key_->address())}, {"uint256"})[0]
                  .asUint(),
              U256(1000));
    EXPECT_EQ(view(shares, "decimals()", {}, {"uint8"})[0].asUint(), U256(0));
    EXPECT_EQ(view(shares, "issuePriceMinor()", {}, {"uint256"})[0].asUint(), U256(250000));
    // The metadata is stored under its CID, and names the listing.
    std::ifstream in(dir_ / cid, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(cid::ofBytes(ss.str()), cid);
    auto meta = json::parse(ss.str());
    EXPECT_EQ(meta.at("name").as_string(), "Sea-facing flat in Bandra");
    EXPECT_EQ(meta.at("external_url").as_string(), "https://app.test/properties/" + id);
    // The indexer follows the new shares contract.
    auto watched = run(pool_->query(
        "SELECT kind, property_id::text FROM chain_watched WHERE address = $1", shares.lower()));
    ASSERT_EQ(watched.rows(), 1u);
    EXPECT_EQ(watched.get(0, 1), id);
    // The listing is told (property.tokenized, for the property service).
    auto told = run(
        pool_->query("SELECT data::text FROM restinu_outbox WHERE type = 'property.tokenized' AND "
                     "aggregate_id = $1",
                     id));
    ASSERT_EQ(told.rows(), 1u);
    const auto t = contracts::PropertyTokenized::parse(told.get(0, 0));
    EXPECT_EQ(t.shares_contract, shares.checksummed());
    EXPECT_EQ(t.deed_contract, platform_.deed.checksummed());
    EXPECT_EQ(t.metadata_uri, "ipfs://" + cid);
    EXPECT_EQ(t.total_shares, 1000);
    // ... from its creation: the indexer has the whole supply's mint to the treasury.
    EXPECT_TRUE(until([&] {
        auto minted = run(pool_->query(
            "SELECT amount::text FROM chain_share_transfers WHERE contract = $1 AND "
            "from_address = '0x0000000000000000000000000000000000000000' AND to_address = $2",
            shares.lower(), key_->address().lower()));
        return minted.rows() == 1 && minted.get(0, 0) == "1000";
    }));
}

TEST_F(TokenizeTest, OnlyAnAdminTokenizesAnActiveListingOnceWithAValidBody) {
    const auto id = listing();
    const std::string body =
        R"({"total_shares":10,"price_per_share":{"amount":100,"currency":"INR"}})";
    EXPECT_EQ(call(kTokenize, id, body, std::nullopt).status, 401);
    EXPECT_EQ(call(kTokenize, id, body, person("agent")).status, 403);
    EXPECT_EQ(call(kTokenize, rt::newUuidV7(), body, person("admin")).status, 404);
    auto bad = call(kTokenize, id,
                    R"({"total_shares":0,"price_per_share":{"amount":-5,"currency":"USD"},)"
                    R"("symbol":"x"})",
                    person("admin"));
    EXPECT_EQ(bad.status, 422);
    const auto text = json::serialize(bad.body);
    for (auto f :
         {"total_shares", "price_per_share.amount", "price_per_share.currency", "symbol"}) {
        EXPECT_NE(text.find(f), std::string::npos) << f << " in " << text;
    }
    EXPECT_EQ(call(kTokenize, listing("draft"), body, person("admin")).status, 409);
    EXPECT_EQ(call(kShow, id, "", std::nullopt).status, 404);
    ASSERT_EQ(call(kTokenize, id, body, person("admin")).status, 202);
    EXPECT_EQ(call(kTokenize, id, body, person("admin")).status, 409) << "once per listing";
}

// A verified investor: the wallet registered on chain once KYC is approved, shares sent from
// the treasury, a period's rent deposited through the API, and the portfolio showing both as
// the indexer saw them; paying the same period again deposits nothing more.
TEST_F(TokenizeTest, AVerifiedInvestorsSharesAndRentShowInThePortfolio) {
    const auto id = listing();
    ASSERT_EQ(call(kTokenize, id,
                   R"({"total_shares":1000,"price_per_share":{"amount":250000,"currency":"INR"}})",
                   person("admin"))
                  .status,
              202);
    ASSERT_TRUE(until([&] {
        return call(kShow, id, "", std::nullopt).body.at("state").as_string() == "listed";
    }));
    const auto shares = *eth::Address::parse(
        std::string(call(kShow, id, "", std::nullopt).body.at("shares_contract").as_string()));

    // The investor's wallet and their approved KYC, as the wallet routes and the user
    // service's event would leave them.
    const auto investor = person("investor");
    const auto wallet = eth::PrivateKey::generate().address();
    run(pool_->query("INSERT INTO wallets (user_id, address, kind) VALUES ($1::uuid, $2, 'linked')",
                     investor.user_id, wallet.lower()));
    contracts::KycDecided kyc;
    kyc.approved = true;
    kyc.user_id = investor.user_id;
    kyc.decided_by = rt::newUuidV7();
    auto approved = rt::makeEvent(std::string(kyc.type()), "user", investor.user_id, kyc.data());
    run(pool_->transaction(
        [&](rt::PgConn& tx) -> rt::Task<void> { co_await applyKycEvent(tx, approved); }));
    ASSERT_TRUE(until([&] {
        return view(platform_.registry, "isVerified(address)", {Value::address(wallet)},
                    {"bool"})[0]
            .asBool();
    })) << "the identity registry follows the KYC decision";

    // 100 shares from the treasury, sent as the investment saga will send them.
    TxManager tx(io_, *pool_, *rpc_, *key_, settings_.tx, metrics_);
    TxIntent transfer;
    transfer.purpose = "test.shares";
    transfer.reference = id;
    transfer.to = shares;
    transfer.gas_limit = 150'000;
    transfer.data = eth::abi::encodeCall("transfer(address,uint256)",
                                         {Value::address(wallet), Value::uint(100)});
    const auto fees = run(tx.fees());
    run(pool_->transaction(
        [&](rt::PgConn& c) -> rt::Task<void> { co_await tx.enqueue(c, transfer, fees); }));

    // A period's rent: 1,000 rupees over 1,000 shares, 100 paise a share.
    const std::string rent = R"({"amount":{"amount":100000,"currency":"INR"},"period":"2026-11"})";
    EXPECT_EQ(call(kRent, id, rent, person("agent")).status, 403) << "not the owner";
    auto paid = call(kRent, id, rent, person("admin"));
    ASSERT_EQ(paid.status, 202) << json::serialize(paid.body);
    const std::string deposit_tx(paid.body.at("deposit_tx_id").as_string());

    auto portfolio = [&] {
        testing::ServiceClient::Call c(kPortfolio.method, kPortfolio.target());
        c.who = investor;
        return client_->send(std::move(c)).body;
    };
    ASSERT_TRUE(until([&] {
        auto p = portfolio();
        const auto& h = p.at("holdings").as_array();
        return h.size() == 1 && h[0].at("shares").as_int64() == 100 &&
               h[0].at("claimable_rent").at("amount").as_int64() == 10000;
    })) << json::serialize(portfolio());
    auto p = portfolio();
    EXPECT_EQ(p.at("wallet").at("address").as_string(), wallet.checksummed());
    const auto& h = p.at("holdings").at(0);
    EXPECT_EQ(h.at("property_id").as_string(), id);
    EXPECT_EQ(h.at("shares_contract").as_string(), shares.checksummed());
    EXPECT_EQ(h.at("value").at("amount").as_int64(), 100 * 250000);
    EXPECT_EQ(p.at("total_value").at("amount").as_int64(), 100 * 250000);
    EXPECT_EQ(p.at("total_claimable_rent").at("amount").as_int64(), 10000);

    // The same period again: the first deposit, nothing more; another amount: refused.
    auto again = call(kRent, id, rent, person("admin"));
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body.at("deposit_tx_id").as_string(), deposit_tx);
    EXPECT_EQ(call(kRent, id, R"({"amount":{"amount":5,"currency":"INR"},"period":"2026-11"})",
                   person("admin"))
                  .status,
              409);
    auto bad = call(kRent, id, R"({"amount":{"amount":0,"currency":"USD"},"period":"2026-13"})",
                    person("admin"));
    EXPECT_EQ(bad.status, 422);
    // Someone with no wallet has an empty portfolio.
    testing::ServiceClient::Call c(kPortfolio.method, kPortfolio.target());
    c.who = person("investor");
    auto empty = client_->send(std::move(c));
    EXPECT_EQ(empty.status, 200);
    EXPECT_TRUE(empty.body.at("wallet").is_null());
    EXPECT_TRUE(empty.body.at("holdings").as_array().empty());
}

}  // namespace
}  // namespace restinu::blockchain
