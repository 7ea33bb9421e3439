#include <gtest/gtest.h>

#include "commands.hpp"
#include "handler_support.hpp"
#include "key_ring.hpp"
#include "kyc_vault.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/jwt.hpp"
#include "user_fixture.hpp"
#include "user_store.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;
using AccountTest = UserServiceTest;

std::string jsonText(json::object o) {
    return json::serialize(o);
}

TEST_F(AccountTest, PatchMeChangesNameE164PhoneAndLanguageAndAuditsIt) {
    std::string id;
    auto token = account("profile", "investor", &id);
    auto r = call(
        kUpdateMe,
        jsonText({{"name", "  Asha Rao "}, {"phone", "+91 98765-43210"}, {"language", "hi_in"}}),
        token);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_EQ(r.body.at("name").as_string(), "Asha Rao");
    EXPECT_EQ(r.body.at("phone").as_string(), "+919876543210");
    EXPECT_EQ(r.body.at("language").as_string(), "hi-IN");
    EXPECT_EQ(r.body.at("role").as_string(), "investor");
    EXPECT_EQ(r.body.at("kyc_status").as_string(), "none");
    // Only what is sent changes; null clears the phone.
    r = call(kUpdateMe, jsonText({{"phone", nullptr}}), token);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.at("phone").is_null());
    EXPECT_EQ(r.body.at("name").as_string(), "Asha Rao");
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'user.profile_update' AND "
                    "entity_id = $1",
                    id),
              2);
}

// The notification service keeps a copy of name, phone and language: each change is an event
// carrying the whole profile after it.
TEST_F(AccountTest, AProfileChangeIsAnEventWithTheWholeProfileAfterIt) {
    std::string id;
    auto token = account("profileevent", "investor", &id);
    ASSERT_EQ(
        call(kUpdateMe, jsonText({{"phone", "+91 98765-43210"}, {"language", "hi"}}), token).status,
        200);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'user.profile_changed' AND "
                    "aggregate_id = $1 AND data->>'phone' = '+919876543210' AND "
                    "data->>'language' = 'hi' AND data->>'email' LIKE 'profileevent%'",
                    id),
              1);
    EXPECT_EQ(call(kUpdateMe, R"({"phone":"98765"})", token).status, 422);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'user.profile_changed' AND "
                    "aggregate_id = $1",
                    id),
              1)
        << "a refused change tells nobody";
}

// A sign-in from a device (User-Agent) none of the account's sessions had is an event for the
// notification service; the first sign-in and a known device are not.
TEST_F(AccountTest, OnlyASignInFromANewDeviceIsAnEvent) {
    const auto email = unique("devices");
    auto reg = call(kRegister, creds(email, kPassword));
    ASSERT_EQ(reg.status, 201);
    const std::string id(reg.body.at("id").as_string());
    auto signIn = [&](const std::string& agent) {
        auto c = request(kLogin, creds(email, kPassword), "", "203.0.113.5", "", "");
        c.headers.emplace_back("User-Agent", agent);
        EXPECT_EQ(client_->send(c).status, 200);
    };
    auto events = [&] {
        return count(
            "SELECT count(*) FROM restinu_outbox WHERE type = 'user.login.new_device' "
            "AND aggregate_id = $1",
            id);
    };
    signIn("Phone/1.0");
    signIn("Phone/1.0");
    EXPECT_EQ(events(), 0);
    signIn("Laptop/2.0");
    EXPECT_EQ(events(), 1);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'user.login.new_device' "
                    "AND aggregate_id = $1 AND data->>'device' = 'Laptop/2.0' AND "
                    "data->>'ip' = '203.0.113.5'",
                    id),
              1);
}

// notification.email_verified marks the address verified only while it is the account's.
TEST_F(AccountTest, AVerifiedAddressIsMarkedOnlyIfItIsStillTheAccounts) {
    std::string id;
    auto token = account("verify", "investor", &id);
    EXPECT_EQ(call(kMe, "", token).body.at("email_verified"), false);
    auto mark = [&](const std::string& email) {
        return rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await UserStore::markEmailVerified(tx, id, email);
        }));
    };
    EXPECT_FALSE(mark("someone-else@example.com"));
    EXPECT_EQ(call(kMe, "", token).body.at("email_verified"), false);
    const std::string email(call(kMe, "", token).body.at("email").as_string());
    EXPECT_TRUE(mark(email));
    EXPECT_EQ(call(kMe, "", token).body.at("email_verified"), true);
}

TEST_F(AccountTest, BadProfileFieldsAre422NamingEachAndNothingChanges) {
    std::string id;
    auto token = account("badprofile", "investor", &id);
    auto r = call(kUpdateMe,
                  jsonText({{"name", "ok name"},
                            {"phone", "98765 43210"},
                            {"language", "english"},
                            {"email", "new@example.com"}}),
                  token);
    ASSERT_EQ(r.status, 422);
    std::vector<std::string> fields;
    for (const auto& e : r.body.at("errors").as_array()) {
        fields.emplace_back(e.at("field").as_string());
    }
    std::sort(fields.begin(), fields.end());
    EXPECT_EQ(fields, (std::vector<std::string>{"email", "language", "phone"}));
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = $1::uuid AND name = 'ok name'", id), 0);
}

TEST_F(AccountTest, NobodyChangesTheirOwnRole) {
    std::string id;
    auto token = account("climber", "investor", &id);
    auto r = call(kUpdateMe, jsonText({{"role", "admin"}}), token);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body.at("type").as_string(), "https://restinu.dev/problems/forbidden");
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = $1::uuid AND role = 'investor'", id), 1);
}

TEST_F(AccountTest, OnlyAdminsListUsersAndPagesNeverRepeat) {
    auto investor = account("lister", "investor", nullptr);
    EXPECT_EQ(call(kListUsers, "", investor).status, 403);
    auto agent = account("lister-agent", "agent", nullptr);
    EXPECT_EQ(call(kListUsers, "", agent).status, 403);
    auto admin = account("lister-admin", "admin", nullptr);
    std::set<std::string> seen;
    std::string cursor;
    int pages = 0;
    for (;;) {
        auto q = "limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor);
        auto r = call(kListUsers, "", admin, "10.0.0.1", "", q);
        ASSERT_EQ(r.status, 200) << json::serialize(r.body);
        for (const auto& u : r.body.at("items").as_array()) {
            EXPECT_TRUE(seen.insert(std::string(u.at("id").as_string())).second);
        }
        ++pages;
        if (r.body.at("next_cursor").is_null()) {
            break;
        }
        cursor = std::string(r.body.at("next_cursor").as_string());
    }
    EXPECT_EQ(static_cast<std::int64_t>(seen.size()),
              count("SELECT count(*) FROM users WHERE $1 = $1", "x"));
    EXPECT_GE(pages, 2);
    auto agents = call(kListUsers, "", admin, "10.0.0.1", "", "role=agent");
    ASSERT_EQ(agents.status, 200);
    for (const auto& u : agents.body.at("items").as_array()) {
        EXPECT_EQ(u.at("role").as_string(), "agent");
    }
    EXPECT_GE(agents.body.at("items").as_array().size(), 1u);
    auto bad = call(kListUsers, "", admin, "10.0.0.1", "", "limit=0&role=boss");
    EXPECT_EQ(bad.status, 422);
    EXPECT_EQ(bad.body.at("errors").as_array().size(), 2u);
    EXPECT_EQ(call(kListUsers, "", admin, "10.0.0.1", "", "cursor=zz").status, 422);
}

// A listing's page names its agent: anyone may read an agent's or admin's name, role and
// whether KYC approved them, and nothing else; an investor has no public profile.
TEST_F(AccountTest, AgentsHaveAPublicProfileAndNobodyElseDoes) {
    std::string agent_id;
    auto agent = account("lister", "agent", &agent_id);
    ASSERT_EQ(call(kUpdateMe, jsonText({{"name", "Meera Iyer"}, {"phone", "+919876543210"}}), agent)
                  .status,
              200);
    auto r = call(kPublicProfile, "", "", "10.0.0.1", agent_id);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_EQ(r.body.at("id").as_string(), agent_id);
    EXPECT_EQ(r.body.at("name").as_string(), "Meera Iyer");
    EXPECT_EQ(r.body.at("role").as_string(), "agent");
    EXPECT_FALSE(r.body.at("kyc_verified").as_bool());
    EXPECT_EQ(r.body.at("member_since").as_string().size(), 10U);  // YYYY-MM-DD
    // No e-mail, phone, language or KYC details.
    EXPECT_EQ(r.body.as_object().size(), 5U);
    EXPECT_EQ(r.raw.header("Cache-Control"), "public, max-age=300");

    std::string investor_id;
    auto investor = account("private", "investor", &investor_id);
    EXPECT_EQ(call(kPublicProfile, "", "", "10.0.0.1", investor_id).status, 404);
    EXPECT_EQ(call(kPublicProfile, "", investor, "10.0.0.1", investor_id).status, 404);
    EXPECT_EQ(
        call(kPublicProfile, "", "", "10.0.0.1", "00000000-0000-7000-8000-000000000000").status,
        404);
    auto bad = call(kPublicProfile, "", "", "10.0.0.1", "not-a-uuid");
    EXPECT_EQ(bad.status, 404);
    EXPECT_EQ(bad.body.at("type").as_string(), "https://restinu.dev/problems/not-found");
}

TEST_F(AccountTest, AnAdminChangesARoleWhichTheNextRefreshCarries) {
    std::string id;
    auto email = unique("promoted");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    std::string refresh;
    loginToken(email, kPassword, &refresh);
    id = std::string(
        rt::runBlocking(io(), pool_->query("SELECT id::text FROM users WHERE email = $1", email))
            .get(0, 0));
    std::string admin_id;
    auto admin = account("promoter", "admin", &admin_id);
    auto r = call(kChangeRole, jsonText({{"role", "agent"}}), admin, "10.0.0.1", id);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_EQ(r.body.at("role").as_string(), "agent");
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'user.role_changed' AND "
                    "aggregate_id = $1",
                    id),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'user.role_change' AND "
                    "entity_id = $1",
                    id),
              1);
    auto next = call(kRefresh, jsonText({{"refresh_token", refresh}}));
    ASSERT_EQ(next.status, 200);
    auto claims =
        keys_->verifier().verify(next.body.at("access_token").as_string(), rt::unixSeconds());
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->roles, std::vector<std::string>{"agent"});
    // Validation and not-found.
    EXPECT_EQ(call(kChangeRole, jsonText({{"role", "root"}}), admin, "10.0.0.1", id).status, 422);
    EXPECT_EQ(call(kChangeRole, jsonText({{"role", "agent"}}), admin, "10.0.0.1",
                   "00000000-0000-7000-8000-000000000000")
                  .status,
              404);
}

TEST_F(AccountTest, ANonAdminCannotChangeRolesAndAnAdminCannotDemoteThemselves) {
    std::string victim;
    account("victim", "investor", &victim);
    auto agent = account("wannabe", "agent", nullptr);
    EXPECT_EQ(call(kChangeRole, jsonText({{"role", "admin"}}), agent, "10.0.0.1", victim).status,
              403);
    std::string admin_id;
    auto admin = account("selfdemote", "admin", &admin_id);
    auto r = call(kChangeRole, jsonText({{"role", "investor"}}), admin, "10.0.0.1", admin_id);
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = $1::uuid AND role = 'admin'", admin_id),
              1);
}

// Two admins demoting each other at the same moment: before, each checked its own right
// outside the transaction, both passed, and no admin was left. Now one of them wins.
TEST_F(AccountTest, TwoAdminsDemotingEachOtherAtOnceLeaveOne) {
    std::string a_id;
    std::string b_id;
    auto a = account("duel-a", "admin", &a_id);
    auto b = account("duel-b", "admin", &b_id);
    // Only these two are admins in this database now.
    rt::runBlocking(io(), pool_->query("UPDATE users SET role = 'investor' WHERE role = 'admin' "
                                       "AND id NOT IN ($1::uuid, $2::uuid)",
                                       a_id, b_id));
    const std::string body = jsonText({{"role", "investor"}});
    int statuses[2] = {0, 0};
    auto demote = [&](const std::string& token, const std::string& target,
                      int* status) -> rt::Task<void> {
        auto res = co_await client_->answer(request(kChangeRole, body, token, "10.0.0.1", target));
        *status = res.status;
    };
    auto first = demote(a, b_id, &statuses[0]);
    auto second = demote(b, a_id, &statuses[1]);
    boost::asio::co_spawn(io(), std::move(first), boost::asio::detached);
    boost::asio::co_spawn(io(), std::move(second), boost::asio::detached);
    // (The pool's idle connections keep the loop busy: run until both have answered.)
    io().restart();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((statuses[0] == 0 || statuses[1] == 0) && std::chrono::steady_clock::now() < deadline) {
        io().run_one_for(std::chrono::milliseconds(100));
    }
    std::vector<int> got{statuses[0], statuses[1]};
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{200, 403})) << statuses[0] << " " << statuses[1];
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE role = 'admin' AND id::text = ANY(string_to_"
                    "array($1, ','))",
                    a_id + "," + b_id),
              1);
}

TEST_F(AccountTest, ADemotedAdminLosesAdminRightsAtOnceDespiteTheirToken) {
    std::string id;
    auto token = account("demoted", "admin", &id);
    ASSERT_EQ(call(kListUsers, "", token).status, 200);
    rt::runBlocking(io(),
                    pool_->query("UPDATE users SET role = 'investor' WHERE id = $1::uuid", id));
    EXPECT_EQ(call(kListUsers, "", token).status, 403);
}

TEST_F(AccountTest, TheGatewaysVerifiedIdentityIsTheCallerWithoutAToken) {
    std::string id;
    account("viagateway", "investor", &id);
    testing::ServiceClient::Call c{rt::Method::Get, "/api/v1/users/me"};
    c.who = rt::Identity{id, {"investor"}, ""};
    auto res = client_->send(c);
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.body.at("id").as_string(), id);
}

// A request with identity headers that are not the gateway's is refused before any handler,
// and a route that needs a caller refuses an anonymous one: both through the router.
TEST_F(AccountTest, ForgedIdentityAndMissingCallerAreRefusedByTheRouter) {
    std::string id;
    auto investor = account("forged", "investor", &id);
    testing::ServiceClient::Call forged{rt::Method::Get, "/api/v1/users/me"};
    forged.signed_by_gateway = false;
    forged.headers = {{"X-Restinu-User-Id", id}, {"X-Restinu-Identity", "t=1,v2=00"}};
    auto r = client_->send(forged);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body.at("type").as_string(), "https://restinu.dev/problems/invalid-identity");
    auto anonymous = client_->send({rt::Method::Get, "/api/v1/users/me"});
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(anonymous.raw.header("WWW-Authenticate"), "Bearer");
    // An investor on an admin route: 403 from the route's rule, before the handler runs.
    auto admin_only = call(kListUsers, "", investor);
    EXPECT_EQ(admin_only.status, 403);
    EXPECT_EQ(admin_only.body.at("type").as_string(), "https://restinu.dev/problems/forbidden");
}

TEST_F(AccountTest, CreateAdminMakesAnAdminOnceAndRefusesWeakPasswords) {
    auto email = unique("first-admin");
    std::string why;
    EXPECT_EQ(rt::runBlocking(io(), createAdmin(*pool_, email, "short", why)),
              CreateAdminResult::WeakPassword);
    EXPECT_EQ(rt::runBlocking(io(), createAdmin(*pool_, "nope", kPassword, why)),
              CreateAdminResult::BadEmail);
    EXPECT_EQ(rt::runBlocking(io(), createAdmin(*pool_, email, kPassword, why)),
              CreateAdminResult::Created);
    EXPECT_EQ(rt::runBlocking(io(), createAdmin(*pool_, email, kPassword, why)),
              CreateAdminResult::Exists);
    auto token = loginToken(email, kPassword, nullptr);
    EXPECT_EQ(call(kMe, "", token).body.at("role").as_string(), "admin");
    EXPECT_EQ(call(kListUsers, "", token).status, 200);
    std::istringstream in("my password line\r\nsecond");
    EXPECT_EQ(readPasswordLine(in), "my password line");
}

TEST_F(AccountTest, ARotatedKeyIsPublishedBeforeItSignsAndOldTokensKeepWorking) {
    auto old_token = account("rotation", "investor", nullptr);
    auto old_kid = keys_->signer().kid();
    // Published now, signing in an hour: the JWKS has both, the old key still signs.
    auto later = rt::runBlocking(io(), rotateSigningKey(*pool_, keyVault(), std::chrono::hours(1)));
    rt::runBlocking(io(), keys_->load(*pool_));
    EXPECT_EQ(keys_->signer().kid(), old_kid);
    EXPECT_NE(keys_->jwks().find(later), std::string::npos);
    EXPECT_NE(keys_->jwks().find(old_kid), std::string::npos);
    // Then one that signs at once: tokens from the old key still verify until they expire.
    auto now_kid =
        rt::runBlocking(io(), rotateSigningKey(*pool_, keyVault(), std::chrono::seconds(0)));
    rt::runBlocking(io(), keys_->load(*pool_));
    EXPECT_EQ(keys_->signer().kid(), now_kid);
    EXPECT_EQ(call(kMe, "", old_token).status, 200);
    // The service reloads its keys every auth.key_reload (200 ms here): its next tokens are
    // signed with the new key.
    auto email = unique("rotation2");
    ASSERT_EQ(call(kRegister, creds(email, kPassword)).status, 201);
    std::optional<std::string> header;
    std::string fresh;
    for (int i = 0; i < 50 && !(header && header->find(now_kid) != std::string::npos); ++i) {
        rt::runBlocking(io(), testing::sleepFor(std::chrono::milliseconds(100)));
        fresh = loginToken(email, kPassword, nullptr);
        header = rt::base64UrlDecode(fresh.substr(0, fresh.find('.')));
    }
    ASSERT_TRUE(header);
    EXPECT_NE(header->find(now_kid), std::string::npos);
    EXPECT_EQ(call(kMe, "", fresh).status, 200);
}

// A dump of users_db must not be able to mint tokens: private keys are stored sealed under the
// key-encryption key; one stored in clear (before this) is sealed when the ring loads; a ring
// with another key-encryption key refuses to load rather than sign with nothing; a key moved
// to another row does not open; rotating the key-encryption key re-seals under the new one.
TEST_F(AccountTest, SigningKeysAreSealedAtRestUnderTheKeyEncryptionKey) {
    auto count_plain = [&] {
        return rt::runBlocking(io(), pool_->query("SELECT count(*) FROM signing_keys WHERE "
                                                  "private_pem LIKE '%PRIVATE KEY%'"))
            .getInt(0, 0);
    };
    EXPECT_EQ(count_plain(), 0);
    // A legacy row in clear is sealed by the next load.
    auto legacy = rt::generateSigningKey(rt::newUuidV7());
    rt::runBlocking(io(),
                    pool_->query("INSERT INTO signing_keys (kid, private_pem, public_pem, "
                                 "activates_at) VALUES ($1, $2, $3, now() + interval '1 day')",
                                 legacy.kid, legacy.private_pem, legacy.public_pem));
    EXPECT_EQ(count_plain(), 1);
    rt::runBlocking(io(), keys_->load(*pool_));
    EXPECT_EQ(count_plain(), 0);
    auto stored = rt::runBlocking(
        io(), pool_->query("SELECT private_pem FROM signing_keys WHERE kid = $1", legacy.kid));
    std::string sealed(stored.get(0, 0));
    auto opened = keyVault().open(sealed, legacy.kid);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->plain, legacy.private_pem);
    EXPECT_FALSE(keyVault().open(sealed, "another-kid"));

    // Another key-encryption key opens nothing.
    auto other = *KeyVault::fromBase64(KycVault::generateKeyBase64(), {}, nullptr);
    KeyRing wrong("restinu", "restinu-api", std::chrono::seconds(900), other);
    EXPECT_THROW(rt::runBlocking(io(), wrong.load(*pool_)), std::runtime_error);

    // Rotation of the key-encryption key: the new one seals, the old one still opens, and the
    // ring re-seals every key under the new one; then the old one can go.
    const auto new_kek = KycVault::generateKeyBase64();
    auto rotated = *KeyVault::fromBase64(new_kek, {kKeyEncryptionKey}, nullptr);
    KeyRing during("restinu", "restinu-api", std::chrono::seconds(900), rotated);
    rt::runBlocking(io(), during.load(*pool_));
    EXPECT_EQ(during.signer().kid(), keys_->signer().kid());
    EXPECT_THROW(rt::runBlocking(io(), keys_->load(*pool_)), std::runtime_error);
    // (And back, for the other tests of this database.)
    auto back = *KeyVault::fromBase64(kKeyEncryptionKey, {new_kek}, nullptr);
    KeyRing restore("restinu", "restinu-api", std::chrono::seconds(900), back);
    rt::runBlocking(io(), restore.load(*pool_));
    rt::runBlocking(io(), keys_->load(*pool_));
    rt::runBlocking(io(), pool_->query("DELETE FROM signing_keys WHERE kid = $1", legacy.kid));
}

}  // namespace
}  // namespace restinu::user
