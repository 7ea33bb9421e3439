#include "handler_support.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <chrono>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;

Caller authenticate(const rt::TokenVerifier& verifier, const rt::Request& req) {
    if (req.identity) {
        const auto& who = *req.identity;
        return {who.user_id, who.session_id, who.roles.empty() ? std::string{} : who.roles[0]};
    }
    auto h = req.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (h.size() <= kBearer.size() || !rt::iequals(h.substr(0, kBearer.size()), kBearer)) {
        throw ApiError(rt::Problem{problems::kUnauthorized,
                                   "send an access token: Authorization: Bearer <token>",
                                   {},
                                   {{"WWW-Authenticate", "Bearer"}}});
    }
    std::string why;
    auto claims = verifier.verify(h.substr(kBearer.size()), rt::unixSeconds(), &why);
    if (!claims) {
        throw ApiError(rt::Problem{problems::kUnauthorized,
                                   "the access token is not valid: " + why,
                                   {},
                                   {{"WWW-Authenticate", "Bearer error=\"invalid_token\""}}});
    }
    return {claims->subject, claims->session_id,
            claims->roles.empty() ? std::string{} : claims->roles.front()};
}

Caller callerOf(const rt::Request& req) {
    if (!req.identity || req.identity->user_id.empty()) {
        throw ApiError(rt::Problem{problems::kUnauthorized,
                                   "send an access token: Authorization: Bearer <token>",
                                   {},
                                   {{"WWW-Authenticate", "Bearer"}}});
    }
    const auto& who = *req.identity;
    return {who.user_id, who.session_id, who.roles.empty() ? std::string{} : who.roles[0]};
}

std::string stringField(const json::object& o, std::string_view key,
                        std::vector<rt::FieldError>& errors, bool required) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) {
        if (required) {
            errors.push_back({std::string(key), "is required"});
        }
        return {};
    }
    if (!it->value().is_string()) {
        errors.push_back({std::string(key), "must be a string"});
        return {};
    }
    return std::string(it->value().as_string());
}

std::int64_t pageLimit(const rt::Request& req, std::vector<rt::FieldError>& errors) {
    auto text = req.queryParam("limit");
    if (!text) {
        return 50;
    }
    std::int64_t limit = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc{} || end != text->data() + text->size() || limit < 1 || limit > 200) {
        errors.push_back({"limit", "must be a whole number from 1 to 200"});
        return 50;
    }
    return limit;
}

}  // namespace restinu::user
