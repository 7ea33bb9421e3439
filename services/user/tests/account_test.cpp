#include <gtest/gtest.h>

#include "commands.hpp"
#include "handler_support.hpp"
#include "key_ring.hpp"
#include "kyc_vault.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/jwt.hpp"
#include "user_fixture.hpp"

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
        &AccountHandlers::updateMe,
        jsonText({{"name", "  Asha Rao "}, {"phone", "+91 98765-43210"}, {"language", "hi_in"}}),
        token);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_EQ(r.body.at("name").as_string(), "Asha Rao");
    EXPECT_EQ(r.body.at("phone").as_string(), "+919876543210");
    EXPECT_EQ(r.body.at("language").as_string(), "hi-IN");
    EXPECT_EQ(r.body.at("role").as_string(), "investor");
    EXPECT_EQ(r.body.at("kyc_status").as_string(), "none");
    // Only what is sent changes; null clears the phone.
    r = call(&AccountHandlers::updateMe, jsonText({{"phone", nullptr}}), token);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.at("phone").is_null());
    EXPECT_EQ(r.body.at("name").as_string(), "Asha Rao");
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'user.profile_update' AND "
                    "entity_id = $1",
                    id),
              2);
}

TEST_F(AccountTest, BadProfileFieldsAre422NamingEachAndNothingChanges) {
    std::string id;
    auto token = account("badprofile", "investor", &id);
    auto r = call(&AccountHandlers::updateMe,
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
    auto r = call(&AccountHandlers::updateMe, jsonText({{"role", "admin"}}), token);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body.at("type").as_string(), "https://restinu.dev/problems/forbidden");
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = $1::uuid AND role = 'investor'", id), 1);
}

TEST_F(AccountTest, OnlyAdminsListUsersAndPagesNeverRepeat) {
    auto investor = account("lister", "investor", nullptr);
    EXPECT_EQ(call(&AccountHandlers::listUsers, "", investor).status, 403);
    auto agent = account("lister-agent", "agent", nullptr);
    EXPECT_EQ(call(&AccountHandlers::listUsers, "", agent).status, 403);
    auto admin = account("lister-admin", "admin", nullptr);
    std::set<std::string> seen;
    std::string cursor;
    int pages = 0;
    for (;;) {
        auto q = "limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor);
        auto r = call(&AccountHandlers::listUsers, "", admin, "10.0.0.1", "", q);
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
    auto agents = call(&AccountHandlers::listUsers, "", admin, "10.0.0.1", "", "role=agent");
    ASSERT_EQ(agents.status, 200);
    for (const auto& u : agents.body.at("items").as_array()) {
        EXPECT_EQ(u.at("role").as_string(), "agent");
    }
    EXPECT_GE(agents.body.at("items").as_array().size(), 1u);
    auto bad = call(&AccountHandlers::listUsers, "", admin, "10.0.0.1", "", "limit=0&role=boss");
    EXPECT_EQ(bad.status, 422);
    EXPECT_EQ(bad.body.at("errors").as_array().size(), 2u);
    EXPECT_EQ(call(&AccountHandlers::listUsers, "", admin, "10.0.0.1", "", "cursor=zz").status,
              422);
}

TEST_F(AccountTest, AnAdminChangesARoleWhichTheNextRefreshCarries) {
    std::string id;
    auto email = unique("promoted");
    ASSERT_EQ(call(&AuthHandlers::registerUser, creds(email, kPassword)).status, 201);
    std::string refresh;
    loginToken(email, kPassword, &refresh);
    id = std::string(
        rt::runBlocking(io_, pool_->query("SELECT id::text FROM users WHERE email = $1", email))
            .get(0, 0));
    std::string admin_id;
    auto admin = account("promoter", "admin", &admin_id);
    auto r =
        call(&AccountHandlers::changeRole, jsonText({{"role", "agent"}}), admin, "10.0.0.1", id);
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
    auto next = call(&AuthHandlers::refresh, jsonText({{"refresh_token", refresh}}));
    ASSERT_EQ(next.status, 200);
    auto claims =
        keys_->verifier().verify(next.body.at("access_token").as_string(), rt::unixSeconds());
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->roles, std::vector<std::string>{"agent"});
    // Validation and not-found.
    EXPECT_EQ(
        call(&AccountHandlers::changeRole, jsonText({{"role", "root"}}), admin, "10.0.0.1", id)
            .status,
        422);
    EXPECT_EQ(call(&AccountHandlers::changeRole, jsonText({{"role", "agent"}}), admin, "10.0.0.1",
                   "00000000-0000-7000-8000-000000000000")
                  .status,
              404);
}

TEST_F(AccountTest, ANonAdminCannotChangeRolesAndAnAdminCannotDemoteThemselves) {
    std::string victim;
    account("victim", "investor", &victim);
    auto agent = account("wannabe", "agent", nullptr);
    EXPECT_EQ(
        call(&AccountHandlers::changeRole, jsonText({{"role", "admin"}}), agent, "10.0.0.1", victim)
            .status,
        403);
    std::string admin_id;
    auto admin = account("selfdemote", "admin", &admin_id);
    auto r = call(&AccountHandlers::changeRole, jsonText({{"role", "investor"}}), admin, "10.0.0.1",
                  admin_id);
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
    rt::runBlocking(io_, pool_->query("UPDATE users SET role = 'investor' WHERE role = 'admin' "
                                      "AND id NOT IN ($1::uuid, $2::uuid)",
                                      a_id, b_id));
    const std::string body = jsonText({{"role", "investor"}});
    int statuses[2] = {0, 0};
    auto demote = [&](const std::string& token, const std::string& target,
                      int* status) -> rt::Task<void> {
        rt::Request req;
        req.body = body;
        req.request_id = "duel";
        std::string auth = "Bearer " + token;
        req.headers = {{"Content-Type", "application/json"}, {"Authorization", auth}};
        req.params = {{"id", target}};
        try {
            auto res = co_await accounts_->changeRole(req);
            *status = res.status;
        } catch (const rt::ApiError& e) {
            *status = e.problem().type.status;
        }
    };
    auto first = demote(a, b_id, &statuses[0]);
    auto second = demote(b, a_id, &statuses[1]);
    boost::asio::co_spawn(io_, std::move(first), boost::asio::detached);
    boost::asio::co_spawn(io_, std::move(second), boost::asio::detached);
    // (The pool's idle connections keep the loop busy: run until both have answered.)
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((statuses[0] == 0 || statuses[1] == 0) && std::chrono::steady_clock::now() < deadline) {
        io_.run_one_for(std::chrono::milliseconds(100));
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
    ASSERT_EQ(call(&AccountHandlers::listUsers, "", token).status, 200);
    rt::runBlocking(io_,
                    pool_->query("UPDATE users SET role = 'investor' WHERE id = $1::uuid", id));
    EXPECT_EQ(call(&AccountHandlers::listUsers, "", token).status, 403);
}

TEST_F(AccountTest, TheGatewaysVerifiedIdentityIsTheCallerWithoutAToken) {
    std::string id;
    account("viagateway", "investor", &id);
    rt::Request req;
    req.identity = rt::Identity{id, {"investor"}, ""};
    auto res = rt::runBlocking(io_, accounts_->me(req));
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(json::parse(res.body).at("id").as_string(), id);
}

TEST_F(AccountTest, CreateAdminMakesAnAdminOnceAndRefusesWeakPasswords) {
    auto email = unique("first-admin");
    std::string why;
    EXPECT_EQ(rt::runBlocking(io_, createAdmin(*pool_, email, "short", why)),
              CreateAdminResult::WeakPassword);
    EXPECT_EQ(rt::runBlocking(io_, createAdmin(*pool_, "nope", kPassword, why)),
              CreateAdminResult::BadEmail);
    EXPECT_EQ(rt::runBlocking(io_, createAdmin(*pool_, email, kPassword, why)),
              CreateAdminResult::Created);
    EXPECT_EQ(rt::runBlocking(io_, createAdmin(*pool_, email, kPassword, why)),
              CreateAdminResult::Exists);
    auto token = loginToken(email, kPassword, nullptr);
    EXPECT_EQ(call(&AccountHandlers::me, "", token).body.at("role").as_string(), "admin");
    EXPECT_EQ(call(&AccountHandlers::listUsers, "", token).status, 200);
    std::istringstream in("my password line\r\nsecond");
    EXPECT_EQ(readPasswordLine(in), "my password line");
}

TEST_F(AccountTest, ARotatedKeyIsPublishedBeforeItSignsAndOldTokensKeepWorking) {
    auto old_token = account("rotation", "investor", nullptr);
    auto old_kid = keys_->signer().kid();
    // Published now, signing in an hour: the JWKS has both, the old key still signs.
    auto later = rt::runBlocking(io_, rotateSigningKey(*pool_, keyVault(), std::chrono::hours(1)));
    rt::runBlocking(io_, keys_->load(*pool_));
    EXPECT_EQ(keys_->signer().kid(), old_kid);
    EXPECT_NE(keys_->jwks().find(later), std::string::npos);
    EXPECT_NE(keys_->jwks().find(old_kid), std::string::npos);
    // Then one that signs at once: tokens from the old key still verify until they expire.
    auto now_kid =
        rt::runBlocking(io_, rotateSigningKey(*pool_, keyVault(), std::chrono::seconds(0)));
    rt::runBlocking(io_, keys_->load(*pool_));
    EXPECT_EQ(keys_->signer().kid(), now_kid);
    EXPECT_EQ(call(&AccountHandlers::me, "", old_token).status, 200);
    auto fresh = account("rotation2", "investor", nullptr);
    EXPECT_EQ(call(&AccountHandlers::me, "", fresh).status, 200);
    EXPECT_NE(fresh.find('.'), std::string::npos);
    auto header = rt::base64UrlDecode(fresh.substr(0, fresh.find('.')));
    ASSERT_TRUE(header);
    EXPECT_NE(header->find(now_kid), std::string::npos);
}

// A dump of users_db must not be able to mint tokens: private keys are stored sealed under the
// key-encryption key; one stored in clear (before this) is sealed when the ring loads; a ring
// with another key-encryption key refuses to load rather than sign with nothing; a key moved
// to another row does not open; rotating the key-encryption key re-seals under the new one.
TEST_F(AccountTest, SigningKeysAreSealedAtRestUnderTheKeyEncryptionKey) {
    auto count_plain = [&] {
        return rt::runBlocking(io_, pool_->query("SELECT count(*) FROM signing_keys WHERE "
                                                 "private_pem LIKE '%PRIVATE KEY%'"))
            .getInt(0, 0);
    };
    EXPECT_EQ(count_plain(), 0);
    // A legacy row in clear is sealed by the next load.
    auto legacy = rt::generateSigningKey(rt::newUuidV7());
    rt::runBlocking(io_, pool_->query("INSERT INTO signing_keys (kid, private_pem, public_pem, "
                                      "activates_at) VALUES ($1, $2, $3, now() + interval '1 day')",
                                      legacy.kid, legacy.private_pem, legacy.public_pem));
    EXPECT_EQ(count_plain(), 1);
    rt::runBlocking(io_, keys_->load(*pool_));
    EXPECT_EQ(count_plain(), 0);
    auto stored = rt::runBlocking(
        io_, pool_->query("SELECT private_pem FROM signing_keys WHERE kid = $1", legacy.kid));
    std::string sealed(stored.get(0, 0));
    auto opened = keyVault().open(sealed, legacy.kid);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->plain, legacy.private_pem);
    EXPECT_FALSE(keyVault().open(sealed, "another-kid"));

    // Another key-encryption key opens nothing.
    auto other = *KeyVault::fromBase64(KycVault::generateKeyBase64(), {}, nullptr);
    KeyRing wrong("restinu", "restinu-api", std::chrono::seconds(900), other);
    EXPECT_THROW(rt::runBlocking(io_, wrong.load(*pool_)), std::runtime_error);

    // Rotation of the key-encryption key: the new one seals, the old one still opens, and the
    // ring re-seals every key under the new one; then the old one can go.
    const auto new_kek = KycVault::generateKeyBase64();
    auto rotated = *KeyVault::fromBase64(new_kek, {kKeyEncryptionKey}, nullptr);
    KeyRing during("restinu", "restinu-api", std::chrono::seconds(900), rotated);
    rt::runBlocking(io_, during.load(*pool_));
    EXPECT_EQ(during.signer().kid(), keys_->signer().kid());
    EXPECT_THROW(rt::runBlocking(io_, keys_->load(*pool_)), std::runtime_error);
    // (And back, for the other tests of this database.)
    auto back = *KeyVault::fromBase64(kKeyEncryptionKey, {new_kek}, nullptr);
    KeyRing restore("restinu", "restinu-api", std::chrono::seconds(900), back);
    rt::runBlocking(io_, restore.load(*pool_));
    rt::runBlocking(io_, keys_->load(*pool_));
    rt::runBlocking(io_, pool_->query("DELETE FROM signing_keys WHERE kid = $1", legacy.kid));
}

}  // namespace
}  // namespace restinu::user
