#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <random>

#include "async_test.hpp"
#include "fresh_database.hpp"
#include "key_ring.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/user/service.hpp"
#include "service_client.hpp"

namespace restinu::user {

using testing::Route;

namespace routes {
inline constexpr Route kRegister{rt::Method::Post, "/api/v1/auth/register"};
inline constexpr Route kLogin{rt::Method::Post, "/api/v1/auth/login"};
inline constexpr Route kRefresh{rt::Method::Post, "/api/v1/auth/refresh"};
inline constexpr Route kLogout{rt::Method::Post, "/api/v1/auth/logout"};
inline constexpr Route kMe{rt::Method::Get, "/api/v1/users/me"};
inline constexpr Route kUpdateMe{rt::Method::Patch, "/api/v1/users/me"};
inline constexpr Route kSessions{rt::Method::Get, "/api/v1/users/me/sessions"};
inline constexpr Route kRevokeSession{rt::Method::Delete, "/api/v1/users/me/sessions/{id}"};
inline constexpr Route kMyKyc{rt::Method::Get, "/api/v1/users/me/kyc"};
inline constexpr Route kSubmitKyc{rt::Method::Post, "/api/v1/users/me/kyc"};
inline constexpr Route kListUsers{rt::Method::Get, "/api/v1/admin/users"};
inline constexpr Route kChangeRole{rt::Method::Patch, "/api/v1/admin/users/{id}"};
inline constexpr Route kKycQueue{rt::Method::Get, "/api/v1/admin/kyc"};
inline constexpr Route kApproveKyc{rt::Method::Post, "/api/v1/admin/kyc/{user_id}/approve"};
inline constexpr Route kRejectKyc{rt::Method::Post, "/api/v1/admin/kyc/{user_id}/reject"};
inline constexpr Route kJwks{rt::Method::Get, "/.well-known/jwks.json"};
inline constexpr Route kPublicProfile{rt::Method::Get, "/api/v1/users/{id}/profile"};
}  // namespace routes
using namespace routes;

// The user service as `restinu user` wires it (routes, access rules, middleware, problems),
// against a fresh users database (one per test binary), through the in-process client: each
// request arrives as the gateway sends it, signed, with the client's address.
class UserServiceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("users", "user"); }

    static std::string config() {
        return "pg:\n  url: \"" + testenv::pgConninfo() + "\"\n  database: " + db_ +
               "\n  pool_size: 8\nredis:\n  port: " + std::to_string(testenv::redisPort()) +
               "\nidentity:\n  secret: \"" + std::string(kIdentitySecret) +
               "\"\nauth:\n  key_encryption_key: \"" + kKeyEncryptionKey +
               "\"\n  key_reload: 200ms\n  login_throttle:\n    free_failures_per_address: "
               "6\nkyc:\n"
               "  encryption_key: \"" +
               kVaultKey + "\"\nlog:\n  access: false\n";
    }

    void SetUp() override {
        client_ = std::make_unique<testing::ServiceClient>(spec(), config());
        rt::PgOptions o;
        o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        o.size = 4;
        pool_ = std::make_unique<rt::PgPool>(io(), o);
        // The service answers 503 until its signing keys are loaded (made on first start).
        for (int i = 0; i < 100 && client_->send({rt::Method::Get, "/readyz"}).status != 200; ++i) {
            rt::runBlocking(io(), testing::sleepFor(std::chrono::milliseconds(50)));
        }
        keys_ = std::make_unique<KeyRing>("restinu", "restinu-api", std::chrono::seconds(900),
                                          keyVault());
        rt::runBlocking(io(), keys_->load(*pool_));
    }
    void TearDown() override { pool_->close(); }

    /// The service's loop; the test's pool and tasks run on it.
    boost::asio::io_context& io() { return client_->io(); }

    static rt::ServiceSpec spec() {
        auto s = user::spec();
        // The registry's database name; the config names the test's own.
        s.database = std::string(registry::find("user")->database);
        return s;
    }

    using Reply = testing::ServiceClient::Reply;

    /// The request to `route` as the gateway forwards it: the caller of a valid access token
    /// signed as the identity (the gateway verifies tokens); an invalid one passed on as a
    /// bearer token for the service to refuse. `param` fills the route's path parameter.
    testing::ServiceClient::Call request(Route route, const std::string& body,
                                         const std::string& token = "",
                                         const std::string& ip = "10.0.0.1",
                                         const std::string& param = "",
                                         const std::string& query = "") {
        testing::ServiceClient::Call c{
            route.method, route.target({{"id", param}, {"user_id", param}}, query), body};
        c.client_ip = ip;
        if (!token.empty()) {
            if (auto claims = keys_->verifier().verify(token, rt::unixSeconds())) {
                c.who = rt::Identity{claims->subject, claims->roles, claims->session_id};
            } else {
                c.headers.emplace_back("Authorization", "Bearer " + token);
            }
        }
        return c;
    }

    Reply call(Route route, const std::string& body, const std::string& token = "",
               const std::string& ip = "10.0.0.1", const std::string& param = "",
               const std::string& query = "") {
        return client_->send(request(route, body, token, ip, param, query));
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
        auto r = call(kLogin, creds(email, pw));
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
        auto r = call(kRegister, creds(email, kPassword));
        EXPECT_EQ(r.status, 201) << boost::json::serialize(r.body);
        std::string uid(r.body.at("id").as_string());
        if (role != "investor") {
            rt::runBlocking(
                io(), pool_->query("UPDATE users SET role = $2 WHERE id = $1::uuid", uid, role));
        }
        if (id != nullptr) {
            *id = uid;
        }
        return loginToken(email, kPassword, nullptr);
    }

    std::int64_t count(const std::string& sql, const std::string& arg) {
        return rt::runBlocking(io(), pool_->query(sql, arg)).getInt(0, 0);
    }

    // The signing keys' key-encryption key (one for every test of the binary).
    static const KeyVault& keyVault() {
        static const KeyVault vault = *KeyVault::fromBase64(kKeyEncryptionKey, {}, nullptr);
        return vault;
    }

    static inline std::string db_;

    std::unique_ptr<testing::ServiceClient> client_;  // first: it owns the loop
    std::unique_ptr<rt::PgPool> pool_;
    std::unique_ptr<KeyRing> keys_;
    static constexpr const char* kPassword = "a long enough passphrase";
    static constexpr const char* kKeyEncryptionKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    static constexpr const char* kVaultKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    static constexpr const char* kIdentitySecret = "test-identity-secret-of-at-least-32-chars";
};

}  // namespace restinu::user
