#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"
#include "write_context.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The session aggregate: a signed-in device (table sessions) and its chain of refresh tokens
/// (table refresh_tokens; only each token's SHA-256 is stored). A refresh token is used once;
/// its successor is issued in the same transaction.
namespace restinu::user {

struct SessionView {
    std::string id;
    std::string device;
    std::string ip;
    std::string created_at;
    std::string last_used_at;
};

/// A refresh token found (and locked, with its session) for rotation.
struct RefreshState {
    std::string session_id;
    std::string user_id;
    std::string role;
    bool used = false;  ///< presented before: stolen or replayed
    bool expired = false;
    bool revoked = false;  ///< its session ended
};

class SessionStore {
public:
    SessionStore(rt::PgPool& pool, std::chrono::seconds refresh_ttl)
        : pool_(pool), refresh_ttl_(refresh_ttl) {}

    /// The user's sessions that have not ended, oldest first.
    rt::Task<std::vector<SessionView>> active(const std::string& user_id);

    /// Opens a session and returns its first refresh token.
    rt::Task<std::string> open(rt::PgConn& tx, const std::string& session_id,
                               const std::string& user_id, const std::string& device,
                               const std::string& ip, const WriteContext& ctx);
    /// The refresh token `token`, locked with its session; nullopt when unknown.
    rt::Task<std::optional<RefreshState>> lockRefresh(rt::PgConn& tx, const std::string& token);
    /// Marks `token` used and returns its successor.
    rt::Task<std::string> rotate(rt::PgConn& tx, const std::string& token,
                                 const RefreshState& state, const WriteContext& ctx);
    /// Ends the session of a refresh token presented twice.
    rt::Task<void> revokeForReuse(rt::PgConn& tx, const RefreshState& state,
                                  const WriteContext& ctx);
    /// Ends the session `token` belongs to (logout); false when there is none to end.
    rt::Task<bool> revokeByRefresh(rt::PgConn& tx, const std::string& token,
                                   const WriteContext& ctx);
    /// Ends the caller's session `id`; false when it is not theirs, unknown or ended.
    rt::Task<bool> revokeOwned(rt::PgConn& tx, const std::string& id, const std::string& user_id,
                               const WriteContext& ctx);

private:
    rt::Task<std::string> issueRefresh(rt::PgConn& tx, const std::string& session_id);

    rt::PgPool& pool_;
    std::chrono::seconds refresh_ttl_;
};

}  // namespace restinu::user
