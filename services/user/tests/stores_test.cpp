// The user service's stores against a real database, each alone: what they write (the row, its
// event and its audit row, or nothing), what they read back (by column name), and that a write
// in a transaction that rolls back leaves nothing.
#include <gtest/gtest.h>

#include "kyc_store.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "session_store.hpp"
#include "user_fixture.hpp"
#include "user_store.hpp"

namespace restinu::user {
namespace {

using StoreTest = UserServiceTest;

const WriteContext kCtx{"tester", "req-store", ""};

NewAccount newAccount(const std::string& email, const std::string& role = "investor") {
    return NewAccount{rt::newUuidV7(), email, "hash-not-checked-here", "Store Test", role};
}

TEST_F(StoreTest, UserStoreCreatesOnceWithItsEventAndReadsTheAccountBack) {
    auto a = newAccount(unique("store-user"));
    auto create = [&](const NewAccount& acc) {
        return rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await UserStore::create(tx, acc, kCtx, "user.register");
        }));
    };
    ASSERT_TRUE(create(a));
    auto again = newAccount(a.email);  // the same e-mail, another id: refused, nothing written
    EXPECT_FALSE(create(again));
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'user.registered' AND "
                    "aggregate_id = $1",
                    a.id),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE id::text = $1", again.id), 0);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'user.register' AND "
                    "entity_id = $1",
                    a.id),
              1);

    UserStore users(*pool_);
    auto found = rt::runBlocking(io(), users.find(a.id));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->email, a.email);
    EXPECT_EQ(found->name, "Store Test");
    EXPECT_EQ(found->role, "investor");
    EXPECT_EQ(found->kyc_status, "none");
    EXPECT_FALSE(found->phone);
    auto creds = rt::runBlocking(io(), users.credentials(a.email));
    ASSERT_TRUE(creds);
    EXPECT_EQ(creds->id, a.id);
    EXPECT_EQ(creds->password_hash, "hash-not-checked-here");
    EXPECT_FALSE(rt::runBlocking(io(), users.find(rt::newUuidV7())));
    EXPECT_FALSE(rt::runBlocking(io(), users.credentials("nobody@example.com")));
}

TEST_F(StoreTest, UserStoreListsByRoleAndEmailPrefixWithLikeCharactersTakenLiterally) {
    const std::string prefix = "list_%x";
    std::vector<NewAccount> made;
    for (int i = 0; i < 3; ++i) {
        made.push_back(
            newAccount(unique(prefix + std::to_string(i)), i == 0 ? "agent" : "investor"));
    }
    auto decoy = newAccount(unique("list_plain"));  // matches "list_%" only as a wildcard
    rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        for (const auto& a : made) {
            co_await UserStore::create(tx, a, kCtx, "user.register");
        }
        co_await UserStore::create(tx, decoy, kCtx, "user.register");
    }));
    UserStore users(*pool_);
    AccountFilter all{std::nullopt, prefix, std::nullopt, 10};
    EXPECT_EQ(rt::runBlocking(io(), users.list(all)).size(), 3U);
    // "%" in the prefix is a percent sign, not a wildcard: the decoy is not found.
    AccountFilter wildcard{std::nullopt, "list_%", std::nullopt, 10};
    auto literal = rt::runBlocking(io(), users.list(wildcard));
    EXPECT_EQ(literal.size(), 3U);
    for (const auto& a : literal) {
        EXPECT_NE(a.id, decoy.id);
    }
    AccountFilter agents{std::string("agent"), prefix, std::nullopt, 10};
    auto only = rt::runBlocking(io(), users.list(agents));
    ASSERT_EQ(only.size(), 1U);
    EXPECT_EQ(only[0].id, made[0].id);
    // Keyset: after the first id, the other two, in id order.
    auto first =
        rt::runBlocking(io(), users.list(AccountFilter{std::nullopt, prefix, std::nullopt, 1}));
    ASSERT_EQ(first.size(), 1U);
    auto rest =
        rt::runBlocking(io(), users.list(AccountFilter{std::nullopt, prefix, first[0].id, 10}));
    ASSERT_EQ(rest.size(), 2U);
    EXPECT_LT(first[0].id, rest[0].id);
}

TEST_F(StoreTest, SetRoleWritesAnEventOnlyForAChangeAndTheLastAdminIsKnown) {
    auto a = newAccount(unique("store-role"));
    rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await UserStore::create(tx, a, kCtx, "user.register");
    }));
    auto set = [&](const std::string& id, const std::string& role) {
        return rt::runBlocking(
            io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<std::optional<std::string>> {
                co_await UserStore::lockRoles(tx);
                co_return co_await UserStore::setRole(tx, id, role, kCtx);
            }));
    };
    EXPECT_EQ(set(a.id, "agent"), "investor");
    EXPECT_EQ(set(a.id, "agent"), "agent");  // no change: no second event
    EXPECT_EQ(set(rt::newUuidV7(), "agent"), std::nullopt);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'user.role_changed' AND "
                    "aggregate_id = $1",
                    a.id),
              1);
    // The only admin of the database is the last one; with a second admin, neither is.
    rt::runBlocking(io(), pool_->query("UPDATE users SET role = 'investor' WHERE role = 'admin'"));
    set(a.id, "admin");
    auto last = [&](const std::string& id) {
        return rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await UserStore::isLastAdmin(tx, id);
        }));
    };
    EXPECT_TRUE(last(a.id));
    auto b = newAccount(unique("store-role-b"), "admin");
    rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await UserStore::create(tx, b, kCtx, "user.register");
    }));
    EXPECT_FALSE(last(a.id));
}

TEST_F(StoreTest, SessionStoreRotatesRefreshTokensOnceAndRevokesOnlyTheOwners) {
    auto a = newAccount(unique("store-session"));
    SessionStore sessions(*pool_, std::chrono::seconds(3600));
    auto session_id = rt::newUuidV7();
    auto first =
        rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<std::string> {
            co_await UserStore::create(tx, a, kCtx, "user.register");
            co_return co_await sessions.open(tx, session_id, a.id, std::string(300, 'd'),
                                             "10.0.0.7", kCtx);
        }));
    auto active = rt::runBlocking(io(), sessions.active(a.id));
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(active[0].id, session_id);
    EXPECT_EQ(active[0].device.size(), 200U);  // the device text is capped
    EXPECT_EQ(active[0].ip, "10.0.0.7");
    // Only the token's SHA-256 is stored, never the token.
    EXPECT_EQ(count("SELECT count(*) FROM refresh_tokens WHERE encode(token_hash, 'hex') = $1",
                    rt::sha256Hex(first)),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM refresh_tokens WHERE position(convert_to($1, 'UTF8') IN "
                    "token_hash) > 0",
                    first),
              0);

    auto rotate = [&](const std::string& token) {
        return rt::runBlocking(
            io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<std::optional<std::string>> {
                auto state = co_await sessions.lockRefresh(tx, token);
                if (!state || state->used) {
                    co_return std::nullopt;
                }
                co_return co_await sessions.rotate(tx, token, *state, kCtx);
            }));
    };
    auto second = rotate(first);
    ASSERT_TRUE(second);
    EXPECT_NE(*second, first);
    EXPECT_FALSE(rotate(first));  // used once
    EXPECT_FALSE(rotate("unknown-token"));

    // Oldest first by the real time, not by its text (whole seconds): a session opened later in
    // the same second comes after.
    auto later = rt::newUuidV7();
    rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await sessions.open(tx, later, a.id, "second device", "10.0.0.8", kCtx);
    }));
    rt::runBlocking(io(), pool_->query("UPDATE sessions SET created_at = CASE WHEN id = $1::uuid "
                                       "THEN timestamptz '2026-01-01 00:00:00.9+00' ELSE "
                                       "timestamptz '2026-01-01 00:00:00.1+00' END WHERE id IN "
                                       "($1::uuid, $2::uuid)",
                                       session_id, later));
    auto ordered = rt::runBlocking(io(), sessions.active(a.id));
    ASSERT_EQ(ordered.size(), 2U);
    EXPECT_EQ(ordered[0].id, later);
    EXPECT_EQ(ordered[1].id, session_id);
    EXPECT_EQ(ordered[0].created_at, "2026-01-01T00:00:00Z");

    auto revoke = [&](const std::string& id, const std::string& owner) {
        return rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await sessions.revokeOwned(tx, id, owner, kCtx);
        }));
    };
    EXPECT_FALSE(revoke(session_id, rt::newUuidV7()));  // someone else's: not found
    EXPECT_TRUE(revoke(session_id, a.id));
    EXPECT_FALSE(revoke(session_id, a.id));  // already ended
    auto left = rt::runBlocking(io(), sessions.active(a.id));
    ASSERT_EQ(left.size(), 1U);
    EXPECT_EQ(left[0].id, later);
}

TEST_F(StoreTest, KycStoreSubmitsOncePerStateAndADecisionNeedsAnAdminInItsTransaction) {
    auto a = newAccount(unique("store-kyc"));
    auto admin = newAccount(unique("store-kyc-admin"), "admin");
    rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await UserStore::create(tx, a, kCtx, "user.register");
        co_await UserStore::create(tx, admin, kCtx, "user.register");
    }));
    KycStore kyc(*pool_);
    auto fingerprint = rt::sha256Hex(a.id);  // any 32 bytes, unique to this test
    KycSubmission s{a.id, "pan", "00ff", "XXXXXX234F", "Asha Rao", "1990-05-17", fingerprint};
    EXPECT_EQ(rt::runBlocking(io(), kyc.submit(s, kCtx)), KycSubmitted::Submitted);
    EXPECT_EQ(rt::runBlocking(io(), kyc.submit(s, kCtx)), KycSubmitted::AlreadyPending);
    // The same document for another account: refused, and nothing of it is written.
    auto b = newAccount(unique("store-kyc-b"));
    rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await UserStore::create(tx, b, kCtx, "user.register");
    }));
    auto other = s;
    other.user_id = b.id;
    EXPECT_EQ(rt::runBlocking(io(), kyc.submit(other, kCtx)), KycSubmitted::DocumentInUse);
    EXPECT_FALSE(rt::runBlocking(io(), kyc.find(b.id)));

    auto record = rt::runBlocking(io(), kyc.find(a.id));
    ASSERT_TRUE(record);
    EXPECT_EQ(record->status, "pending");
    EXPECT_EQ(record->document_masked, "XXXXXX234F");
    EXPECT_EQ(record->date_of_birth, "1990-05-17");
    EXPECT_FALSE(record->decided_at);

    const WriteContext not_admin{a.id, "req-kyc", ""};
    EXPECT_EQ(rt::runBlocking(io(), kyc.decide(a.id, KycStore::Decision::Approve, "", not_admin)),
              std::nullopt);
    const WriteContext by_admin{admin.id, "req-kyc", ""};
    EXPECT_EQ(
        rt::runBlocking(io(), kyc.decide(a.id, KycStore::Decision::Reject, "blurred", by_admin)),
        KycDecided::Decided);
    EXPECT_EQ(rt::runBlocking(io(), kyc.decide(a.id, KycStore::Decision::Approve, "", by_admin)),
              KycDecided::NotPending);
    EXPECT_EQ(rt::runBlocking(io(), kyc.decide(b.id, KycStore::Decision::Approve, "", by_admin)),
              KycDecided::NotSubmitted);
    record = rt::runBlocking(io(), kyc.find(a.id));
    EXPECT_EQ(record->status, "rejected");
    EXPECT_EQ(record->rejection_reason, "blurred");
    EXPECT_TRUE(record->decided_at);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type LIKE 'user.kyc.%' AND "
                    "aggregate_id = $1",
                    a.id),
              2);  // submitted, rejected
    // After a rejection the user may submit again.
    EXPECT_EQ(rt::runBlocking(io(), kyc.submit(s, kCtx)), KycSubmitted::Submitted);
}

}  // namespace
}  // namespace restinu::user
