#include "message_store.hpp"

#include <algorithm>
#include <array>
#include <random>

#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::notification {

rt::Task<bool> MessageStore::enqueue(rt::PgConn& tx, const NewMessage& m) {
    const auto id = rt::newUuidV7();
    auto r = co_await tx.execute(
        "notification_enqueue",
        "INSERT INTO messages (id, event_id, channel, user_id, template, category, address, "
        "to_name, subject, body_text, body_html, data, unsubscribe) VALUES ($1::uuid, "
        "$2::uuid, $3, $4::uuid, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (event_id, channel, user_id) DO NOTHING",
        id, m.event_id, m.channel, m.user_id, m.template_id, m.category, m.address, m.to_name,
        m.subject, m.text, m.html, m.data_json, m.unsubscribe);
    if (r.affected() == 0) {
        co_return false;
    }
    co_await tx.execute("notification_log_queued",
                        "INSERT INTO delivery_log (message_id, attempt, outcome) "
                        "VALUES ($1::uuid, 0, 'queued')",
                        id);
    co_return true;
}

rt::Task<std::vector<Claimed>> MessageStore::claim(rt::PgPool& pool,
                                                   const std::vector<std::string>& channels,
                                                   int limit, std::chrono::milliseconds lease) {
    std::string list = "{";
    for (const auto& c : channels) {
        list += (list.size() > 1 ? "," : "") + c;
    }
    list += "}";
    auto r = co_await pool.execute(
        "notification_claim",
        "UPDATE messages m SET status = 'sending', attempts = m.attempts + 1, "
        "lease_until = now() + $3::bigint * interval '1 millisecond' "
        "FROM (SELECT id FROM messages WHERE channel = ANY($1::text[]) AND "
        "((status = 'queued' AND next_attempt_at <= now()) OR "
        "(status = 'sending' AND lease_until < now())) "
        "ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) due WHERE m.id = due.id "
        "RETURNING m.id::text AS id, m.user_id::text AS user_id, m.channel, m.address, "
        "m.to_name, m.subject, m.body_text, m.body_html, m.category, m.unsubscribe, m.data, "
        "m.attempts",
        list, limit, static_cast<std::int64_t>(lease.count()));
    static constexpr std::array<std::string_view, 12> kNames = {
        "id",        "user_id",   "channel",  "address",     "to_name", "subject",
        "body_text", "body_html", "category", "unsubscribe", "data",    "attempts"};
    const auto col = rt::requireColumns(r, kNames);
    std::vector<Claimed> out;
    out.reserve(r.rows());
    for (std::size_t i = 0; i < r.rows(); ++i) {
        Claimed c;
        c.out.message_id = r.get(i, col[0]);
        c.out.user_id = r.get(i, col[1]);
        c.channel = r.get(i, col[2]);
        c.out.to = r.get(i, col[3]);
        c.out.to_name = r.get(i, col[4]);
        c.out.subject = r.get(i, col[5]);
        c.out.text = r.get(i, col[6]);
        c.out.html = r.get(i, col[7]);
        c.out.category = r.get(i, col[8]);
        c.out.unsubscribe = r.get(i, col[9]);
        c.out.data_json = r.get(i, col[10]);
        c.attempt = static_cast<int>(r.getInt(i, col[11]));
        out.push_back(std::move(c));
    }
    co_return out;
}

rt::Task<void> MessageStore::finish(rt::PgPool& pool, const Claimed& c, const SendResult& result,
                                    std::string_view provider, bool dead,
                                    std::chrono::milliseconds retry_in) {
    const bool sent = result.outcome == SendResult::Outcome::Sent;
    const std::string status = sent ? "sent" : (dead ? "dead" : "queued");
    const std::string outcome = sent ? "sent" : (dead ? "dead" : "failed");
    std::string detail = result.detail.substr(0, 1000);
    if (!sent && !dead) {
        detail += " (attempt " + std::to_string(c.attempt) + "; again in " +
                  std::to_string(retry_in.count() / 1000) + " s)";
    }
    co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        auto r = co_await tx.execute(
            "notification_finish",
            "UPDATE messages SET status = $3, lease_until = NULL, provider = $4, "
            "provider_id = coalesce(nullif($5, ''), provider_id), "
            "last_error = CASE WHEN $3 = 'sent' THEN last_error ELSE $6 END, "
            "sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END, "
            "next_attempt_at = now() + $7::bigint * interval '1 millisecond' "
            "WHERE id = $1::uuid AND status = 'sending' AND attempts = $2::int",
            c.out.message_id, c.attempt, status, std::string(provider), result.provider_id,
            result.detail.substr(0, 1000), static_cast<std::int64_t>(retry_in.count()));
        if (r.affected() == 0) {
            co_return;  // another dispatcher took the message over after our lease ran out
        }
        co_await tx.execute("notification_log",
                            "INSERT INTO delivery_log (message_id, attempt, outcome, detail) "
                            "VALUES ($1::uuid, $2::int, $3, $4)",
                            c.out.message_id, c.attempt, outcome, detail);
    });
}

rt::Task<std::vector<MessageRow>> MessageStore::list(rt::PgPool& pool, std::string status,
                                                     std::string user_id, int limit) {
    auto r = co_await pool.query(
        "SELECT id::text AS id, user_id::text AS user_id, channel, template, status, attempts, "
        "coalesce(last_error, '') AS last_error, restinu_iso(created_at) AS created_at "
        "FROM messages WHERE ($1 = '' OR status = $1) AND ($2 = '' OR user_id::text = $2) "
        "ORDER BY created_at DESC, id DESC LIMIT $3",
        status, user_id, limit);
    static constexpr std::array<std::string_view, 8> kNames = {
        "id", "user_id", "channel", "template", "status", "attempts", "last_error", "created_at"};
    const auto c = rt::requireColumns(r, kNames);
    std::vector<MessageRow> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back({std::string(r.get(i, c[0])), std::string(r.get(i, c[1])),
                       std::string(r.get(i, c[2])), std::string(r.get(i, c[3])),
                       std::string(r.get(i, c[4])), static_cast<int>(r.getInt(i, c[5])),
                       std::string(r.get(i, c[6])), std::string(r.get(i, c[7]))});
    }
    co_return out;
}

rt::Task<std::int64_t> MessageStore::requeueDead(rt::PgPool& pool, std::vector<std::string> ids) {
    std::string list = "{";
    for (const auto& id : ids) {
        list += (list.size() > 1 ? "," : "") + id;
    }
    list += "}";
    std::int64_t n = 0;
    co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        auto r = co_await tx.query(
            "WITH again AS (UPDATE messages SET status = 'queued', attempts = 0, "
            "next_attempt_at = now(), lease_until = NULL WHERE status = 'dead' AND "
            "(cardinality($1::uuid[]) = 0 OR id = ANY($1::uuid[])) RETURNING id) "
            "INSERT INTO delivery_log (message_id, attempt, outcome, detail) "
            "SELECT id, 0, 'queued', 'queued again by an operator' FROM again",
            list);
        n = static_cast<std::int64_t>(r.affected());
    });
    co_return n;
}

std::chrono::milliseconds backoff(const RetryPolicy& p, int attempt) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    const int shift = std::clamp(attempt - 1, 0, 30);
    const auto raw = std::min<std::int64_t>(p.base.count() << shift, p.max.count());
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(raw) * jitter(rng)));
}

}  // namespace restinu::notification
