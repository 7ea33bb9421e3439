#include "auth_handlers.hpp"

#include <sodium.h>

#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstring>

#include "handler_support.hpp"
#include "login_throttle.hpp"
#include "password_policy.hpp"
#include "passwords.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/digest.hpp"
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

constexpr rt::ProblemType kInvalidCredentials{"invalid-credentials", "E-mail or password is wrong",
                                              401};
constexpr rt::ProblemType kTooManyAttempts{"too-many-login-attempts", "Too many failed logins",
                                           429};
constexpr rt::ProblemType kEmailTaken{"email-taken", "An account with this e-mail exists", 409};
constexpr rt::ProblemType kInvalidRefresh{"invalid-refresh-token", "The refresh token is not valid",
                                          401};

// The refresh token is 256 random bits; only its SHA-256 is stored (as hex, bound as text).
std::string newRefreshToken() {
    std::string raw(32, '\0');
    randombytes_buf(raw.data(), raw.size());
    return rt::base64UrlEncode(raw);
}

}  // namespace

AuthHandlers::AuthHandlers(rt::PgPool& pool, rt::WorkerPool& workers, const KeyRing& keys,
                           AuthSettings settings)
    : pool_(pool), workers_(workers), keys_(keys), settings_(settings) {}

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
    auto id = rt::newUuidV7();
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        auto r = co_await tx.query(
            "INSERT INTO users (id, email, password_hash, name) VALUES ($1::uuid, $2, $3, $4) "
            "ON CONFLICT ((lower(email))) DO NOTHING",
            id, *email, hash, name);
        if (r.affected() == 0) {
            throw ApiError(kEmailTaken, "sign in instead, or reset the password");
        }
        const contracts::UserRegistered registered{id, *email, "investor"};
        auto event =
            rt::makeEvent(std::string(registered.kType), std::string(contracts::kUserAggregate), id,
                          registered.data(), std::string(req.header("traceparent")));
        co_await rt::enqueueEvent(tx, event);
        co_await audit(tx, id, "user.register", "user", id, req);
    });
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
        throw ApiError(rt::Problem{kTooManyAttempts,
                                   "wait " + std::to_string(*wait) + " s before trying again",
                                   {},
                                   {{"Retry-After", std::to_string(*wait)}}});
    }

    auto found = co_await pool_.query(
        "SELECT id::text, password_hash, role FROM users WHERE lower(email) = lower($1)", email);
    // An unknown account costs the same hash as a wrong password: no account enumeration.
    std::string hash = found.rows() == 1 ? std::string(found.get(0, 1)) : decoyHash();
    auto verify_job = [hash, password] { return verifyPassword(hash, password); };
    bool ok = co_await workers_.run(std::move(verify_job));
    if (found.rows() != 1 || !ok) {
        std::string user_id = found.rows() == 1 ? std::string(found.get(0, 0)) : std::string{};
        co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await throttle.failed(tx);
            contracts::UserLoginFailed failed{
                std::nullopt, req.client_ip,
                user_id.empty() ? "unknown account" : "wrong password"};
            if (!user_id.empty()) {
                failed.user_id = user_id;
            }
            auto event =
                rt::makeEvent(std::string(failed.kType), std::string(contracts::kUserAggregate),
                              user_id.empty() ? "unknown" : user_id, failed.data(),
                              std::string(req.header("traceparent")));
            co_await rt::enqueueEvent(tx, event);
        });
        throw ApiError(kInvalidCredentials, "check the e-mail and the password");
    }
    std::string user_id(found.get(0, 0));
    std::string role(found.get(0, 2));
    auto session_id = rt::newUuidV7();
    std::string refresh_token;
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await throttle.succeeded(tx);
        co_await tx.query(
            "INSERT INTO sessions (id, user_id, device, ip) VALUES ($1::uuid, $2::uuid, $3, $4)",
            session_id, user_id, std::string(req.header("User-Agent")).substr(0, 200),
            req.client_ip);
        co_await audit(tx, user_id, "user.login", "user", user_id, req);
        refresh_token = co_await storeRefreshToken(tx, session_id);
    });
    co_return tokenResponse(user_id, role, session_id, refresh_token);
}

rt::Task<std::string> AuthHandlers::storeRefreshToken(rt::PgConn& tx,
                                                      const std::string& session_id) {
    auto refresh = newRefreshToken();
    auto ttl_secs = std::chrono::duration_cast<std::chrono::seconds>(settings_.refresh_ttl).count();
    co_await tx.query(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) "
        "VALUES (decode($1, 'hex'), $2::uuid, now() + make_interval(secs => $3))",
        rt::sha256Hex(refresh), session_id, static_cast<double>(ttl_secs));
    co_return refresh;
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
        std::string user_id, role, session_id, next;
    };
    // A reused token's revocation must commit, so the outcome is the transaction's value
    // rather than an exception (which would roll it back).
    auto rotation = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<Rotation> {
        Rotation out;
        auto r = co_await tx.query(
            "SELECT t.session_id::text, t.used_at IS NOT NULL, t.expires_at < now(), "
            "s.revoked_at IS NOT NULL, s.user_id::text, u.role "
            "FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id "
            "JOIN users u ON u.id = s.user_id WHERE t.token_hash = decode($1, 'hex') "
            "FOR UPDATE OF t, s",
            rt::sha256Hex(token));
        if (r.rows() == 0) {
            co_return out;
        }
        out.session_id = r.get(0, 0);
        const auto& session_id = out.session_id;
        if (r.get(0, 1) == "t") {
            // A used token presented again: it was stolen or replayed. End the whole family.
            co_await tx.query(
                "UPDATE sessions SET revoked_at = now(), revoke_reason = 'refresh token reuse' "
                "WHERE id = $1::uuid AND revoked_at IS NULL",
                session_id);
            co_await audit(tx, r.get(0, 4), "session.revoke_reuse", "session", session_id, req);
            out.outcome = Outcome::Reused;
            co_return out;
        }
        if (r.get(0, 2) == "t" || r.get(0, 3) == "t") {
            out.outcome = Outcome::Dead;
            co_return out;
        }
        out.user_id = r.get(0, 4);
        out.role = r.get(0, 5);
        co_await tx.query(
            "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = "
            "decode($1, 'hex')",
            rt::sha256Hex(token));
        co_await tx.query("UPDATE sessions SET last_used_at = now() WHERE id = $1::uuid",
                          session_id);
        // The successor in the same transaction: a failure leaves the old token unused.
        out.next = co_await storeRefreshToken(tx, session_id);
        co_await audit(tx, out.user_id, "session.refresh", "session", session_id, req);
        out.outcome = Outcome::Rotated;
        co_return out;
    });
    if (rotation.outcome != Outcome::Rotated) {
        throw ApiError(kInvalidRefresh, rotation.outcome == Outcome::Reused
                                            ? "this refresh token was used before; the session "
                                              "is revoked, sign in again"
                                            : "sign in again");
    }
    co_return tokenResponse(rotation.user_id, rotation.role, rotation.session_id, rotation.next);
}

rt::Task<rt::Response> AuthHandlers::logout(rt::Request& req) {
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto token = stringField(body, "refresh_token", errors);
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "refresh_token is required", errors);
    }
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        auto r = co_await tx.query(
            "UPDATE sessions SET revoked_at = now(), revoke_reason = 'logout' "
            "WHERE revoked_at IS NULL AND id = (SELECT session_id FROM refresh_tokens "
            "WHERE token_hash = decode($1, 'hex')) RETURNING id::text, user_id::text",
            rt::sha256Hex(token));
        if (r.rows() == 1) {
            co_await audit(tx, r.get(0, 1), "session.logout", "session", r.get(0, 0), req);
        }
    });
    // The same answer for an unknown token: logging out is idempotent.
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> AuthHandlers::sessions(rt::Request& req) {
    auto caller = authenticate(keys_.verifier(), req);
    auto r = co_await pool_.query(
        "SELECT id::text, device, ip, "
        "restinu_iso(created_at), "
        "restinu_iso(last_used_at) "
        "FROM sessions WHERE user_id = $1::uuid AND revoked_at IS NULL ORDER BY created_at",
        caller.user_id);
    json::array items;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        items.push_back(json::object{{"id", r.get(i, 0)},
                                     {"device", r.get(i, 1)},
                                     {"ip", r.get(i, 2)},
                                     {"created_at", r.get(i, 3)},
                                     {"last_used_at", r.get(i, 4)},
                                     {"current", r.get(i, 0) == caller.session_id}});
    }
    co_return rt::jsonResponse(200, json::object{{"items", items}});
}

rt::Task<rt::Response> AuthHandlers::revokeSession(rt::Request& req) {
    auto caller = authenticate(keys_.verifier(), req);
    auto id = std::string(req.param("id"));
    if (!isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such session");
    }
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        // Scoped to the caller: another user's session id is "not found", never revoked.
        auto r = co_await tx.query(
            "UPDATE sessions SET revoked_at = now(), revoke_reason = 'revoked by user' "
            "WHERE id = $1::uuid AND user_id = $2::uuid AND revoked_at IS NULL",
            id, caller.user_id);
        if (r.affected() != 1) {
            throw ApiError(problems::kNotFound, "no such session");
        }
        co_await audit(tx, caller.user_id, "session.revoke", "session", id, req);
    });
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> AuthHandlers::jwks(rt::Request&) {
    co_return rt::Response::json(200, keys_.jwks()).header("Cache-Control", "public, max-age=300");
}

}  // namespace restinu::user
