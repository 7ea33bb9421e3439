#include "purchase_store.hpp"

#include "restinu/contracts/events.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::payment {
namespace {

constexpr std::string_view kColumns =
    "id::text AS id, offer_id::text AS offer_id, listing_id::text AS listing_id, "
    "listing_version, buyer_id::text AS buyer_id, seller_id::text AS seller_id, price, charge, "
    "currency, payment_method, state, coalesce(step, '') AS step, attempts, "
    "coalesce(intent_id, '') AS intent_id, coalesce(agreement_sha256, '') AS agreement_sha256, "
    "coalesce(failure_reason, '') AS failure_reason, restinu_iso(created_at) AS created_at, "
    "restinu_iso(updated_at) AS updated_at, coalesce(lease_owner, '') AS lease";

std::vector<PurchaseRow> readRows(const rt::PgResult& r) {
    static constexpr std::array<std::string_view, 19> kNames = {
        "id",       "offer_id",  "listing_id",       "listing_version", "buyer_id",   "seller_id",
        "price",    "charge",    "currency",         "payment_method",  "state",      "step",
        "attempts", "intent_id", "agreement_sha256", "failure_reason",  "created_at", "updated_at",
        "lease"};
    const auto c = rt::requireColumns(r, kNames);
    std::vector<PurchaseRow> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        PurchaseRow p;
        p.id = r.get(i, c[0]);
        p.offer_id = r.get(i, c[1]);
        p.listing_id = r.get(i, c[2]);
        p.listing_version = static_cast<int>(r.getInt(i, c[3]));
        p.buyer_id = r.get(i, c[4]);
        p.seller_id = r.get(i, c[5]);
        p.price = r.getInt(i, c[6]);
        p.charge = r.getInt(i, c[7]);
        p.currency = r.get(i, c[8]);
        p.payment_method = r.get(i, c[9]);
        p.state = r.get(i, c[10]);
        p.step = r.get(i, c[11]);
        p.attempts = static_cast<int>(r.getInt(i, c[12]));
        p.intent_id = r.get(i, c[13]);
        p.agreement_sha256 = r.get(i, c[14]);
        p.failure_reason = r.get(i, c[15]);
        p.created_at = r.get(i, c[16]);
        p.updated_at = r.get(i, c[17]);
        p.lease = r.get(i, c[18]);
        out.push_back(std::move(p));
    }
    return out;
}

int indexOf(std::string_view step) {
    for (std::size_t i = 0; i < kSteps.size(); ++i) {
        if (kSteps[i] == step) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

std::string millis(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " milliseconds";
}

rt::Task<void> enqueueEnded(rt::PgConn& tx, const PurchaseRow& p, std::string_view type,
                            const std::string& reason) {
    const contracts::PurchaseEnded ended{p.id,    p.listing_id, p.buyer_id, p.seller_id,
                                         p.price, p.currency,   reason};
    co_await rt::enqueueEvent(
        tx, rt::makeEvent(std::string(type), std::string(contracts::kPurchaseAggregate), p.id,
                          ended.data()));
}

rt::Task<void> markStep(rt::PgConn& tx, const PurchaseRow& p, std::string_view status,
                        const std::string& error) {
    co_await tx.execute(
        "saga_mark_step",
        "INSERT INTO purchase_steps (purchase_id, step, status, attempts, finished_at, error) "
        "VALUES ($1::uuid, $2, $3, $4::int, now(), nullif($5, '')) "
        "ON CONFLICT (purchase_id, step) DO UPDATE SET status = EXCLUDED.status, "
        "attempts = purchase_steps.attempts + EXCLUDED.attempts, finished_at = now(), "
        "error = coalesce(EXCLUDED.error, purchase_steps.error)",
        p.id, p.step, status, p.attempts + 1, error);
}

// The purchase locked, if `owner` still holds its lease (else another orchestrator has it).
rt::Task<std::optional<double>> holdLease(rt::PgConn& tx, const PurchaseRow& p,
                                          const std::string& owner) {
    auto r = co_await tx.execute(
        "saga_hold_lease",
        "SELECT extract(epoch FROM now() - created_at)::float8 FROM purchases "
        "WHERE id = $1::uuid AND lease_owner = $2 AND lease_until > now() AND state = $3 "
        "AND step = $4 FOR UPDATE",
        p.id, owner, p.state, p.step);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return std::stod(std::string(r.get(0, 0)));
}

}  // namespace

rt::Task<std::vector<PurchaseRow>> PurchaseStore::claimDue(const std::string& owner,
                                                           std::chrono::milliseconds lease,
                                                           std::size_t batch) {
    const std::string sql =
        "UPDATE purchases p SET lease_owner = $1 || ':' || gen_random_uuid(), "
        "lease_until = now() + $2::interval "
        "WHERE id IN (SELECT id FROM purchases WHERE state IN ('running', 'compensating') "
        "AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now()) "
        "ORDER BY next_attempt_at LIMIT $3::int FOR UPDATE SKIP LOCKED) RETURNING " +
        std::string(kColumns);
    auto r = co_await pool_.execute("saga_claim", sql, owner, millis(lease),
                                    static_cast<std::int64_t>(batch));
    co_return readRows(r);
}

rt::Task<Recorded> PurchaseStore::recordForward(const PurchaseRow& p, const StepOutcome& o,
                                                const std::string& owner, int max_attempts,
                                                std::chrono::milliseconds retry_in,
                                                std::chrono::milliseconds lease) {
    std::function<rt::Task<Recorded>(rt::PgConn&)> body =
        [&](rt::PgConn& tx) -> rt::Task<Recorded> {
        auto age = co_await holdLease(tx, p, owner);
        if (!age) {
            co_return Recorded{p.state, 0, {}, false, {}};
        }
        using K = StepOutcome::Kind;
        if (o.kind == K::Ok) {
            co_await markStep(tx, p, "succeeded", "");
            if (!o.intent_id.empty()) {
                co_await tx.execute("saga_intent",
                                    "UPDATE purchases SET intent_id = $2 WHERE id = $1::uuid", p.id,
                                    o.intent_id);
            }
            const auto at = static_cast<std::size_t>(indexOf(p.step));
            if (at + 1 == kSteps.size()) {
                co_await tx.execute(
                    "saga_completed",
                    "UPDATE purchases SET state = 'completed', step = NULL, attempts = 0, "
                    "lease_owner = NULL, lease_until = NULL, finished_at = now(), "
                    "updated_at = now() WHERE id = $1::uuid",
                    p.id);
                co_await enqueueEnded(tx, p, contracts::PurchaseEnded::kCompleted, "");
                co_return Recorded{"completed", *age, {}, false, {}};
            }
            // The lease is kept (and renewed): the same run goes on to the next step.
            co_await tx.execute(
                "saga_next",
                "UPDATE purchases SET step = $2, attempts = 0, next_attempt_at = now(), "
                "lease_until = now() + $3::interval, updated_at = now() WHERE id = $1::uuid",
                p.id, kSteps[at + 1], millis(lease));
            co_return Recorded{"running", *age, std::string(kSteps[at + 1]), true, {}};
        }
        if (o.kind == K::Wait) {
            co_await tx.execute(
                "saga_wait",
                "UPDATE purchases SET next_attempt_at = now() + $2::interval, lease_owner = NULL, "
                "lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
                p.id, millis(retry_in));
            co_return Recorded{"running", *age, {}, false, {}};
        }
        // After the capture the sale is paid for: what is left (marking it sold) is retried
        // until it succeeds, never compensated (the pivot of the saga; docs/payments.md).
        const bool past_pivot = indexOf(p.step) > indexOf("capture");
        if (past_pivot || (o.kind == K::Retry && p.attempts + 1 < max_attempts)) {
            co_await tx.execute(
                "saga_retry",
                "UPDATE purchases SET attempts = attempts + 1, next_attempt_at = now() + "
                "$2::interval, lease_owner = NULL, lease_until = NULL, failure_reason = $3, "
                "updated_at = now() WHERE id = $1::uuid",
                p.id, millis(retry_in), o.reason);
            co_return Recorded{"running", *age, {}, false, {}};
        }
        const std::string reason = o.kind == K::Retry ? p.step + " did not succeed after " +
                                                            std::to_string(p.attempts + 1) +
                                                            " attempts: " + o.reason
                                                      : p.step + ": " + o.reason;
        co_await markStep(tx, p, "failed", reason);
        // Compensation starts at the failed step itself: it may have acted without answering.
        // The same run goes on with it.
        co_await tx.execute(
            "saga_compensate",
            "UPDATE purchases SET state = 'compensating', attempts = 0, next_attempt_at = now(), "
            "lease_until = now() + $3::interval, failure_reason = $2, updated_at = now() "
            "WHERE id = $1::uuid",
            p.id, reason, millis(lease));
        co_return Recorded{"compensating", *age, p.step, true, reason};
    };
    co_return co_await pool_.transaction(body);
}

rt::Task<Recorded> PurchaseStore::recordBackward(const PurchaseRow& p, const StepOutcome& o,
                                                 const std::string& owner,
                                                 std::chrono::milliseconds retry_in,
                                                 std::chrono::milliseconds lease) {
    std::function<rt::Task<Recorded>(rt::PgConn&)> body =
        [&](rt::PgConn& tx) -> rt::Task<Recorded> {
        auto age = co_await holdLease(tx, p, owner);
        if (!age) {
            co_return Recorded{p.state, 0, {}, false, {}};
        }
        if (o.kind == StepOutcome::Kind::Wait) {
            co_await tx.execute(
                "saga_compensation_wait",
                "UPDATE purchases SET next_attempt_at = now() + $2::interval, lease_owner = NULL, "
                "lease_until = NULL, updated_at = now() WHERE id = $1::uuid",
                p.id, millis(retry_in));
            co_return Recorded{"compensating", *age, {}, false, {}};
        }
        if (o.kind != StepOutcome::Kind::Ok) {
            // Compensations are retried until they succeed (an operator sees them in metrics
            // and `restinu purchase list --state compensating`).
            co_await tx.execute(
                "saga_compensation_retry",
                "UPDATE purchases SET attempts = attempts + 1, next_attempt_at = now() + "
                "$2::interval, lease_owner = NULL, lease_until = NULL, updated_at = now() "
                "WHERE id = $1::uuid",
                p.id, millis(retry_in));
            co_return Recorded{"compensating", *age, {}, false, {}};
        }
        co_await tx.execute("saga_step_compensated",
                            "UPDATE purchase_steps SET status = 'compensated', finished_at = now() "
                            "WHERE purchase_id = $1::uuid AND step = $2 AND status = 'succeeded'",
                            p.id, p.step);
        const int at = indexOf(p.step);
        if (at <= 0) {
            co_await tx.execute(
                "saga_failed",
                "UPDATE purchases SET state = 'failed', step = NULL, attempts = 0, "
                "lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now() "
                "WHERE id = $1::uuid",
                p.id);
            co_await enqueueEnded(tx, p, contracts::PurchaseEnded::kFailed, p.failure_reason);
            co_return Recorded{"failed", *age, {}, false, {}};
        }
        const auto back = kSteps[static_cast<std::size_t>(at - 1)];
        co_await tx.execute(
            "saga_back",
            "UPDATE purchases SET step = $2, attempts = 0, next_attempt_at = now(), "
            "lease_until = now() + $3::interval, updated_at = now() WHERE id = $1::uuid",
            p.id, back, millis(lease));
        co_return Recorded{"compensating", *age, std::string(back), true, {}};
    };
    co_return co_await pool_.transaction(body);
}

rt::Task<std::size_t> PurchaseStore::lapseOffers() {
    std::function<rt::Task<std::size_t>(rt::PgConn&)> body =
        [](rt::PgConn& tx) -> rt::Task<std::size_t> {
        auto r = co_await tx.execute(
            "offers_lapse",
            "UPDATE offers SET status = 'lapsed', decided_at = now() WHERE id IN (SELECT id FROM "
            "offers WHERE status = 'pending' AND expires_at < now() LIMIT 100 "
            "FOR UPDATE SKIP LOCKED) RETURNING id::text, listing_id::text, buyer_id::text, "
            "seller_id::text, amount, currency");
        for (std::size_t i = 0; i < r.rows(); ++i) {
            const contracts::OfferChanged lapsed{std::string(r.get(i, 0)),
                                                 std::string(r.get(i, 1)),
                                                 std::string(r.get(i, 2)),
                                                 std::string(r.get(i, 3)),
                                                 r.getInt(i, 4),
                                                 std::string(r.get(i, 5)),
                                                 ""};
            co_await rt::enqueueEvent(
                tx, rt::makeEvent(std::string(contracts::OfferChanged::kLapsed),
                                  std::string(contracts::kOfferAggregate), lapsed.offer_id,
                                  lapsed.data()));
        }
        co_return r.rows();
    };
    co_return co_await pool_.transaction(body);
}

rt::Task<std::optional<PurchaseRow>> PurchaseStore::find(const std::string& id) {
    const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM purchases WHERE id = $1::uuid";
    auto rows = readRows(co_await pool_.execute("purchase_find", sql, id));
    if (rows.empty()) {
        co_return std::nullopt;
    }
    co_return std::move(rows.front());
}

rt::Task<std::vector<StepRow>> PurchaseStore::steps(const std::string& id) {
    auto r = co_await pool_.execute(
        "purchase_steps_of",
        "SELECT step, status, attempts, coalesce(error, ''), "
        "coalesce(restinu_iso(finished_at), '') FROM purchase_steps WHERE purchase_id = $1::uuid",
        id);
    std::vector<StepRow> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back({std::string(r.get(i, 0)), std::string(r.get(i, 1)),
                       static_cast<int>(r.getInt(i, 2)), std::string(r.get(i, 3)),
                       std::string(r.get(i, 4))});
    }
    // In the saga's order.
    std::sort(out.begin(), out.end(),
              [](const StepRow& a, const StepRow& b) { return indexOf(a.step) < indexOf(b.step); });
    co_return out;
}

rt::Task<std::vector<PurchaseRow>> PurchaseStore::list(const std::string& state,
                                                       std::size_t limit) {
    const std::string sql = "SELECT " + std::string(kColumns) +
                            " FROM purchases WHERE ($1 = '' OR state = $1) "
                            "ORDER BY created_at DESC LIMIT $2::int";
    co_return readRows(
        co_await pool_.execute("purchase_list", sql, state, static_cast<std::int64_t>(limit)));
}

rt::Task<std::optional<std::string>> PurchaseStore::agreement(const std::string& id) {
    auto r = co_await pool_.execute(
        "purchase_agreement",
        "SELECT encode(agreement_pdf, 'base64') FROM purchases WHERE id = $1::uuid "
        "AND agreement_pdf IS NOT NULL",
        id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return std::string(r.get(0, 0));
}

rt::Task<void> PurchaseStore::saveAgreement(const std::string& id, const std::string& pdf,
                                            const std::string& sha256) {
    co_await pool_.execute("purchase_save_agreement",
                           "UPDATE purchases SET agreement_pdf = decode($2, 'hex'), "
                           "agreement_sha256 = $3 WHERE id = $1::uuid AND agreement_pdf IS NULL",
                           id, rt::toHex(pdf), sha256);
}

rt::Task<bool> PurchaseStore::retryNow(const std::string& id) {
    auto r = co_await pool_.execute(
        "purchase_retry_now",
        "UPDATE purchases SET attempts = 0, next_attempt_at = now(), lease_owner = NULL, "
        "lease_until = NULL WHERE id = $1::uuid AND state IN ('running', 'compensating') "
        "AND (lease_until IS NULL OR lease_until < now())",
        id);
    co_return r.affected() == 1;
}

rt::Task<bool> PurchaseStore::compensateNow(const std::string& id, const std::string& reason) {
    auto r = co_await pool_.execute(
        "purchase_compensate_now",
        "UPDATE purchases SET state = 'compensating', attempts = 0, next_attempt_at = now(), "
        "lease_owner = NULL, lease_until = NULL, failure_reason = $2 "
        "WHERE id = $1::uuid AND state = 'running' AND step <> 'mark_sold' "
        "AND (lease_until IS NULL OR lease_until < now())",
        id, reason);
    co_return r.affected() == 1;
}

}  // namespace restinu::payment
