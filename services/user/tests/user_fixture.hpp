#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <random>

#include "account_handlers.hpp"
#include "auth_handlers.hpp"
#include "fresh_database.hpp"
#include "kyc_handlers.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::user {

// The user service's handlers against a fresh users database (one per test binary), called as
// the router would call them.
class UserServiceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("users", "user"); }

    void SetUp() override {
        rt::PgOptions o;
        o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        o.size = 8;
        pool_ = std::make_unique<rt::PgPool>(io_, o);
        keys_ = std::make_unique<KeyRing>("restinu", "restinu-api", std::chrono::seconds(900),
                                          keyVault());
        rt::runBlocking(io_, keys_->load(*pool_));
        AuthSettings s;
        s.throttle.per_account_and_address = {3, std::chrono::seconds(900)};
        s.throttle.per_address = {6, std::chrono::seconds(900)};
        handlers_ = std::make_unique<AuthHandlers>(*pool_, workers_, *keys_, s);
        accounts_ = std::make_unique<AccountHandlers>(*pool_, keys_->verifier());
        std::string why;
        kyc_ = std::make_unique<KycHandlers>(*pool_, keys_->verifier(),
                                             *KycVault::fromBase64(kVaultKey, &why),
                                             [] { return today_; });
    }
    void TearDown() override { pool_->close(); }

    struct Reply {
        int status;
        boost::json::value body;
        rt::Response raw;
    };

    template <class H>
    H& handlersFor() {
        if constexpr (std::is_same_v<H, AuthHandlers>) {
            return *handlers_;
        } else if constexpr (std::is_same_v<H, AccountHandlers>) {
            return *accounts_;
        } else {
            return *kyc_;
        }
    }

    // Runs one handler with a JSON body (and a bearer token when given); `param` fills the
    // route's one path parameter (`id` or `user_id`), `query` the query string.
    template <class H>
    Reply call(rt::Task<rt::Response> (H::*fn)(rt::Request&), const std::string& body,
               const std::string& token = "", const std::string& ip = "10.0.0.1",
               const std::string& param = "", const std::string& query = "") {
        rt::Request req;
        req.body = body;
        req.remote_ip = "127.0.0.1";  // the gateway
        req.client_ip = ip;           // the client, as the gateway signed it
        req.request_id = "test";
        req.query = query;
        std::string auth = "Bearer " + token;
        req.headers = {{"Content-Type", "application/json"}};
        if (!token.empty()) {
            req.headers.emplace_back("Authorization", auth);
        }
        if (!param.empty()) {
            req.params = {{"id", param}, {"user_id", param}};
        }
        rt::Response res;
        try {
            res = rt::runBlocking(io_, (handlersFor<H>().*fn)(req));
        } catch (const rt::ApiError& e) {
            res = rt::problemResponse(e.problem(), "/x", "test");
        }
        boost::json::value v;
        if (!res.body.empty()) {
            v = boost::json::parse(res.body);
        }
        return {res.status, v, res};
    }

    static std::string creds(const std::string& email, const std::string& password) {
        return boost::json::serialize(
            boost::json::object{{"email", email}, {"password", password}});
    }
    std::string unique(const std::string& name) {
        static std::mt19937_64 rng{std::random_device{}()};
        return name + std::to_string(rng() % 100000000) + "@example.com";
    }
    std::string loginToken(const std::string& email, const std::string& pw, std::string* refresh) {
        auto r = call(&AuthHandlers::login, creds(email, pw));
        EXPECT_EQ(r.status, 200) << boost::json::serialize(r.body);
        if (refresh != nullptr) {
            *refresh = std::string(r.body.at("refresh_token").as_string());
        }
        return std::string(r.body.at("access_token").as_string());
    }

    /// A new account with `role` (set in the database, as the admin CLI would); its access
    /// token, and its id in `*id`.
    std::string account(const std::string& name, const std::string& role, std::string* id) {
        auto email = unique(name);
        auto r = call(&AuthHandlers::registerUser, creds(email, kPassword));
        EXPECT_EQ(r.status, 201) << boost::json::serialize(r.body);
        std::string uid(r.body.at("id").as_string());
        if (role != "investor") {
            rt::runBlocking(
                io_, pool_->query("UPDATE users SET role = $2 WHERE id = $1::uuid", uid, role));
        }
        if (id != nullptr) {
            *id = uid;
        }
        return loginToken(email, kPassword, nullptr);
    }

    std::int64_t count(const std::string& sql, const std::string& arg) {
        return rt::runBlocking(io_, pool_->query(sql, arg)).getInt(0, 0);
    }

    // The signing keys' key-encryption key (one for every test of the binary).
    static const KeyVault& keyVault() {
        static const KeyVault vault = *KeyVault::fromBase64(kKeyEncryptionKey, {}, nullptr);
        return vault;
    }

    static inline std::string db_;
    static inline std::chrono::year_month_day today_{std::chrono::year{2026},
                                                     std::chrono::month{11}, std::chrono::day{25}};

    boost::asio::io_context io_;
    rt::WorkerPool workers_{2};
    std::unique_ptr<rt::PgPool> pool_;
    std::unique_ptr<KeyRing> keys_;
    std::unique_ptr<AuthHandlers> handlers_;
    std::unique_ptr<AccountHandlers> accounts_;
    std::unique_ptr<KycHandlers> kyc_;
    static constexpr const char* kPassword = "a long enough passphrase";
    static constexpr const char* kKeyEncryptionKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    static constexpr const char* kVaultKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
};

}  // namespace restinu::user
