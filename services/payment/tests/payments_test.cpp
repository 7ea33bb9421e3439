// Payment intents on the real ledger (PostgreSQL), with a fake card provider that records the
// exact calls we make (the real provider is a paid API; the sandbox process is exercised by
// tests/e2e/purchase_test.py).
#include "payments.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <map>
#include <set>

#include "fresh_database.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::payment {
namespace {

using Outcome = ProviderResult::Outcome;
using Kind = PaymentOutcome::Kind;

struct Call {
    std::string op;
    std::string key;
    std::int64_t amount = 0;
};

// Stripe's semantics where we rely on them: one effect per Idempotency-Key.
class FakeProvider final : public Provider {
public:
    std::vector<Call> calls;
    int unavailable_after_effect = 0;  ///< the next N authorisations hold but answer nothing
    bool decline = false;

    rt::Task<ProviderResult> authorise(const AuthoriseRequest& r, std::string key) override {
        calls.push_back({"authorise", key, r.amount});
        auto& pi = byKey(key, r);
        if (decline) {
            pi.status = "requires_payment_method";
            co_return ProviderResult{Outcome::Declined, pi, "card_declined", "declined"};
        }
        if (unavailable_after_effect > 0) {
            --unavailable_after_effect;
            co_return ProviderResult{Outcome::Unavailable, {}, "timeout", "no answer"};
        }
        co_return ProviderResult{Outcome::Ok, pi, {}, {}};
    }
    rt::Task<ProviderResult> capture(std::string id, std::int64_t amount,
                                     std::string key) override {
        calls.push_back({"capture", key, amount});
        auto& pi = intents.at(id);
        pi.status = "succeeded";
        pi.amount_received = amount;
        co_return ProviderResult{Outcome::Ok, pi, {}, {}};
    }
    rt::Task<ProviderResult> cancel(std::string id, std::string key) override {
        calls.push_back({"cancel", key, 0});
        auto& pi = intents.at(id);
        pi.status = "canceled";
        co_return ProviderResult{Outcome::Ok, pi, {}, {}};
    }
    rt::Task<ProviderResult> refund(std::string id, std::int64_t amount, std::string key) override {
        calls.push_back({"refund", key, amount});
        auto& pi = intents.at(id);
        if (!refunded_keys.insert(key).second) {
            co_return ProviderResult{Outcome::Ok, pi, {}, {}};
        }
        pi.amount_refunded += amount;
        co_return ProviderResult{Outcome::Ok, pi, {}, {}};
    }
    rt::Task<std::optional<ProviderIntent>> find(std::string intent_id) override {
        calls.push_back({"find", intent_id, 0});
        for (auto& [_, pi] : intents) {
            if (pi.restinu_intent == intent_id) {
                co_return pi;
            }
        }
        co_return std::nullopt;
    }
    rt::Task<ProviderIntent> retrieve(std::string id) override {
        calls.push_back({"retrieve", id, 0});
        co_return intents.at(id);
    }
    rt::Task<std::vector<ProviderIntent>> list() override {
        co_return std::vector<ProviderIntent>{};
    }

    std::size_t count(std::string_view op) const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [op](const Call& c) { return c.op == op; }));
    }

private:
    ProviderIntent& byKey(const std::string& key, const AuthoriseRequest& r) {
        auto it = by_key.find(key);
        if (it == by_key.end()) {
            ProviderIntent pi;
            static int made = 0;  // unique across the suite, as the provider's ids are
            pi.id = "pi_fake_" + std::to_string(++made);
            pi.status = "requires_capture";
            pi.amount = r.amount;
            pi.currency = r.currency;
            pi.restinu_intent = r.intent_id;
            intents[pi.id] = pi;
            it = by_key.emplace(key, pi.id).first;
        }
        return intents.at(it->second);
    }
    std::map<std::string, ProviderIntent> intents;
    std::map<std::string, std::string> by_key;
    std::set<std::string> refunded_keys;
};

class PaymentsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("payments", "payment"); }
    void SetUp() override {
        rt::PgOptions o;
        o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        o.size = 2;
        pool_ = std::make_unique<rt::PgPool>(io_, o);
        payments_ = std::make_unique<Payments>(*pool_, provider_, 100, std::chrono::seconds(0));
    }
    void TearDown() override { pool_->close(); }

    template <class T>
    T run(rt::Task<T> t) {
        return rt::runBlocking(io_, std::move(t));
    }
    std::string one(const std::string& sql) {
        auto r = run(pool_->query(sql));
        return std::string(r.get(0, 0));
    }
    NewIntent intent(std::int64_t amount = 1'000'000) {
        return {"", buyer_, seller_, amount, "INR", "pm_card_visa"};
    }
    std::string key(const std::string& what) { return what + "-" + std::to_string(++keys_); }

    static inline std::string db_;
    boost::asio::io_context io_;
    std::unique_ptr<rt::PgPool> pool_;
    FakeProvider provider_;
    std::unique_ptr<Payments> payments_;
    std::string buyer_ = "01a24a80-0000-7000-8000-000000000001";
    std::string seller_ = "01a24a80-0000-7000-8000-000000000002";
    static inline int keys_ = 0;  // across the suite: its tests share one database
};

TEST_F(PaymentsTest, HoldCaptureAndRefundsPostBalancedEntries) {
    const auto k = key("auth");
    auto held = run(payments_->authorise(k, intent()));
    ASSERT_EQ(held.kind, Kind::Done) << held.reason;
    EXPECT_EQ(held.intent.status, "authorised");
    ASSERT_EQ(provider_.calls.size(), 1U);
    EXPECT_EQ(provider_.calls[0].key, "restinu:" + k);  // our key is the provider's key
    auto captured = run(payments_->capture(key("cap"), held.intent.id, 800'000));
    ASSERT_EQ(captured.kind, Kind::Done) << captured.reason;
    EXPECT_EQ(captured.intent.amount_captured, 800'000);
    EXPECT_EQ(captured.intent.fee, 8'000);
    EXPECT_EQ(run(payments_->refund(key("ref"), held.intent.id, 300'000)).kind, Kind::Done);
    auto over = run(payments_->refund(key("ref"), held.intent.id, 600'000));
    EXPECT_EQ(over.kind, Kind::Declined);  // only 500,000 is left to refund
    EXPECT_EQ(provider_.count("refund"), 1U);
    const auto id = held.intent.id;
    EXPECT_EQ(one("SELECT sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = "
                  "p.entry_id WHERE e.intent_id = '" +
                  id + "' AND account_id = 'provider_clearing'"),
              "500000");
    EXPECT_EQ(one("SELECT sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = "
                  "p.entry_id WHERE e.intent_id = '" +
                  id + "' AND account_id = 'platform_fees'"),
              "-5000");  // 8,000 taken, 3,000 returned with the 300,000 refund
    EXPECT_EQ(one("SELECT coalesce(sum(amount), 0) FROM postings"), "0");
}

TEST_F(PaymentsTest, ARetryWithTheSameKeyReturnsTheFirstResultAndCallsNobody) {
    const auto k = key("auth");
    auto first = run(payments_->authorise(k, intent()));
    auto again = run(payments_->authorise(k, intent()));
    EXPECT_EQ(again.kind, Kind::Done);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.intent.id, first.intent.id);
    EXPECT_EQ(provider_.count("authorise"), 1U);
    EXPECT_EQ(
        one("SELECT count(*) FROM journal_entries WHERE intent_id = '" + first.intent.id + "'"),
        "1");
}

TEST_F(PaymentsTest, TheSameKeyWithAnotherRequestIs422AndChangesNothing) {
    const auto k = key("auth");
    run(payments_->authorise(k, intent(1'000)));
    try {
        run(payments_->authorise(k, intent(2'000)));
        FAIL() << "a reused key was accepted";
    } catch (const rt::ApiError& e) {
        EXPECT_EQ(e.problem().type.slug, "idempotency-key-reused");
        EXPECT_EQ(e.problem().type.status, 422);
    }
    EXPECT_EQ(provider_.count("authorise"), 1U);
    EXPECT_EQ(one("SELECT count(*) FROM payment_intents WHERE amount = 2000"), "0");
}

TEST_F(PaymentsTest, AnOperationThatNeverAnsweredIsDrivenAgainWithTheSameProviderKey) {
    provider_.unavailable_after_effect = 1;  // the provider holds, the answer is lost
    const auto k = key("auth");
    auto lost = run(payments_->authorise(k, intent()));
    EXPECT_EQ(lost.kind, Kind::Unavailable);
    EXPECT_EQ(lost.intent.status, "authorising");
    auto retried = run(payments_->authorise(k, intent()));
    EXPECT_EQ(retried.kind, Kind::Done);
    EXPECT_EQ(retried.intent.id, lost.intent.id);
    ASSERT_EQ(provider_.count("authorise"), 2U);
    EXPECT_EQ(provider_.calls[0].key, provider_.calls[1].key);  // one hold at the provider
    EXPECT_EQ(
        one("SELECT count(*) FROM journal_entries WHERE intent_id = '" + lost.intent.id + "'"),
        "1");
}

TEST_F(PaymentsTest, CancellingAnAuthorisationInDoubtAsksAgainWithItsKeyAndReleasesTheHold) {
    provider_.unavailable_after_effect = 1;
    const auto k = key("auth");
    auto lost = run(payments_->authorise(k, intent()));
    ASSERT_EQ(lost.kind, Kind::Unavailable);
    auto cancelled = run(payments_->cancel(key("void"), lost.intent.id));
    EXPECT_EQ(cancelled.kind, Kind::Done) << cancelled.reason;
    EXPECT_EQ(cancelled.intent.status, "canceled");
    ASSERT_EQ(provider_.count("authorise"), 2U);
    EXPECT_EQ(provider_.calls[1].key, "restinu:" + k);  // the create again, with its own key
    EXPECT_EQ(provider_.count("find"), 0U);
    EXPECT_EQ(provider_.count("cancel"), 1U);
    // The hold and its release, both on the ledger: nothing held.
    EXPECT_EQ(one("SELECT string_agg(kind, ',' ORDER BY id) FROM journal_entries WHERE "
                  "intent_id = '" +
                  lost.intent.id + "'"),
              "authorise,void");
    EXPECT_EQ(one("SELECT coalesce(sum(p.amount), 0) FROM postings p JOIN journal_entries e ON "
                  "e.id = p.entry_id WHERE e.intent_id = '" +
                  lost.intent.id + "' AND account_id = 'escrow'"),
              "0");
}

TEST_F(PaymentsTest, WhenTheCreateStillDoesNotAnswerTheHoldIsFoundBySearch) {
    provider_.unavailable_after_effect = 2;  // the first create and its repeat both go unanswered
    auto lost = run(payments_->authorise(key("auth"), intent()));
    ASSERT_EQ(lost.kind, Kind::Unavailable);
    auto cancelled = run(payments_->cancel(key("void"), lost.intent.id));
    EXPECT_EQ(cancelled.kind, Kind::Done) << cancelled.reason;
    EXPECT_EQ(provider_.count("find"), 1U);
    EXPECT_EQ(provider_.count("cancel"), 1U);
    EXPECT_EQ(cancelled.intent.status, "canceled");
}

TEST_F(PaymentsTest, ADeclineIsFinalAndPostsNothing) {
    provider_.decline = true;
    auto d = run(payments_->authorise(key("auth"), intent()));
    EXPECT_EQ(d.kind, Kind::Declined);
    EXPECT_EQ(d.intent.status, "declined");
    EXPECT_NE(d.reason.find("card_declined"), std::string::npos);
    EXPECT_EQ(one("SELECT count(*) FROM journal_entries WHERE intent_id = '" + d.intent.id + "'"),
              "0");
    provider_.decline = false;
}

TEST_F(PaymentsTest, TheDatabaseRefusesAnUnbalancedEntryAndAnyChangeToAPosting) {
    auto unbalanced = [&]() -> rt::Task<void> {
        co_await pool_->transaction([](rt::PgConn& tx) -> rt::Task<void> {
            auto r = co_await tx.query(
                "INSERT INTO journal_entries (intent_id, kind, operation) VALUES "
                "('pi_x', 'capture', 'hand-typed') RETURNING id");
            const std::string id(r.get(0, 0));
            co_await tx.query(
                "INSERT INTO ledger_accounts (id, kind) VALUES ('escrow', 'escrow') "
                "ON CONFLICT DO NOTHING");
            co_await tx.query(
                "INSERT INTO postings (entry_id, account_id, amount, currency) "
                "VALUES ($1::bigint, 'escrow', 100, 'INR')",
                id);
        });
    };
    EXPECT_THROW(run(unbalanced()), rt::PgError);
    EXPECT_EQ(one("SELECT count(*) FROM journal_entries WHERE operation = 'hand-typed'"), "0");
    run(payments_->authorise(key("auth"), intent()));
    EXPECT_THROW(run(pool_->query("UPDATE postings SET amount = amount + 1")), rt::PgError);
    EXPECT_THROW(run(pool_->query("DELETE FROM postings")), rt::PgError);
    EXPECT_THROW(run(pool_->query("UPDATE journal_entries SET intent_id = 'pi_other'")),
                 rt::PgError);
}

}  // namespace
}  // namespace restinu::payment
