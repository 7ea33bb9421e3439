#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {

using Handler = std::function<Task<Response>(Request&)>;
/// Middleware wraps the rest of the chain: call `next(req)` to go on, or answer directly.
using Middleware = std::function<Task<Response>(Request&, const Handler& next)>;

/// Who may call a route: declared with the route (Router::add takes one), checked before its
/// handler runs, so a handler cannot forget it. The caller is `req.identity` (the gateway's
/// signed identity, or what a service's own middleware set from a bearer token).
struct Access {
    enum class Kind { None, Authenticated, AnyRole };
    Kind kind = Kind::None;
    std::vector<std::string> roles;  ///< for AnyRole: the caller needs one of them

    /// Anyone, signed in or not (the handler may still treat them differently).
    static Access none() { return {}; }
    /// A signed-in caller; else 401 `unauthorized` with `WWW-Authenticate: Bearer`.
    static Access authenticated() { return {Kind::Authenticated, {}}; }
    /// A signed-in caller with one of `roles` as the router's role source says; else 401 or
    /// 403 `forbidden`.
    static Access anyRole(std::vector<std::string> roles) {
        return {Kind::AnyRole, std::move(roles)};
    }
    /// "none", "authenticated" or "role:admin|agent", for listings and docs.
    std::string describe() const;
};

/// The caller's roles as a service knows them now (a database, an event-fed copy); by default
/// the ones the identity carries. It may also update `req.identity->roles` for the handler.
using RoleSource = std::function<Task<std::vector<std::string>>(Request&)>;

/// Which requests' bodies go to a temporary file instead of memory (uploads), and their body
/// limit: method and path (not decoded) to a byte limit, or 0 for "in memory, under the server's
/// body limit". See ServerOptions::spool and Request::spooled.
using SpoolPolicy = std::function<std::uint64_t(Method, std::string_view path)>;

/// Routes by method and path template. Templates are literal segments and `{name}` segments
/// (one whole path segment each); a final `{name...}` takes the rest of the path. Literal
/// segments win over parameters, so `/users/me` beats `/users/{id}` in any order of adding.
///
/// @par Thread safety
/// Build it before the server starts; afterwards it is read-only and may be shared by threads.
class Router {
public:
    struct Match {
        const Handler* handler = nullptr;  ///< null: no route for this method
        std::string_view pattern;          ///< the template that matched the path
        bool path_known = false;           ///< some route has this path (→ 405, not 404)
        std::string allow;                 ///< the methods that path accepts, for `Allow`
    };

    Router();
    ~Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;

    /// A route and who may call it. For anything but Access::none() the handler is wrapped
    /// in the check (no cost for public routes).
    void add(Method method, std::string_view pattern, Access access, Handler handler);
    void get(std::string_view p, Access a, Handler h) {
        add(Method::Get, p, std::move(a), std::move(h));
    }
    void post(std::string_view p, Access a, Handler h) {
        add(Method::Post, p, std::move(a), std::move(h));
    }
    void patch(std::string_view p, Access a, Handler h) {
        add(Method::Patch, p, std::move(a), std::move(h));
    }
    void put(std::string_view p, Access a, Handler h) {
        add(Method::Put, p, std::move(a), std::move(h));
    }
    void del(std::string_view p, Access a, Handler h) {
        add(Method::Delete, p, std::move(a), std::move(h));
    }

    /// Where AnyRole routes read the caller's roles (call before the server starts).
    void setRoleSource(RoleSource source);
    /// Which requests are spooled (call before the server starts); the server asks it as soon
    /// as a request line is read.
    void setSpool(SpoolPolicy policy);
    const SpoolPolicy& spool() const;

    struct RouteInfo {
        Method method;
        std::string pattern;
        Access access;
    };
    /// Every route with its access rule, most specific first (for listings and tests).
    std::vector<RouteInfo> routes() const;

    /// Middleware runs in the order added, outermost first, around every matched handler.
    void use(Middleware mw);
    const std::vector<Middleware>& middleware() const;

    /// Finds the handler for `method` and `path`; fills `params` with views into `path` and
    /// into the router's own strings. HEAD falls back to GET.
    Match match(Method method, std::string_view path, Request::Fields& params) const;

    /// The task that answers `req` (not started: the caller awaits it): its route's handler,
    /// access check included, behind the middleware; 404 or 405 problems when no route matches.
    /// Sets `req.params` and `req.route`. Not a coroutine itself, so routing costs no frame;
    /// `not_routed` is the caller's, to outlive the task when no route matched. The server
    /// and the in-process test client both answer through this, and render what it throws
    /// with failureResponse().
    Task<Response> respond(Request& req, Handler& not_routed) const;

private:
    Task<Response> runChain(std::size_t i, Request& req, const Handler& last) const;

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The route template recorded for a request no route matched (metrics, access log).
inline constexpr std::string_view kUnmatchedRoute = "unmatched";

/// The answer for the exception being handled (call inside a catch block): an ApiError's
/// problem, or a logged 500 that quotes only the request id.
Response failureResponse(const Request& req);

}  // namespace restinu::rt
