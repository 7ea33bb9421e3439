// Wallets through their routes, as the gateway forwards them (signed identity), on a fresh chain
// database: linking by a signed Sign-In with Ethereum challenge (only the issued text, only by
// its user, only signed by its address, once, before it expires), custodial wallets sealed to
// their user and address, one wallet per account, and every refusal's problem.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <thread>

#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "fresh_database.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "service_client.hpp"
#include "siwe.hpp"
#include "wallet_handlers.hpp"
#include "wallet_store.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
using Reply = testing::ServiceClient::Reply;

constexpr std::string_view kSealKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";  // 0x20..0x3f

struct Options {
    std::string ttl = "10m";
    bool seal_key = true;
};

class WalletTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("wallets", "blockchain"); }

    // The wallet routes alone, wired as the service wires them.
    static rt::ServiceSpec walletSpec() {
        rt::ServiceSpec s;
        s.name = "blockchain";
        s.database = std::string(registry::find("blockchain")->database);
        s.configure = [](rt::Config& c) {
            auto settings = std::make_shared<WalletSettings>(readWalletSettings(c));
            return rt::WireFn{[settings](rt::Shard& shard) { addWalletRoutes(shard, *settings); }};
        };
        return s;
    }

    static std::string config(const Options& o) {
        std::string yaml =
            "pg:\n  url: \"" + testenv::pgConninfo() + "\"\n  database: " + db_ +
            "\n  pool_size: 2\nredis:\n  port: " + std::to_string(testenv::redisPort()) +
            "\nidentity:\n  secret: \"test-identity-secret-of-at-least-32-chars\"\n"
            "bus:\n  consume: false\nlog:\n  access: false\n"
            "chain:\n  chain_id: 31337\n  wallets:\n    domain: app.restinu.test\n"
            "    uri: https://app.restinu.test/wallet\n    challenge_ttl: " +
            o.ttl + "\n";
        if (o.seal_key) {
            yaml += "    seal_key: \"" + std::string(kSealKey) + "\"\n";
        }
        return yaml;
    }

    void SetUp() override { start({}); }

    void start(const Options& o) {
        if (pool_) {
            pool_->close();
            pool_.reset();
        }
        client_ = std::make_unique<testing::ServiceClient>(walletSpec(), config(o));
        rt::PgOptions po;
        po.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        po.size = 1;
        pool_ = std::make_unique<rt::PgPool>(client_->io(), po);
    }

    void TearDown() override { pool_->close(); }

    static rt::Identity person() { return rt::Identity{rt::newUuidV7(), {"investor"}, "s"}; }

    Reply send(rt::Method m, const std::string& target, const std::optional<rt::Identity>& who,
               const std::string& body = "") {
        testing::ServiceClient::Call c{m, target, body};
        c.who = who;
        return client_->send(c);
    }
    Reply challenge(const rt::Identity& who, const std::string& address) {
        return send(rt::Method::Post, "/api/v1/wallets/challenge", who,
                    json::serialize(json::object{{"address", address}}));
    }
    Reply link(const rt::Identity& who, const std::string& message, const std::string& signature) {
        return send(rt::Method::Post, "/api/v1/wallets/link", who,
                    json::serialize(json::object{{"message", message}, {"signature", signature}}));
    }
    Reply mine(const rt::Identity& who) {
        return send(rt::Method::Get, "/api/v1/users/me/wallet", who);
    }
    Reply custodial(const rt::Identity& who) {
        return send(rt::Method::Post, "/api/v1/wallets/custodial", who);
    }

    // The message of a new challenge for `key`'s address, issued to `who`.
    std::string issued(const rt::Identity& who, const eth::PrivateKey& key) {
        auto r = challenge(who, key.address().checksummed());
        EXPECT_EQ(r.status, 201) << r.raw.body;
        return r.status == 201 ? std::string(r.body.at("message").as_string()) : "";
    }

    static std::string sign(const eth::PrivateKey& key, const std::string& message) {
        return eth::hex(key.sign(eth::personalMessageDigest(message)).rsv());
    }

    static std::string typeOf(const Reply& r) {
        return r.body.is_object() && r.body.as_object().contains("type")
                   ? std::string(r.body.at("type").as_string())
                   : "";
    }

    // The first column of the first row of `sql` (bound `user_id`), "" when no row.
    std::string scalar(const std::string& sql, const std::string& param) {
        auto r = rt::runBlocking(client_->io(), pool_->query(sql, param));
        return r.rows() == 0 ? "" : std::string(r.get(0, 0));
    }

    static inline std::string db_;
    std::unique_ptr<testing::ServiceClient> client_;
    std::unique_ptr<rt::PgPool> pool_;
};

#define EXPECT_PROBLEM(reply, status_, slug)                                        \
    do {                                                                            \
        const auto& r_ = (reply);                                                   \
        EXPECT_EQ(r_.status, status_) << r_.raw.body;                               \
        EXPECT_EQ(typeOf(r_), "https://restinu.dev/problems/" slug) << r_.raw.body; \
    } while (false)

TEST_F(WalletTest, EveryRouteNeedsASignedInCaller) {
    EXPECT_EQ(send(rt::Method::Post, "/api/v1/wallets/challenge", std::nullopt,
                   R"({"address":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"})")
                  .status,
              401);
    EXPECT_EQ(send(rt::Method::Post, "/api/v1/wallets/link", std::nullopt, "{}").status, 401);
    EXPECT_EQ(send(rt::Method::Post, "/api/v1/wallets/custodial", std::nullopt).status, 401);
    EXPECT_EQ(send(rt::Method::Get, "/api/v1/users/me/wallet", std::nullopt).status, 401);
}

TEST_F(WalletTest, ALinkedWalletIsTheAddressThatSignedItsChallenge) {
    auto asha = person();
    auto key = eth::PrivateKey::generate();
    EXPECT_PROBLEM(mine(asha), 404, "not-found");

    auto issued_reply = challenge(asha, key.address().lower());  // lower case is taken as it is
    ASSERT_EQ(issued_reply.status, 201) << issued_reply.raw.body;
    const std::string message(issued_reply.body.at("message").as_string());
    const std::string nonce(issued_reply.body.at("nonce").as_string());
    auto m = siwe::parse(message);
    ASSERT_TRUE(m) << message;
    EXPECT_EQ(m->domain, "app.restinu.test");
    EXPECT_EQ(m->uri, "https://app.restinu.test/wallet");
    EXPECT_EQ(m->chain_id, 31337U);
    EXPECT_EQ(m->address, key.address());
    EXPECT_EQ(m->nonce, nonce);
    EXPECT_GE(nonce.size(), 16U);
    EXPECT_EQ(m->expiration_time, std::string(issued_reply.body.at("expires_at").as_string()));
    EXPECT_EQ(*siwe::parseRfc3339(*m->expiration_time) - *siwe::parseRfc3339(m->issued_at),
              std::chrono::minutes(10));
    EXPECT_NE(message.find("\n" + key.address().checksummed() + "\n"), std::string::npos);

    auto linked = link(asha, message, sign(key, message));
    ASSERT_EQ(linked.status, 201) << linked.raw.body;
    EXPECT_EQ(linked.body.at("address"), key.address().checksummed().c_str());
    EXPECT_EQ(linked.body.at("kind"), "linked");
    auto got = mine(asha);
    ASSERT_EQ(got.status, 200) << got.raw.body;
    EXPECT_EQ(got.body, linked.body);
    EXPECT_EQ(scalar("SELECT used_at IS NOT NULL FROM wallet_challenges WHERE nonce = $1", nonce),
              "t");
    EXPECT_EQ(
        scalar("SELECT sealed_key IS NULL FROM wallets WHERE user_id = $1::uuid", asha.user_id),
        "t");
}

TEST_F(WalletTest, AnotherUserCannotUseMyChallenge) {
    auto asha = person();
    auto ravi = person();
    auto key = eth::PrivateKey::generate();
    const auto message = issued(asha, key);
    const auto signature = sign(key, message);
    EXPECT_PROBLEM(link(ravi, message, signature), 422, "wallet-challenge-invalid");
    EXPECT_PROBLEM(mine(ravi), 404, "not-found");
    EXPECT_EQ(link(asha, message, signature).status, 201) << "still open for Asha";
}

TEST_F(WalletTest, ASignatureByAnotherKeyIsRefusedAndNothingIsStored) {
    auto asha = person();
    auto key = eth::PrivateKey::generate();
    auto other = eth::PrivateKey::generate();
    const auto message = issued(asha, key);
    EXPECT_PROBLEM(link(asha, message, sign(other, message)), 422, "wallet-signature-invalid");
    // A signature of another text by the right key is no better.
    EXPECT_PROBLEM(link(asha, message, sign(key, message + ".")), 422, "wallet-signature-invalid");
    EXPECT_PROBLEM(mine(asha), 404, "not-found");
    EXPECT_EQ(scalar("SELECT count(*) FROM wallets WHERE user_id = $1::uuid", asha.user_id), "0");
    EXPECT_EQ(scalar("SELECT count(*) FROM wallet_challenges WHERE user_id = $1::uuid AND "
                     "used_at IS NULL",
                     asha.user_id),
              "1")
        << "the challenge stays open";
    EXPECT_EQ(link(asha, message, sign(key, message)).status, 201);
}

TEST_F(WalletTest, AMessageAlteredByOneByteIsRefused) {
    auto asha = person();
    auto key = eth::PrivateKey::generate();
    const auto message = issued(asha, key);
    auto altered = message;
    altered[altered.find("Link this")] = 'l';  // the statement, still valid EIP-4361
    EXPECT_PROBLEM(link(asha, altered, sign(key, altered)), 422, "wallet-challenge-invalid");
    auto other_nonce = message;
    other_nonce[other_nonce.find("Nonce: ") + 7] ^= 0x20;  // a letter's case, or a digit → char
    auto r = link(asha, other_nonce, sign(key, other_nonce));
    EXPECT_EQ(r.status, 422) << r.raw.body;
    auto later = message;
    auto& digit = later[later.find("Expiration Time: ") + 17 + 3];  // the year's last digit
    digit = digit == '9' ? '8' : '9';
    EXPECT_PROBLEM(link(asha, later, sign(key, later)), 422, "wallet-challenge-invalid");
    auto elsewhere = message;
    elsewhere.replace(0, std::string("app.restinu.test").size(), "app.restinu.tesu");
    auto r2 = link(asha, elsewhere, sign(key, elsewhere));
    EXPECT_PROBLEM(r2, 422, "validation-failed");
    EXPECT_PROBLEM(mine(asha), 404, "not-found");
    EXPECT_EQ(link(asha, message, sign(key, message)).status, 201);
}

TEST_F(WalletTest, AUsedChallengeIsNeverAcceptedAgain) {
    auto asha = person();
    auto key = eth::PrivateKey::generate();
    const auto message = issued(asha, key);
    const auto signature = sign(key, message);
    ASSERT_EQ(link(asha, message, signature).status, 201);
    EXPECT_PROBLEM(link(asha, message, signature), 409, "wallet-exists");
    // Even with the wallet gone (by hand), the used challenge does not link again.
    rt::runBlocking(client_->io(),
                    pool_->query("DELETE FROM wallets WHERE user_id = $1::uuid", asha.user_id));
    EXPECT_PROBLEM(link(asha, message, signature), 422, "wallet-challenge-invalid");
    EXPECT_PROBLEM(mine(asha), 404, "not-found");
}

TEST_F(WalletTest, AnExpiredChallengeIsRefused) {
    Options tiny;
    tiny.ttl = "1s";
    start(tiny);
    auto asha = person();
    auto key = eth::PrivateKey::generate();
    const auto message = issued(asha, key);
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    EXPECT_PROBLEM(link(asha, message, sign(key, message)), 422, "wallet-challenge-expired");
    EXPECT_PROBLEM(mine(asha), 404, "not-found");
}

TEST_F(WalletTest, AnAccountHasOneWalletAndAnAddressOneAccount) {
    auto asha = person();
    auto ravi = person();
    auto key = eth::PrivateKey::generate();
    const auto message = issued(asha, key);
    ASSERT_EQ(link(asha, message, sign(key, message)).status, 201);
    EXPECT_PROBLEM(challenge(asha, eth::PrivateKey::generate().address().checksummed()), 409,
                   "wallet-exists");
    EXPECT_PROBLEM(custodial(asha), 409, "wallet-exists");
    EXPECT_EQ(mine(asha).body.at("kind"), "linked");

    // Ravi holds the same key: he may ask and sign, but the address is Asha's.
    const auto his = issued(ravi, key);
    EXPECT_PROBLEM(link(ravi, his, sign(key, his)), 409, "wallet-exists");
    EXPECT_PROBLEM(mine(ravi), 404, "not-found");
    EXPECT_EQ(scalar("SELECT used_at IS NULL FROM wallet_challenges WHERE user_id = $1::uuid",
                     ravi.user_id),
              "t")
        << "the refused link left his challenge unused (one transaction)";

    ASSERT_EQ(custodial(ravi).status, 201);
    EXPECT_PROBLEM(challenge(ravi, key.address().checksummed()), 409, "wallet-exists");
}

TEST_F(WalletTest, OpenChallengesAreCappedAndTheOldestGoes) {
    auto asha = person();
    auto key = eth::PrivateKey::generate();
    std::vector<std::string> messages;
    for (int i = 0; i <= kMaxOpenChallenges; ++i) {
        messages.push_back(issued(asha, key));
    }
    EXPECT_EQ(
        scalar("SELECT count(*) FROM wallet_challenges WHERE user_id = $1::uuid", asha.user_id),
        std::to_string(kMaxOpenChallenges));
    EXPECT_PROBLEM(link(asha, messages.front(), sign(key, messages.front())), 422,
                   "wallet-challenge-invalid");
    EXPECT_EQ(link(asha, messages.back(), sign(key, messages.back())).status, 201);
}

TEST_F(WalletTest, ACustodialKeyIsSealedToItsUserAndAddress) {
    auto asha = person();
    auto made = custodial(asha);
    ASSERT_EQ(made.status, 201) << made.raw.body;
    EXPECT_EQ(made.body.at("kind"), "custodial");
    const std::string address(made.body.at("address").as_string());
    EXPECT_EQ(mine(asha).body, made.body);
    EXPECT_EQ(made.raw.body.find("key"), std::string::npos) << made.raw.body;

    const auto seal = *decodeSealKey(kSealKey);
    auto key =
        rt::runBlocking(client_->io(), WalletStore::custodialKey(*pool_, seal, asha.user_id));
    ASSERT_TRUE(key);
    EXPECT_EQ(key->address().checksummed(), address);

    const auto lower = key->address().lower();
    const auto sealed =
        scalar("SELECT sealed_key FROM wallets WHERE user_id = $1::uuid", asha.user_id);
    ASSERT_FALSE(sealed.empty());
    const auto secret_hex = eth::hex(key->exportSecret()).substr(2);
    EXPECT_EQ(sealed.find(secret_hex), std::string::npos);
    EXPECT_EQ(lower.find(secret_hex), std::string::npos);
    EXPECT_TRUE(unsealCustodialKey(seal, asha.user_id, lower, sealed));
    EXPECT_FALSE(unsealCustodialKey(seal, rt::newUuidV7(), lower, sealed)) << "another user";
    EXPECT_FALSE(unsealCustodialKey(seal, asha.user_id,
                                    eth::PrivateKey::generate().address().lower(), sealed))
        << "another address";
    auto wrong_key = seal;
    wrong_key[0] ^= 1;
    EXPECT_FALSE(unsealCustodialKey(wrong_key, asha.user_id, lower, sealed)) << "another key";
    auto tampered = sealed;
    tampered[40] = tampered[40] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(unsealCustodialKey(seal, asha.user_id, lower, tampered)) << "changed";
    EXPECT_FALSE(unsealCustodialKey(seal, asha.user_id, lower, "not base64")) << "not one";

    // Each custodial wallet has its own key.
    auto ravi = custodial(person());
    ASSERT_EQ(ravi.status, 201);
    EXPECT_NE(ravi.body.at("address"), made.body.at("address"));
}

TEST_F(WalletTest, WithoutASealKeyCustodialWalletsAreUnavailableAndLinkingStillWorks) {
    Options without;
    without.seal_key = false;
    start(without);
    auto asha = person();
    auto r = custodial(asha);
    EXPECT_PROBLEM(r, 503, "service-unavailable");
    EXPECT_EQ(r.raw.header("Retry-After"), "60");
    EXPECT_PROBLEM(mine(asha), 404, "not-found");
    auto key = eth::PrivateKey::generate();
    const auto message = issued(asha, key);
    EXPECT_EQ(link(asha, message, sign(key, message)).status, 201);
}

TEST_F(WalletTest, BadInputIsRefusedNamingEachField) {
    auto asha = person();
    auto fields = [](const Reply& r) {
        std::set<std::string> out;
        if (r.body.is_object() && r.body.as_object().contains("errors")) {
            for (const auto& e : r.body.at("errors").as_array()) {
                out.insert(std::string(e.at("field").as_string()));
            }
        }
        return out;
    };
    auto bad = send(rt::Method::Post, "/api/v1/wallets/challenge", asha,
                    R"({"address":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD","colour":1})");
    EXPECT_PROBLEM(bad, 422, "validation-failed");
    EXPECT_EQ(fields(bad), (std::set<std::string>{"address", "colour"})) << "a bad checksum";
    auto empty = send(rt::Method::Post, "/api/v1/wallets/link", asha, "{}");
    EXPECT_PROBLEM(empty, 422, "validation-failed");
    EXPECT_EQ(fields(empty), (std::set<std::string>{"message", "signature"}));
    auto short_sig = link(asha, "hello", "0x1234");
    EXPECT_EQ(fields(short_sig), (std::set<std::string>{"signature"}));
    auto not_siwe = link(asha, "hello", "0x" + std::string(128, '1') + "1b");
    EXPECT_PROBLEM(not_siwe, 422, "validation-failed");
    EXPECT_EQ(fields(not_siwe), (std::set<std::string>{"message"}));
    EXPECT_EQ(send(rt::Method::Post, "/api/v1/wallets/link", asha, "not json").status, 400);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM wallet_challenges WHERE user_id = $1::uuid", asha.user_id),
        "0");
}

}  // namespace
}  // namespace restinu::blockchain
