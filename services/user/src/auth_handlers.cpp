#include "auth_handlers.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "handler_support.hpp"
#include "login_throttle.hpp"
#include "password_policy.hpp"
#include "passwords.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;
namespace cp = contracts::problems;

}  // namespace

AuthHandlers::AuthHandlers(rt::PgPool& pool, rt::WorkerPool& workers, const KeyRing& keys,
                           AuthSettings settings)
    : pool_(pool),
      workers_(workers),
      keys_(keys),
      settings_(settings),
      users_(pool),
      sessions_(pool, std::chrono::duration_cast<std::chrono::seconds>(settings.refresh_ttl)) {}

rt::Task<rt::Response> AuthHandlers::registerUser(rt::Request& req) {
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto email_in = stringField(body, "email", errors);
    auto password = stringField(body, "password", errors);
    auto name = stringField(body, "name", errors, false);
    auto email = domain::normaliseEmail(email_in);
    if (!email_in.empty() && !email) {
        errors.push_back({"email", "is not a valid e-mail address"});
    }
    if (!password.empty() && email) {
        auto check = domain::checkPassword(password, *email);
        if (!check.ok) {
            errors.push_back({"password", check.reason});
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the registration has invalid fields", errors);
    }
    // Named, not a temporary: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto hash_job = [password] { return hashPassword(password); };
    auto hash = co_await workers_.run(std::move(hash_job));
    const NewAccount account{rt::newUuidV7(), *email, hash, name, "investor"};
    const auto ctx = WriteContext::of(req, account.id);
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        bool created = co_await UserStore::create(tx, account, ctx, "user.register");
        if (!created) {
            throw ApiError(cp::kEmailTaken, "sign in instead, or reset the password");
        }
    });
    const auto& id = account.id;
    json::object out{{"id", id}, {"email", *email}, {"name", name}, {"role", "investor"}};
    co_return rt::jsonResponse(201, out).header("Location", "/api/v1/users/me");
}

rt::Task<rt::Response> AuthHandlers::login(rt::Request& req) {
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto email_in = stringField(body, "email", errors);
    auto password = stringField(body, "password", errors);
    // No password of an account is longer (registration caps it), so a longer one is refused
    // before it costs a hash: at most 4 bytes per code point of the cap.
    if (password.size() > 4 * domain::kMaxPasswordLength) {
        errors.push_back({"password", "is longer than any password can be"});
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "e-mail and password are required", errors);
    }
    auto email = domain::normaliseEmail(email_in).value_or(email_in);
    // Keyed on the client's address as the gateway signed it (never the socket's: behind the
    // gateway that is the gateway, and one stranger would slow everyone down).
    const LoginThrottle throttle(settings_.throttle, req.client_ip, email);
    if (auto wait = co_await throttle.waitFor(pool_)) {
        throw ApiError(rt::Problem{cp::kTooManyLoginAttempts,
                                   "wait " + std::to_string(*wait) + " s before trying again",
                                   {},
                                   {{"Retry-After", std::to_string(*wait)}}});
    }

    auto found = co_await users_.credentials(email);
    // An unknown account costs the same hash as a wrong password: no account enumeration.
    std::string hash = found ? found->password_hash : decoyHash();
    auto verify_job = [hash, password] { return verifyPassword(hash, password); };
    bool ok = co_await workers_.run(std::move(verify_job));
    std::string user_id = found ? found->id : std::string{};
    if (!found || !ok) {
        const auto ctx = WriteContext::of(req, user_id);
        co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await throttle.failed(tx);
            co_await UserStore::loginFailed(tx, user_id, req.client_ip, ctx);
        });
        throw ApiError(cp::kInvalidCredentials, "check the e-mail and the password");
    }
    auto session_id = rt::newUuidV7();
    const auto ctx = WriteContext::of(req, user_id);
    const std::string device(req.header("User-Agent"));
    auto refresh_token = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<std::string> {
        co_await throttle.succeeded(tx);
        co_return co_await sessions_.open(tx, session_id, user_id, device, req.client_ip, ctx);
    });
    co_return tokenResponse(user_id, found->role, session_id, refresh_token);
}

rt::Response AuthHandlers::tokenResponse(const std::string& user_id, const std::string& role,
                                         const std::string& session_id,
                                         const std::string& refresh) const {
    auto access = keys_.signer().sign(user_id, {role}, session_id, rt::unixSeconds());
    json::object out{{"access_token", access},
                     {"token_type", "Bearer"},
                     {"expires_in", keys_.ttl().count()},
                     {"refresh_token", refresh}};
    return rt::jsonResponse(200, out).header("Cache-Control", "no-store");
}

rt::Task<rt::Response> AuthHandlers::refresh(rt::Request& req) {
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto token = stringField(body, "refresh_token", errors);
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "refresh_token is required", errors);
    }
    enum class Outcome { Unknown, Reused, Dead, Rotated };
    struct Rotation {
        Outcome outcome = Outcome::Unknown;
        RefreshState state;
        std::string next;
    };
    const auto ctx = WriteContext::of(req, "");
    // A reused token's revocation must commit, so the outcome is the transaction's value
    // rather than an exception (which would roll it back).
    auto rotation = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<Rotation> {
        auto state = co_await sessions_.lockRefresh(tx, token);
        if (!state) {
            co_return Rotation{};
        }
        if (state->used) {
            // A used token presented again: it was stolen or replayed. End the whole family.
            co_await sessions_.revokeForReuse(tx, *state, ctx);
            co_return Rotation{Outcome::Reused, *state, {}};
        }
        if (state->expired || state->revoked) {
            co_return Rotation{Outcome::Dead, *state, {}};
        }
        auto next = co_await sessions_.rotate(tx, token, *state, ctx);
        co_return Rotation{Outcome::Rotated, *state, std::move(next)};
    });
    if (rotation.outcome != Outcome::Rotated) {
        throw ApiError(cp::kInvalidRefreshToken,
                       rotation.outcome == Outcome::Reused
                           ? "this refresh token was used before; the session "
                             "is revoked, sign in again"
                           : "sign in again");
    }
    const auto& s = rotation.state;
    co_return tokenResponse(s.user_id, s.role, s.session_id, rotation.next);
}

rt::Task<rt::Response> AuthHandlers::logout(rt::Request& req) {
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto token = stringField(body, "refresh_token", errors);
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "refresh_token is required", errors);
    }
    const auto ctx = WriteContext::of(req, "");
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await sessions_.revokeByRefresh(tx, token, ctx);
    });
    // The same answer for an unknown token: logging out is idempotent.
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> AuthHandlers::sessions(rt::Request& req) {
    auto caller = callerOf(req);
    auto active = co_await sessions_.active(caller.user_id);
    json::array items;
    for (const auto& s : active) {
        items.push_back(json::object{{"id", s.id},
                                     {"device", s.device},
                                     {"ip", s.ip},
                                     {"created_at", s.created_at},
                                     {"last_used_at", s.last_used_at},
                                     {"current", s.id == caller.session_id}});
    }
    co_return rt::jsonResponse(200, json::object{{"items", items}});
}

rt::Task<rt::Response> AuthHandlers::revokeSession(rt::Request& req) {
    auto caller = callerOf(req);
    auto id = std::string(req.param("id"));
    if (!isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such session");
    }
    const auto ctx = WriteContext::of(req, caller.user_id);
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        bool revoked = co_await sessions_.revokeOwned(tx, id, caller.user_id, ctx);
        if (!revoked) {
            throw ApiError(problems::kNotFound, "no such session");
        }
    });
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> AuthHandlers::jwks(rt::Request&) {
    co_return rt::Response::json(200, keys_.jwks()).header("Cache-Control", "public, max-age=300");
}

}  // namespace restinu::user
