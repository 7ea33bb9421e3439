#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <random>

#include "handler_support.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/jwt.hpp"
#include "user_fixture.hpp"

namespace restinu::user {
namespace {

namespace net = boost::asio;
namespace json = boost::json;

using AuthTest = UserServiceTest;

TEST_F(AuthTest, RegisterNormalisesTheEmailAndRefusesTheSameAddressInAnotherCase) {
    auto email = unique("Ana.Rao");
    auto r = call(kRegister, creds("  " + email + " ", kPassword));
    ASSERT_EQ(r.status, 201) << json::serialize(r.body);
    std::string lower = email;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    EXPECT_EQ(r.body.at("email").as_string(), lower);
    EXPECT_EQ(r.body.at("role").as_string(), "investor");
    std::string upper = email;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    auto again = call(kRegister, creds(upper, kPassword));
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(again.body.at("type").as_string(), "https://restinu.dev/problems/email-taken");
}

TEST_F(AuthTest, ConcurrentRegistrationsInDifferentCaseMakeOneAccount) {
    auto email = unique("race");
    std::string upper = email;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    std::vector<int> statuses;
    auto one = [&](std::string e) -> rt::Task<void> {
        auto res = co_await client_->answer(request(kRegister, creds(e, kPassword)));
        statuses.push_back(res.status);
    };
    net::co_spawn(io(), one(email), net::detached);
    net::co_spawn(io(), one(upper), net::detached);
    while (statuses.size() < 2) {
        io().restart();
        io().run_one();
    }
    std::sort(statuses.begin(), statuses.end());
    EXPECT_EQ(statuses, (std::vector<int>{201, 409}));
    auto count = rt::runBlocking(
        io(), pool_->query("SELECT count(*) FROM users WHERE lower(email) = lower($1)", email));
    EXPECT_EQ(count.getInt(0, 0), 1);
}

TEST_F(AuthTest, WeakPasswordsAndBadEmailsAre422NamingTheField) {
    auto r = call(kRegister, creds(unique("weak"), "short"));
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body.at("errors").as_array()[0].at("field").as_string(), "password");
    r = call(kRegister, creds(unique("common"), "password1234"));
    EXPECT_EQ(r.status, 422);
    r = call(kRegister, creds("not-an-email", kPassword));
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body.at("errors").as_array()[0].at("field").as_string(), "email");
    r = call(kRegister, "{\"email\": ");
    EXPECT_EQ(r.status, 400);
}

TEST_F(AuthTest, UnknownEmailAndWrongPasswordGetTheSameAnswer) {
    auto email = unique("same");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    auto wrong = call(kLogin, creds(email, "not the passphrase"), "", "10.1.0.1");
    auto unknown = call(kLogin, creds(unique("nobody"), kPassword), "", "10.1.0.2");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(unknown.status, 401);
    auto strip = [](json::value v) {
        v.as_object().erase("request_id");
        return json::serialize(v);
    };
    EXPECT_EQ(strip(wrong.body), strip(unknown.body));
    auto failed = rt::runBlocking(
        io(), pool_->query("SELECT count(*) FROM restinu_outbox WHERE type = 'user.login_failed'"));
    EXPECT_GE(failed.getInt(0, 0), 2);
}

// Failures slow down the address they come from, on this account, with a growing wait; the
// owner (another address) signs in meanwhile. Before, every login behind the gateway shared one
// address and ten failures locked the account (and everyone) for 15 minutes.
TEST_F(AuthTest, FailuresSlowTheirAddressNotTheAccountsOwner) {
    auto email = unique("throttle");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    const std::string attacker = "203.0.113.7";
    for (int i = 0; i < 3; ++i) {  // the free failures
        EXPECT_EQ(call(kLogin, creds(email, "wrong passphrase!!"), "", attacker).status, 401);
    }
    // The fourth failure sets a wait of 2 s for this address on this account.
    EXPECT_EQ(call(kLogin, creds(email, "wrong passphrase!!"), "", attacker).status, 401);
    auto slowed = call(kLogin, creds(email, kPassword), "", attacker);
    EXPECT_EQ(slowed.status, 429);
    EXPECT_EQ(slowed.body.at("type").as_string(),
              "https://restinu.dev/problems/too-many-login-attempts");
    auto retry = std::stoi(std::string(slowed.raw.header("Retry-After")));
    EXPECT_GE(retry, 1);
    EXPECT_LE(retry, 2);
    // The owner, from elsewhere, is not locked out.
    EXPECT_EQ(call(kLogin, creds(email, kPassword), "", "198.51.100.20").status, 200);
    // The waits grow: the n-th failure past the free ones waits 2^n s.
    rt::runBlocking(io(), pool_->query("UPDATE login_throttle SET locked_until = NULL"));
    call(kLogin, creds(email, "wrong passphrase!!"), "", attacker);  // 5th
    auto waits = rt::runBlocking(
        io(), pool_->query("SELECT failures, ceil(extract(epoch FROM locked_until - now()))::int "
                           "FROM login_throttle WHERE key = $1",
                           "ip-account:" + attacker + " " + email));
    ASSERT_EQ(waits.rows(), 1u);
    EXPECT_EQ(waits.getInt(0, 0), 5);
    EXPECT_EQ(waits.getInt(0, 1), 4);
}

// A failure after a quiet hour counts from one again, and its wait comes from that new count
// (before, the wait came from the old count: a few guesses an hour kept an account locked).
TEST_F(AuthTest, AQuietHourStartsTheCountAgain) {
    auto email = unique("quiet");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    const std::string ip = "203.0.113.8";
    for (int i = 0; i < 5; ++i) {
        call(kLogin, creds(email, "wrong passphrase!!"), "", ip);
        rt::runBlocking(io(), pool_->query("UPDATE login_throttle SET locked_until = NULL"));
    }
    rt::runBlocking(io(), pool_->query("UPDATE login_throttle SET last_failure = now() - "
                                       "interval '61 minutes', locked_until = NULL"));
    EXPECT_EQ(call(kLogin, creds(email, "wrong passphrase!!"), "", ip).status, 401);
    EXPECT_EQ(count("SELECT count(*) FROM login_throttle WHERE key LIKE '%' || $1 || '%' AND "
                    "(failures <> 1 OR locked_until IS NOT NULL)",
                    ip),
              0);
    EXPECT_EQ(call(kLogin, creds(email, kPassword), "", ip).status, 200);
}

// One address trying many accounts is slowed down across them (credential stuffing); other
// addresses are not.
TEST_F(AuthTest, OneAddressTryingManyAccountsIsSlowedAcrossThem) {
    const std::string ip = "203.0.113.9";
    for (int i = 0; i < 7; ++i) {  // the fixture's per-address policy: 6 free failures
        auto r = call(kLogin, creds(unique("nobody"), "wrong passphrase!!"), "", ip);
        EXPECT_EQ(r.status, 401) << i;
    }
    auto email = unique("stuffed");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    EXPECT_EQ(call(kLogin, creds(email, kPassword), "", ip).status, 429);
    EXPECT_EQ(call(kLogin, creds(email, kPassword), "", "203.0.113.10").status, 200);
}

TEST_F(AuthTest, AnOverlongPasswordIsRefusedBeforeItIsHashed) {
    auto r = call(kLogin, creds(unique("long"), std::string(100'000, 'a')));
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body.at("errors").at(0).at("field").as_string(), "password");
}

TEST_F(AuthTest, RefreshRotatesAndReuseRevokesTheWholeFamily) {
    auto email = unique("rotate");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    std::string first;
    loginToken(email, kPassword, &first);
    auto body = [](const std::string& t) {
        return json::serialize(json::object{{"refresh_token", t}});
    };
    auto r1 = call(kRefresh, body(first));
    ASSERT_EQ(r1.status, 200);
    std::string second(r1.body.at("refresh_token").as_string());
    EXPECT_NE(second, first);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'session.refresh' AND "
                    "actor_id = (SELECT id::text FROM users WHERE email = $1)",
                    email),
              1);
    // The first token again: reuse. Its family (the session) is revoked, so the second dies too.
    auto reuse = call(kRefresh, body(first));
    EXPECT_EQ(reuse.status, 401);
    EXPECT_EQ(call(kRefresh, body(second)).status, 401);
    EXPECT_EQ(call(kRefresh, body("garbage")).status, 401);
}

TEST_F(AuthTest, MeNeedsAValidTokenAndATamperedOneIsRefused) {
    auto email = unique("me");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    auto token = loginToken(email, kPassword, nullptr);
    auto me = call(kMe, "", token);
    ASSERT_EQ(me.status, 200);
    EXPECT_EQ(me.body.at("role").as_string(), "investor");
    EXPECT_EQ(call(kMe, "").status, 401);
    auto tampered = token;
    tampered[tampered.find('.') + 5] ^= 1;
    EXPECT_EQ(call(kMe, "", tampered).status, 401);
    // alg "none" with the same claims
    auto payload = token.substr(token.find('.') + 1);
    payload = payload.substr(0, payload.find('.'));
    EXPECT_EQ(call(kMe, "", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + ".").status, 401);
    // Signed an hour ago (expired), and signed by a key the service never published.
    auto claims = keys_->verifier().verify(token, rt::unixSeconds());
    ASSERT_TRUE(claims);
    auto expired = keys_->signer().sign(claims->subject, claims->roles, claims->session_id,
                                        rt::unixSeconds() - 3600);
    EXPECT_EQ(call(kMe, "", expired).status, 401);
    rt::TokenSigner stranger(rt::generateSigningKey("stranger"), "restinu", "restinu-api",
                             std::chrono::seconds(900));
    auto unknown_kid =
        stranger.sign(claims->subject, claims->roles, claims->session_id, rt::unixSeconds());
    auto refused = call(kMe, "", unknown_kid);
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(refused.body.at("type").as_string(), "https://restinu.dev/problems/unauthorized");
}

TEST_F(AuthTest, OneUserCannotSeeOrRevokeAnothersSessions) {
    auto a = unique("alice");
    auto b = unique("bob");
    ASSERT_EQ(call(kRegister, creds(a, kPassword)).status, 201);
    ASSERT_EQ(call(kRegister, creds(b, kPassword)).status, 201);
    std::string b_refresh;
    auto ta = loginToken(a, kPassword, nullptr);
    auto tb = loginToken(b, kPassword, &b_refresh);
    auto bs = call(kSessions, "", tb);
    ASSERT_EQ(bs.status, 200);
    ASSERT_EQ(bs.body.at("items").as_array().size(), 1u);
    std::string b_session(bs.body.at("items").as_array()[0].at("id").as_string());
    auto as = call(kSessions, "", ta);
    for (const auto& s : as.body.at("items").as_array()) {
        EXPECT_NE(s.at("id").as_string(), b_session);
    }
    EXPECT_EQ(call(kRevokeSession, "", ta, "10.0.0.1", b_session).status, 404);
    auto refresh_b = json::serialize(json::object{{"refresh_token", b_refresh}});
    auto still = call(kRefresh, refresh_b);
    ASSERT_EQ(still.status, 200);
    // B revokes its own session: its refresh token stops working at once.
    EXPECT_EQ(call(kRevokeSession, "", tb, "10.0.0.1", b_session).status, 204);
    auto after = json::serialize(json::object{{"refresh_token", still.body.at("refresh_token")}});
    EXPECT_EQ(call(kRefresh, after).status, 401);
    EXPECT_EQ(call(kRevokeSession, "", tb, "10.0.0.1", "not-a-uuid").status, 404);
}

TEST_F(AuthTest, JwksListsTheSigningKey) {
    auto r = call(kJwks, "");
    ASSERT_EQ(r.status, 200);
    auto keys = r.body.at("keys").as_array();
    ASSERT_FALSE(keys.empty());
    EXPECT_EQ(keys[0].at("kty").as_string(), "EC");
    EXPECT_EQ(keys[0].at("alg").as_string(), "ES256");
}

}  // namespace
}  // namespace restinu::user
