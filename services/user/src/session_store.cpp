#include "session_store.hpp"

#include <sodium.h>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::user {
namespace {

// The refresh token is 256 random bits; only its SHA-256 is stored (as hex, bound as text).
std::string newRefreshToken() {
    std::string raw(32, '\0');
    randombytes_buf(raw.data(), raw.size());
    return rt::base64UrlEncode(raw);
}

}  // namespace

rt::Task<std::vector<SessionView>> SessionStore::active(const std::string& user_id) {
    auto r = co_await pool_.query(
        // Output names unlike the table's columns: ORDER BY created_at must mean the column.
        "SELECT id::text AS id, device, ip, restinu_iso(created_at) AS created_iso, "
        "restinu_iso(last_used_at) AS last_used_iso FROM sessions "
        "WHERE user_id = $1::uuid AND revoked_at IS NULL ORDER BY created_at",
        user_id);
    const int id = rt::requireColumn(r, "id");
    const int device = rt::requireColumn(r, "device");
    const int ip = rt::requireColumn(r, "ip");
    const int created = rt::requireColumn(r, "created_iso");
    const int used = rt::requireColumn(r, "last_used_iso");
    std::vector<SessionView> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back({std::string(r.get(i, id)), std::string(r.get(i, device)),
                       std::string(r.get(i, ip)), std::string(r.get(i, created)),
                       std::string(r.get(i, used))});
    }
    co_return out;
}

rt::Task<std::string> SessionStore::issueRefresh(rt::PgConn& tx, const std::string& session_id) {
    auto token = newRefreshToken();
    co_await tx.query(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) "
        "VALUES (decode($1, 'hex'), $2::uuid, now() + make_interval(secs => $3))",
        rt::sha256Hex(token), session_id, static_cast<double>(refresh_ttl_.count()));
    co_return token;
}

rt::Task<std::string> SessionStore::open(rt::PgConn& tx, const std::string& session_id,
                                         const std::string& user_id, const std::string& device,
                                         const std::string& ip, const WriteContext& ctx) {
    const std::string stored_device = device.substr(0, 200);
    // A device none of the account's earlier sessions had (the first sign-in is no news).
    auto seen = co_await tx.query(
        "SELECT count(*) AS sessions, count(*) FILTER (WHERE device = $2) AS same "
        "FROM sessions WHERE user_id = $1::uuid",
        user_id, stored_device);
    const bool new_device = seen.getInt(0, rt::requireColumn(seen, "sessions")) > 0 &&
                            seen.getInt(0, rt::requireColumn(seen, "same")) == 0;
    co_await tx.query(
        "INSERT INTO sessions (id, user_id, device, ip) VALUES ($1::uuid, $2::uuid, $3, $4)",
        session_id, user_id, stored_device, ip);
    co_await rt::audit(tx, user_id, "user.login", "user", user_id, ctx.request_id);
    if (new_device) {
        const contracts::UserNewDevice event{user_id, stored_device, ip};
        auto data = event.data();
        co_await enqueueUserEvent(tx, event.kType, user_id, std::move(data), ctx);
    }
    co_return co_await issueRefresh(tx, session_id);
}

rt::Task<std::optional<RefreshState>> SessionStore::lockRefresh(rt::PgConn& tx,
                                                                const std::string& token) {
    auto r = co_await tx.query(
        "SELECT t.session_id::text AS session_id, s.user_id::text AS user_id, u.role AS role, "
        "t.used_at IS NOT NULL AS used, t.expires_at < now() AS expired, "
        "s.revoked_at IS NOT NULL AS revoked "
        "FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id "
        "JOIN users u ON u.id = s.user_id WHERE t.token_hash = decode($1, 'hex') "
        "FOR UPDATE OF t, s",
        rt::sha256Hex(token));
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    auto flag = [&r](std::string_view name) { return r.get(0, rt::requireColumn(r, name)) == "t"; };
    co_return RefreshState{std::string(r.get(0, rt::requireColumn(r, "session_id"))),
                           std::string(r.get(0, rt::requireColumn(r, "user_id"))),
                           std::string(r.get(0, rt::requireColumn(r, "role"))),
                           flag("used"),
                           flag("expired"),
                           flag("revoked")};
}

rt::Task<std::string> SessionStore::rotate(rt::PgConn& tx, const std::string& token,
                                           const RefreshState& state, const WriteContext& ctx) {
    co_await tx.query(
        "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = decode($1, 'hex')",
        rt::sha256Hex(token));
    co_await tx.query("UPDATE sessions SET last_used_at = now() WHERE id = $1::uuid",
                      state.session_id);
    // The successor in the same transaction: a failure leaves the old token unused.
    auto next = co_await issueRefresh(tx, state.session_id);
    co_await rt::audit(tx, state.user_id, "session.refresh", "session", state.session_id,
                       ctx.request_id);
    co_return next;
}

rt::Task<void> SessionStore::revokeForReuse(rt::PgConn& tx, const RefreshState& state,
                                            const WriteContext& ctx) {
    co_await tx.query(
        "UPDATE sessions SET revoked_at = now(), revoke_reason = 'refresh token reuse' "
        "WHERE id = $1::uuid AND revoked_at IS NULL",
        state.session_id);
    co_await rt::audit(tx, state.user_id, "session.revoke_reuse", "session", state.session_id,
                       ctx.request_id);
}

rt::Task<bool> SessionStore::revokeByRefresh(rt::PgConn& tx, const std::string& token,
                                             const WriteContext& ctx) {
    auto r = co_await tx.query(
        "UPDATE sessions SET revoked_at = now(), revoke_reason = 'logout' "
        "WHERE revoked_at IS NULL AND id = (SELECT session_id FROM refresh_tokens "
        "WHERE token_hash = decode($1, 'hex')) RETURNING id::text AS id, user_id::text AS user_id",
        rt::sha256Hex(token));
    if (r.rows() != 1) {
        co_return false;
    }
    co_await rt::audit(tx, r.get(0, rt::requireColumn(r, "user_id")), "session.logout", "session",
                       r.get(0, rt::requireColumn(r, "id")), ctx.request_id);
    co_return true;
}

rt::Task<bool> SessionStore::revokeOwned(rt::PgConn& tx, const std::string& id,
                                         const std::string& user_id, const WriteContext& ctx) {
    // Scoped to the owner: another user's session id is "not found", never revoked.
    auto r = co_await tx.query(
        "UPDATE sessions SET revoked_at = now(), revoke_reason = 'revoked by user' "
        "WHERE id = $1::uuid AND user_id = $2::uuid AND revoked_at IS NULL",
        id, user_id);
    if (r.affected() != 1) {
        co_return false;
    }
    co_await rt::audit(tx, user_id, "session.revoke", "session", id, ctx.request_id);
    co_return true;
}

}  // namespace restinu::user
