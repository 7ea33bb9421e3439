#include "web_session.hpp"

#include <boost/json.hpp>

#include "restinu/contracts/problems.hpp"
#include "restinu/rt/digest.hpp"

namespace restinu::gateway {
namespace {

namespace json = boost::json;

constexpr std::string_view kRefreshCookie = "restinu_refresh";
constexpr std::string_view kCsrfCookie = "restinu_csrf";

std::string setCookie(std::string_view name, std::string_view value, std::string_view path,
                      bool http_only, std::chrono::seconds max_age) {
    std::string c(name);
    c += "=";
    c += value;
    c += "; Path=";
    c += path;
    c += "; Max-Age=" + std::to_string(max_age.count());
    c += http_only ? "; HttpOnly; Secure; SameSite=Strict" : "; Secure; SameSite=Strict";
    return c;
}

void clearCookies(rt::Response& res) {
    res.header("Set-Cookie",
               setCookie(kRefreshCookie, "", "/api/v1/auth", true, std::chrono::seconds(0)));
    res.header("Set-Cookie", setCookie(kCsrfCookie, "", "/", false, std::chrono::seconds(0)));
}

// Compares in time independent of where they differ (the CSRF token is a secret).
bool sameSecret(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

// Whether the body names a refresh_token itself (a client that keeps its own).
bool bodyHasToken(std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    return !ec && v.is_object() && v.as_object().contains("refresh_token");
}

}  // namespace

SessionCall webSessionCall(const rt::Request& req) {
    if (req.method != rt::Method::Post || req.header("Sec-Fetch-Site") != "same-origin") {
        return SessionCall::None;
    }
    if (req.path == "/api/v1/auth/login") {
        return SessionCall::Login;
    }
    if (req.path == "/api/v1/auth/refresh") {
        return SessionCall::Refresh;
    }
    if (req.path == "/api/v1/auth/logout") {
        return SessionCall::Logout;
    }
    return SessionCall::None;
}

std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        auto end = header.find(';');
        auto part = header.substr(0, end);
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
            return part.substr(name.size() + 1);
        }
        if (end == std::string_view::npos) {
            break;
        }
        header.remove_prefix(end + 1);
    }
    return std::nullopt;
}

std::optional<rt::Problem> prepareWebSession(rt::Request& req, SessionCall call,
                                             std::string& body) {
    if ((call != SessionCall::Refresh && call != SessionCall::Logout) || bodyHasToken(req.body)) {
        return std::nullopt;
    }
    const auto cookies = req.header("Cookie");
    const auto token = cookieValue(cookies, kRefreshCookie);
    if (!token || token->empty()) {
        return rt::Problem{
            contracts::problems::kInvalidRefreshToken, "no session cookie: sign in again", {}, {}};
    }
    const auto csrf = cookieValue(cookies, kCsrfCookie);
    const auto header = req.header("X-CSRF-Token");
    if (!csrf || csrf->empty() || !sameSecret(header, *csrf)) {
        return rt::Problem{contracts::problems::kCsrfFailed,
                           "X-CSRF-Token must equal the restinu_csrf cookie",
                           {},
                           {}};
    }
    body = json::serialize(json::object{{"refresh_token", *token}});
    req.body = body;
    return std::nullopt;
}

void finishWebSession(SessionCall call, rt::Response& res, std::chrono::seconds ttl) {
    if (call == SessionCall::None) {
        return;
    }
    if (call == SessionCall::Logout || (call == SessionCall::Refresh && res.status == 401)) {
        clearCookies(res);
        return;
    }
    if (res.status != 200) {
        return;
    }
    boost::system::error_code ec;
    auto v = json::parse(res.body, ec);
    if (ec || !v.is_object()) {
        return;
    }
    auto& o = v.as_object();
    const auto* token = o.if_contains("refresh_token");
    if (token == nullptr || !token->is_string()) {
        return;
    }
    res.header("Set-Cookie",
               setCookie(kRefreshCookie, token->as_string(), "/api/v1/auth", true, ttl));
    std::string csrf;
    rt::appendRandomHex(csrf, 32);
    res.header("Set-Cookie", setCookie(kCsrfCookie, csrf, "/", false, ttl));
    o.erase("refresh_token");
    res.body = json::serialize(o);
}

}  // namespace restinu::gateway
