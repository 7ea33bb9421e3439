#include "account_handlers.hpp"

#include <boost/json.hpp>

#include "handler_support.hpp"
#include "profile_rules.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;

constexpr rt::ProblemType kLastAdmin{"cannot-demote-self", "An admin cannot demote themselves",
                                     409};
constexpr rt::ProblemType kNoAdminLeft{"last-admin", "The last admin cannot be demoted", 409};

constexpr std::string_view kProfileColumns =
    "u.id::text, u.email, u.name, u.phone, u.language, u.role, restinu_iso(u.created_at), "
    "restinu_iso(u.updated_at), coalesce(k.status, 'none')";

json::object profileJson(const rt::PgResult& r, std::size_t i) {
    json::object out{
        {"id", r.get(i, 0)},         {"email", r.get(i, 1)},      {"name", r.get(i, 2)},
        {"phone", nullptr},          {"language", r.get(i, 4)},   {"role", r.get(i, 5)},
        {"created_at", r.get(i, 6)}, {"updated_at", r.get(i, 7)}, {"kyc_status", r.get(i, 8)}};
    if (auto phone = r.opt(i, 3)) {
        out["phone"] = *phone;
    }
    return out;
}

}  // namespace

rt::Task<void> requireAdmin(rt::PgPool& pool, const Caller& caller) {
    auto r =
        co_await pool.query("SELECT role = 'admin' FROM users WHERE id = $1::uuid", caller.user_id);
    if (r.rows() != 1 || r.get(0, 0) != "t") {
        throw ApiError(problems::kForbidden, "this needs the admin role");
    }
}

AccountHandlers::AccountHandlers(rt::PgPool& pool, const rt::TokenVerifier& verifier)
    : pool_(pool), verifier_(verifier) {}

rt::Task<rt::Response> AccountHandlers::profile(const std::string& user_id) {
    std::string sql = "SELECT " + std::string(kProfileColumns) +
                      " FROM users u LEFT JOIN kyc k ON k.user_id = u.id WHERE u.id = $1::uuid";
    auto r = co_await pool_.query(sql, user_id);
    if (r.rows() == 0) {
        throw ApiError(problems::kNotFound, "the account no longer exists");
    }
    co_return rt::jsonResponse(200, profileJson(r, 0));
}

rt::Task<rt::Response> AccountHandlers::me(rt::Request& req) {
    auto caller = authenticate(verifier_, req);
    co_return co_await profile(caller.user_id);
}

rt::Task<rt::Response> AccountHandlers::updateMe(rt::Request& req) {
    auto caller = authenticate(verifier_, req);
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    std::optional<std::string> name;
    std::optional<std::optional<std::string>> phone;  // set to null clears it
    std::optional<std::string> language;
    for (const auto& [key, value] : body) {
        if (key == "name") {
            auto n = value.is_string() ? domain::normaliseName(value.as_string()) : std::nullopt;
            if (!n) {
                errors.push_back({"name", "must be 1 to 100 characters, no control characters"});
            }
            name = n;
        } else if (key == "phone") {
            if (value.is_null()) {
                phone = std::optional<std::string>{};
            } else if (auto p = value.is_string() ? domain::normalisePhone(value.as_string())
                                                  : std::nullopt) {
                phone = p;
            } else {
                errors.push_back({"phone", "must be in E.164 form, e.g. +919876543210"});
            }
        } else if (key == "language") {
            auto l =
                value.is_string() ? domain::normaliseLanguage(value.as_string()) : std::nullopt;
            if (!l) {
                errors.push_back({"language", "must be a BCP 47 tag such as en, hi or en-IN"});
            }
            language = l;
        } else if (key == "role") {
            throw ApiError(problems::kForbidden,
                           "your role is not yours to change; an admin changes roles");
        } else {
            errors.push_back({std::string(key), "is not a field you can change here"});
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the profile update has invalid fields", errors);
    }
    if (name || phone || language) {
        bool found = false;
        co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            // Each field changes only when sent ($n IS NULL keeps it; phone has its own flag).
            auto r = co_await tx.query(
                "UPDATE users SET name = coalesce($2, name), "
                "phone = CASE WHEN $3 THEN $4 ELSE phone END, "
                "language = coalesce($5, language), updated_at = now() "
                "WHERE id = $1::uuid",
                caller.user_id, name, phone.has_value(), phone.value_or(std::nullopt), language);
            found = r.affected() == 1;
            if (found) {
                json::object changed;
                for (const auto& [key, value] : body) {
                    changed[key] = true;
                }
                json::object details;
                details["fields"] = std::move(changed);
                auto details_text = json::serialize(details);
                co_await audit(tx, caller.user_id, "user.profile_update", "user", caller.user_id,
                               req, details_text);
            }
        });
        if (!found) {
            throw ApiError(problems::kNotFound, "the account no longer exists");
        }
    }
    co_return co_await profile(caller.user_id);
}

rt::Task<rt::Response> AccountHandlers::listUsers(rt::Request& req) {
    auto caller = authenticate(verifier_, req);
    co_await requireAdmin(pool_, caller);
    std::vector<rt::FieldError> errors;
    auto role = req.queryParam("role");
    if (role && !domain::isRole(*role)) {
        errors.push_back({"role", "must be investor, agent or admin"});
    }
    auto email = req.queryParam("email").value_or("");
    auto limit = pageLimit(req, errors);
    // The cursor is the last id of the previous page (ids are UUIDv7: time ordered).
    auto cursor = req.queryParam("cursor");
    std::optional<std::string> after;
    if (cursor) {
        auto decoded = rt::base64UrlDecode(*cursor);
        if (!decoded || !isUuid(*decoded)) {
            errors.push_back({"cursor", "is not a cursor this endpoint gave out"});
        } else {
            after = *decoded;
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "invalid query parameters", errors);
    }
    std::string sql = "SELECT " + std::string(kProfileColumns) +
                      " FROM users u LEFT JOIN kyc k ON k.user_id = u.id "
                      "WHERE ($1::text IS NULL OR u.role = $1) "
                      "AND ($2 = '' OR lower(u.email) LIKE replace(replace(replace(lower($2), "
                      "'\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%') "
                      "AND ($3::uuid IS NULL OR u.id > $3::uuid) ORDER BY u.id LIMIT $4";
    auto r = co_await pool_.query(sql, role, email, after, limit + 1);
    auto out = page(r, limit, &profileJson, [](const rt::PgResult& rows, std::size_t last) {
        return rt::base64UrlEncode(rows.get(last, 0));
    });
    co_return rt::jsonResponse(200, out);
}

rt::Task<rt::Response> AccountHandlers::changeRole(rt::Request& req) {
    auto caller = authenticate(verifier_, req);
    co_await requireAdmin(pool_, caller);
    auto id = std::string(req.param("id"));
    if (!isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such user");
    }
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto role = stringField(body, "role", errors);
    if (!role.empty() && !domain::isRole(role)) {
        errors.push_back({"role", "must be investor, agent or admin"});
    }
    for (const auto& [key, value] : body) {
        if (key != "role") {
            errors.push_back({std::string(key), "is not a field an admin changes"});
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "invalid role change", errors);
    }
    if (id == caller.user_id && role != "admin") {
        throw ApiError(kLastAdmin, "ask another admin; this keeps at least one admin");
    }
    enum class Outcome { Done, NotFound, NotAdmin, LastAdmin };
    // The outcome leaves the transaction as its value.
    auto outcome = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<Outcome> {
        // Role changes one at a time, and the caller's right and the count of admins read
        // under that lock: two admins demoting each other at once leave one, not none.
        co_await tx.query("SELECT pg_advisory_xact_lock(hashtext('restinu.user_roles'))");
        auto me = co_await tx.query("SELECT role = 'admin' FROM users WHERE id = $1::uuid",
                                    caller.user_id);
        if (me.rows() != 1 || me.get(0, 0) != "t") {
            co_return Outcome::NotAdmin;
        }
        if (role != "admin") {
            auto admins = co_await tx.query(
                "SELECT count(*) FILTER (WHERE role = 'admin'), bool_or(id = $1::uuid AND "
                "role = 'admin') FROM users WHERE role = 'admin'",
                id);
            if (admins.get(0, 1) == "t" && admins.getInt(0, 0) <= 1) {
                co_return Outcome::LastAdmin;
            }
        }
        auto r = co_await tx.query(
            "UPDATE users u SET role = $2, updated_at = now() FROM users old "
            "WHERE u.id = $1::uuid AND old.id = u.id RETURNING old.role",
            id, role);
        if (r.rows() != 1) {
            co_return Outcome::NotFound;
        }
        std::string before(r.get(0, 0));
        if (before == role) {
            co_return Outcome::Done;
        }
        const contracts::UserRoleChanged changed{id, role, before, caller.user_id};
        auto event =
            rt::makeEvent(std::string(changed.kType), std::string(contracts::kUserAggregate), id,
                          changed.data(), std::string(req.header("traceparent")));
        co_await rt::enqueueEvent(tx, event);
        json::object details;
        details["from"] = before;
        details["to"] = role;
        auto details_text = json::serialize(details);
        co_await audit(tx, caller.user_id, "user.role_change", "user", id, req, details_text);
        co_return Outcome::Done;
    });
    switch (outcome) {
        case Outcome::NotFound:
            throw ApiError(problems::kNotFound, "no such user");
        case Outcome::NotAdmin:
            throw ApiError(problems::kForbidden, "this needs the admin role");
        case Outcome::LastAdmin:
            throw ApiError(kNoAdminLeft, "this would leave no admin; promote another one first");
        case Outcome::Done:
            break;
    }
    co_return co_await profile(id);
}

}  // namespace restinu::user
