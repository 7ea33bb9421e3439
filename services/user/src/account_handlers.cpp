#include "account_handlers.hpp"

#include <boost/json.hpp>

#include "handler_support.hpp"
#include "profile_rules.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;
namespace cp = contracts::problems;

}  // namespace

json::object accountJson(const Account& a) {
    json::object out{{"id", a.id},
                     {"email", a.email},
                     {"name", a.name},
                     {"phone", nullptr},
                     {"language", a.language},
                     {"role", a.role},
                     {"created_at", a.created_at},
                     {"updated_at", a.updated_at},
                     {"kyc_status", a.kyc_status},
                     {"email_verified", a.email_verified}};
    if (a.phone) {
        out["phone"] = *a.phone;
    }
    return out;
}

AccountHandlers::AccountHandlers(rt::PgPool& pool) : pool_(pool), users_(pool) {}

rt::Task<rt::Response> AccountHandlers::profile(const std::string& user_id) {
    auto account = co_await users_.find(user_id);
    if (!account) {
        throw ApiError(problems::kNotFound, "the account no longer exists");
    }
    co_return rt::jsonResponse(200, accountJson(*account));
}

rt::Task<rt::Response> AccountHandlers::publicProfile(rt::Request& req) {
    const std::string id(req.param("id"));
    std::optional<Account> account;
    if (rt::isUuid(id)) {
        account = co_await users_.find(id);
    }
    if (!account || (account->role != "agent" && account->role != "admin")) {
        throw ApiError(problems::kNotFound, "no agent has this id");
    }
    json::object out{{"id", account->id},
                     {"name", account->name},
                     {"role", account->role},
                     {"member_since", account->created_at.substr(0, 10)},
                     {"kyc_verified", account->kyc_status == "approved"}};
    auto res = rt::jsonResponse(200, out);
    res.header("Cache-Control", "public, max-age=300");
    co_return res;
}

rt::Task<rt::Response> AccountHandlers::me(rt::Request& req) {
    auto caller = callerOf(req);
    co_return co_await profile(caller.user_id);
}

rt::Task<rt::Response> AccountHandlers::updateMe(rt::Request& req) {
    auto caller = callerOf(req);
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    ProfileChange change;
    auto& [name, phone, language, fields] = change;
    for (const auto& [key, value] : body) {
        fields.emplace_back(key);
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
        const auto ctx = WriteContext::of(req, caller.user_id);
        auto found = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await UserStore::updateProfile(tx, caller.user_id, change, ctx);
        });
        if (!found) {
            throw ApiError(problems::kNotFound, "the account no longer exists");
        }
    }
    co_return co_await profile(caller.user_id);
}

rt::Task<rt::Response> AccountHandlers::listUsers(rt::Request& req) {
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
    // Named, not a temporary: g++ 12 destroys a temporary in a co_await expression twice.
    const AccountFilter filter{role, email, after, limit + 1};
    auto accounts = co_await users_.list(filter);
    co_return rt::jsonResponse(200, page(accounts, limit, &accountJson, [](const Account& last) {
                                   return rt::base64UrlEncode(last.id);
                               }));
}

rt::Task<rt::Response> AccountHandlers::changeRole(rt::Request& req) {
    auto caller = callerOf(req);
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
        throw ApiError(cp::kCannotDemoteSelf, "ask another admin; this keeps at least one admin");
    }
    enum class Outcome { Done, NotFound, NotAdmin, LastAdmin };
    const auto ctx = WriteContext::of(req, caller.user_id);
    auto outcome = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<Outcome> {
        // Role changes one at a time, and the caller's right and the count of admins read
        // under that lock: two admins demoting each other at once leave one, not none.
        co_await UserStore::lockRoles(tx);
        bool admin = co_await UserStore::isAdmin(tx, caller.user_id);
        if (!admin) {
            co_return Outcome::NotAdmin;
        }
        if (role != "admin") {
            bool last = co_await UserStore::isLastAdmin(tx, id);
            if (last) {
                co_return Outcome::LastAdmin;
            }
        }
        auto before = co_await UserStore::setRole(tx, id, role, ctx);
        co_return before ? Outcome::Done : Outcome::NotFound;
    });
    switch (outcome) {
        case Outcome::NotFound:
            throw ApiError(problems::kNotFound, "no such user");
        case Outcome::NotAdmin:
            throw ApiError(problems::kForbidden, "this needs the admin role");
        case Outcome::LastAdmin:
            throw ApiError(cp::kLastAdmin, "this would leave no admin; promote another one first");
        case Outcome::Done:
            break;
    }
    co_return co_await profile(id);
}

}  // namespace restinu::user
