#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "restinu/rt/http.hpp"
#include "restinu/rt/problem.hpp"

/// The web app's session kept out of script's reach (docs/security.md, "The web app's session"):
/// for a request from a page of our own origin (`Sec-Fetch-Site: same-origin`, a header no
/// script can set) the gateway moves the refresh token between the user service's JSON and an
/// HttpOnly cookie:
///
///   POST /api/v1/auth/login, /refresh  200 ──▶ refresh_token taken out of the body into
///       `restinu_refresh` (HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth), and a new
///       random `restinu_csrf` (readable by the page; Secure; SameSite=Strict; Path=/)
///   POST /api/v1/auth/refresh, /logout with no refresh_token in the body ──▶ the cookie's token
///       put in the body sent on, only when the X-CSRF-Token header equals the `restinu_csrf`
///       cookie (double submit: another site can make the browser send cookies, never read or
///       set that header); logout and a refused refresh clear both cookies
///
/// Other clients (curl, apps) keep sending and receiving refresh_token in JSON, unchanged.
namespace restinu::gateway {

enum class SessionCall { None, Login, Refresh, Logout };

/// Which of the session calls `req` is, None for anything else or another client.
SessionCall webSessionCall(const rt::Request& req);

/// The value of cookie `name` in a Cookie header, or nullopt.
std::optional<std::string_view> cookieValue(std::string_view cookie_header, std::string_view name);

/// Before forwarding a refresh or logout: the body to send instead (into `body`, with `req.body`
/// pointed at it), or the problem that refuses it (no cookie, a CSRF mismatch).
std::optional<rt::Problem> prepareWebSession(rt::Request& req, SessionCall call, std::string& body);

/// After the answer: the cookies set or cleared, the refresh token taken out of the body.
void finishWebSession(SessionCall call, rt::Response& res, std::chrono::seconds ttl);

}  // namespace restinu::gateway
