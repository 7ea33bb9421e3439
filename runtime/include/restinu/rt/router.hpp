#pragma once

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

    void add(Method method, std::string_view pattern, Handler handler);
    void get(std::string_view p, Handler h) { add(Method::Get, p, std::move(h)); }
    void post(std::string_view p, Handler h) { add(Method::Post, p, std::move(h)); }
    void patch(std::string_view p, Handler h) { add(Method::Patch, p, std::move(h)); }
    void put(std::string_view p, Handler h) { add(Method::Put, p, std::move(h)); }
    void del(std::string_view p, Handler h) { add(Method::Delete, p, std::move(h)); }

    /// Middleware runs in the order added, outermost first, around every matched handler.
    void use(Middleware mw);
    const std::vector<Middleware>& middleware() const;

    /// Finds the handler for `method` and `path`; fills `params` with views into `path` and
    /// into the router's own strings. HEAD falls back to GET.
    Match match(Method method, std::string_view path, Request::Fields& params) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace restinu::rt
