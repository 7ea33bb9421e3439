#include "investment_store.hpp"

#include <array>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::blockchain {
namespace {

constexpr std::string_view kSelect =
    "SELECT i.id::text AS id, i.investor_id::text AS investor_id, i.property_id::text AS "
    "property_id, i.idempotency_key, i.request_sha256, i.shares, i.price_minor, i.amount_minor, "
    "i.currency, i.payment_method, i.payee_id::text AS payee_id, i.wallet, i.state, "
    "coalesce(i.intent_id, '') AS intent_id, coalesce(i.tx_id::text, '') AS tx_id, "
    "coalesce(t.mined_hash, t.hash, '') AS tx_hash, i.attempts, coalesce(i.failure, "
    "'') AS failure, coalesce(i.last_error, '') AS last_error, restinu_iso(i.created_at) AS "
    "created_at, restinu_iso(i.updated_at) AS updated_at, coalesce(restinu_iso(i.finished_at), "
    "'') AS finished_at, coalesce(k.shares_address, '') AS shares_contract FROM "
    "chain_investments i JOIN chain_tokenizations k ON k.property_id = i.property_id LEFT JOIN "
    "chain_transactions t ON t.id = i.tx_id ";

std::vector<Investment> rowsOf(const rt::PgResult& r) {
    static constexpr std::array<std::string_view, 23> kNames{
        "id",         "investor_id", "property_id",    "idempotency_key", "request_sha256",
        "shares",     "price_minor", "amount_minor",   "currency",        "payment_method",
        "payee_id",   "wallet",      "state",          "intent_id",       "tx_id",
        "tx_hash",    "attempts",    "failure",        "last_error",      "created_at",
        "updated_at", "finished_at", "shares_contract"};
    std::vector<Investment> out;
    if (r.rows() == 0) {
        return out;
    }
    const auto c = rt::requireColumns(r, kNames);
    for (std::size_t i = 0; i < r.rows(); ++i) {
        Investment x;
        x.id = r.get(i, c[0]);
        x.investor_id = r.get(i, c[1]);
        x.property_id = r.get(i, c[2]);
        x.idempotency_key = r.get(i, c[3]);
        x.request_sha256 = r.get(i, c[4]);
        x.shares = r.getInt(i, c[5]);
        x.price_minor = r.getInt(i, c[6]);
        x.amount_minor = r.getInt(i, c[7]);
        x.currency = r.get(i, c[8]);
        x.payment_method = r.get(i, c[9]);
        x.payee_id = r.get(i, c[10]);
        x.wallet = r.get(i, c[11]);
        x.state = r.get(i, c[12]);
        x.intent_id = r.get(i, c[13]);
        x.tx_id = r.get(i, c[14]);
        x.tx_hash = r.get(i, c[15]);
        x.attempts = static_cast<int>(r.getInt(i, c[16]));
        x.failure = r.get(i, c[17]);
        x.last_error = r.get(i, c[18]);
        x.created_at = r.get(i, c[19]);
        x.updated_at = r.get(i, c[20]);
        x.finished_at = r.get(i, c[21]);
        x.shares_contract = r.get(i, c[22]);
        out.push_back(std::move(x));
    }
    return out;
}

std::optional<Investment> first(const rt::PgResult& r) {
    auto rows = rowsOf(r);
    if (rows.empty()) {
        return std::nullopt;
    }
    return std::move(rows.front());
}

std::string millis(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " milliseconds";
}

}  // namespace

rt::Task<std::optional<Investment>> InvestmentStore::find(rt::PgConn& c, std::string id) {
    auto r = co_await c.query(std::string(kSelect) + "WHERE i.id = $1::uuid", id);
    co_return first(r);
}

rt::Task<std::optional<Investment>> InvestmentStore::findByKey(rt::PgConn& c,
                                                               std::string investor_id,
                                                               std::string key) {
    auto r = co_await c.query(
        std::string(kSelect) + "WHERE i.investor_id = $1::uuid AND i.idempotency_key = $2",
        investor_id, key);
    co_return first(r);
}

rt::Task<std::vector<Investment>> InvestmentStore::mine(rt::PgConn& c, std::string investor_id,
                                                        int limit) {
    auto r = co_await c.query(std::string(kSelect) +
                                  "WHERE i.investor_id = $1::uuid ORDER BY i.created_at DESC, "
                                  "i.id LIMIT $2::int",
                              investor_id, limit);
    co_return rowsOf(r);
}

rt::Task<std::int64_t> InvestmentStore::lockAvailable(rt::PgConn& tx, std::string property_id,
                                                      std::int64_t total_shares) {
    co_await tx.query("SELECT 1 FROM chain_tokenizations WHERE property_id = $1::uuid FOR UPDATE",
                      property_id);
    auto r = co_await tx.query(
        "SELECT coalesce(sum(shares), 0)::bigint FROM chain_investments WHERE property_id = "
        "$1::uuid AND state <> 'failed'",
        property_id);
    co_return total_shares - r.getInt(0, 0);
}

rt::Task<bool> InvestmentStore::insert(rt::PgConn& tx, const Investment& i) {
    auto r = co_await tx.query(
        "INSERT INTO chain_investments (id, investor_id, property_id, idempotency_key, "
        "request_sha256, shares, price_minor, amount_minor, currency, payment_method, payee_id, "
        "wallet, state) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6::bigint, $7::bigint, "
        "$8::bigint, $9, $10, $11::uuid, $12, 'authorising') ON CONFLICT (investor_id, "
        "idempotency_key) DO NOTHING RETURNING 1",
        i.id, i.investor_id, i.property_id, i.idempotency_key, i.request_sha256, i.shares,
        i.price_minor, i.amount_minor, i.currency, i.payment_method, i.payee_id, i.wallet);
    co_return r.rows() == 1;
}

rt::Task<std::vector<Investment>> InvestmentStore::claimDue(rt::PgPool& pool, int limit,
                                                            std::chrono::milliseconds lease) {
    std::vector<Investment> out;
    co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        auto ids = co_await tx.query(
            "UPDATE chain_investments SET next_attempt_at = now() + $2::interval WHERE id IN "
            "(SELECT id FROM chain_investments WHERE state IN ('authorising', 'capturing', "
            "'voiding') AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1::int "
            "FOR UPDATE SKIP LOCKED) RETURNING id",
            limit, millis(lease));
        if (ids.rows() == 0) {
            co_return;
        }
        std::string list = "{";
        for (std::size_t i = 0; i < ids.rows(); ++i) {
            list += (i == 0 ? "" : ",") + std::string(ids.get(i, 0));
        }
        list += "}";
        auto r = co_await tx.query(std::string(kSelect) + "WHERE i.id = ANY($1::uuid[])", list);
        out = rowsOf(r);
    });
    co_return out;
}

rt::Task<void> InvestmentStore::retry(rt::PgPool& pool, std::string id, std::string state,
                                      std::string error, std::chrono::milliseconds backoff) {
    co_await pool.query(
        "UPDATE chain_investments SET attempts = attempts + 1, last_error = $3, next_attempt_at "
        "= now() + $4::interval, updated_at = now() WHERE id = $1::uuid AND state = $2",
        id, state, error, millis(backoff));
}

rt::Task<bool> InvestmentStore::move(rt::PgConn& tx, std::string id, std::string from,
                                     std::string to, std::string intent_id, std::string tx_id,
                                     std::string failure) {
    auto r = co_await tx.query(
        "UPDATE chain_investments SET state = $3, intent_id = coalesce(nullif($4, ''), "
        "intent_id), tx_id = coalesce(nullif($5, '')::uuid, tx_id), failure = "
        "coalesce(nullif($6, ''), failure), attempts = 0, last_error = NULL, next_attempt_at = "
        "now(), updated_at = now() WHERE id = $1::uuid AND state = $2 RETURNING 1",
        id, from, to, intent_id, tx_id, failure);
    co_return r.rows() == 1;
}

rt::Task<bool> InvestmentStore::finish(rt::PgConn& tx, const Investment& i, std::string from,
                                       bool completed, std::string failure) {
    auto r = co_await tx.query(
        "UPDATE chain_investments SET state = $3, failure = coalesce(nullif($4, ''), failure), "
        "last_error = NULL, finished_at = now(), updated_at = now() WHERE id = $1::uuid AND "
        "state = $2 RETURNING coalesce(failure, '')",
        i.id, from, completed ? "completed" : "failed", failure);
    if (r.rows() != 1) {
        co_return false;
    }
    contracts::InvestmentEnded e;
    e.investment_id = i.id;
    e.property_id = i.property_id;
    e.investor_id = i.investor_id;
    e.shares = i.shares;
    e.amount = i.amount_minor;
    e.currency = i.currency;
    e.reason = std::string(r.get(0, 0));
    const auto type =
        completed ? contracts::InvestmentEnded::kCompleted : contracts::InvestmentEnded::kFailed;
    co_await rt::enqueueEvent(
        tx, rt::makeEvent(std::string(type), std::string(contracts::kInvestmentAggregate), i.id,
                          e.data()));
    co_return true;
}

}  // namespace restinu::blockchain
