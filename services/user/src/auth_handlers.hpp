#pragma once

#include <string>

#include "key_ring.hpp"
#include "login_throttle.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"
#include "session_store.hpp"
#include "user_store.hpp"

namespace restinu::rt {
class PgPool;
class WorkerPool;
}  // namespace restinu::rt

namespace restinu::user {

struct AuthSettings {
    std::chrono::hours refresh_ttl{24 * 30};
    LoginThrottleSettings throttle;  ///< failed-login delays (login_throttle.hpp)
};

/// Registration, login, refresh-token rotation, logout, the caller's sessions, and the JWKS.
/// Each handler parses and validates, applies the rule, calls the stores (users, sessions) and
/// renders the answer; hashing runs on `workers`.
class AuthHandlers {
public:
    AuthHandlers(rt::PgPool& pool, rt::WorkerPool& workers, const KeyRing& keys,
                 AuthSettings settings);

    rt::Task<rt::Response> registerUser(rt::Request& req);   // POST /api/v1/auth/register
    rt::Task<rt::Response> login(rt::Request& req);          // POST /api/v1/auth/login
    rt::Task<rt::Response> refresh(rt::Request& req);        // POST /api/v1/auth/refresh
    rt::Task<rt::Response> logout(rt::Request& req);         // POST /api/v1/auth/logout
    rt::Task<rt::Response> sessions(rt::Request& req);       // GET /api/v1/users/me/sessions
    rt::Task<rt::Response> revokeSession(rt::Request& req);  // DELETE .../sessions/{id}
    rt::Task<rt::Response> jwks(rt::Request& req);           // GET /.well-known/jwks.json

private:
    /// The token answer: a fresh access token and `refresh`.
    rt::Response tokenResponse(const std::string& user_id, const std::string& role,
                               const std::string& session_id, const std::string& refresh) const;

    rt::PgPool& pool_;
    rt::WorkerPool& workers_;
    const KeyRing& keys_;
    AuthSettings settings_;
    UserStore users_;
    SessionStore sessions_;
};

}  // namespace restinu::user
