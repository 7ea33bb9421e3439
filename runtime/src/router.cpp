#include "restinu/rt/router.hpp"

#include <algorithm>
#include <array>
#include <boost/container/small_vector.hpp>
#include <stdexcept>

#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::rt {
namespace {

struct Segment {
    std::string text;  // the literal, or the parameter name
    bool param = false;
    bool rest = false;  // {name...}: the rest of the path
};

struct Route {
    Method method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    int literal_score = 0;  // literal segments weigh more, earlier ones most
    Access access;
};

// A path's segments; no allocation for paths of up to 16 segments.
using Parts = boost::container::small_vector<std::string_view, 16>;

Parts splitPath(std::string_view path) {
    Parts out;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        auto j = path.find('/', i);
        if (j == std::string_view::npos) {
            j = path.size();
        }
        out.push_back(path.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

struct Router::Impl {
    std::vector<Route> routes;  // most specific first
    // For each method, the indexes of its routes in `routes` (in that order): a request looks
    // only at its method's routes unless none matches (then 405, or HEAD served by GET).
    std::array<std::vector<std::size_t>, static_cast<std::size_t>(Method::Other) + 1> by_method;
    std::vector<Middleware> middleware;
    RoleSource role_source;
    SpoolPolicy spool;

    void index() {
        for (auto& v : by_method) {
            v.clear();
        }
        for (std::size_t i = 0; i < routes.size(); ++i) {
            by_method[static_cast<std::size_t>(routes[i].method)].push_back(i);
        }
    }

    // Does `route` match `parts`? Fills params on success.
    static bool matches(const Route& route, std::string_view path, const Parts& parts,
                        Request::Fields& params) {
        const auto& segs = route.segments;
        std::size_t n = segs.size();
        bool has_rest = n > 0 && segs.back().rest;
        if (has_rest ? parts.size() < n - 1 : parts.size() != n) {
            return false;
        }
        params.clear();
        for (std::size_t i = 0; i < n; ++i) {
            const auto& s = segs[i];
            if (s.rest) {
                std::string_view rest;
                if (i < parts.size()) {
                    auto offset = static_cast<std::size_t>(parts[i].data() - path.data());
                    rest = path.substr(offset);
                }
                params.emplace_back(s.text, rest);
                return true;
            }
            if (s.param) {
                params.emplace_back(s.text, parts[i]);
            } else if (s.text != parts[i]) {
                return false;
            }
        }
        return true;
    }
};

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

std::string Access::describe() const {
    switch (kind) {
        case Kind::None:
            return "none";
        case Kind::Authenticated:
            return "authenticated";
        case Kind::AnyRole: {
            std::string out = "role:";
            for (std::size_t i = 0; i < roles.size(); ++i) {
                out += (i == 0 ? "" : "|") + roles[i];
            }
            return out;
        }
    }
    return "none";
}

namespace {

[[noreturn]] void unauthenticated() {
    throw ApiError(Problem{problems::kUnauthorized,
                           "sign in first: send an access token through the gateway",
                           {},
                           {{"WWW-Authenticate", "Bearer"}}});
}

// The handler behind its access check. Authenticated needs no suspension: the check runs and
// the handler's own task is returned; AnyRole may ask the role source.
Handler guarded(const Access& access, Handler handler, const RoleSource* source) {
    if (access.kind == Access::Kind::Authenticated) {
        return [h = std::move(handler)](Request& req) -> Task<Response> {
            if (!req.identity) {
                unauthenticated();
            }
            return h(req);
        };
    }
    return [h = std::move(handler), roles = access.roles, source](Request& req) -> Task<Response> {
        if (!req.identity) {
            unauthenticated();
        }
        // (No co_await inside ?: : g++ 12 destroys such a temporary too early.)
        std::vector<std::string> have = req.identity->roles;
        if (*source) {
            have = co_await (*source)(req);
        }
        bool ok = std::any_of(have.begin(), have.end(), [&roles](const std::string& r) {
            return std::find(roles.begin(), roles.end(), r) != roles.end();
        });
        if (!ok) {
            std::string wanted;
            for (const auto& r : roles) {
                wanted += (wanted.empty() ? "" : " or ") + r;
            }
            throw ApiError(problems::kForbidden, "this needs the role " + wanted);
        }
        co_return co_await h(req);
    };
}

}  // namespace

void Router::setRoleSource(RoleSource source) {
    impl_->role_source = std::move(source);
}

void Router::setSpool(SpoolPolicy policy) {
    impl_->spool = std::move(policy);
}

const SpoolPolicy& Router::spool() const {
    return impl_->spool;
}

std::vector<Router::RouteInfo> Router::routes() const {
    std::vector<RouteInfo> out;
    out.reserve(impl_->routes.size());
    for (const auto& r : impl_->routes) {
        out.push_back({r.method, r.pattern, r.access});
    }
    return out;
}

void Router::add(Method method, std::string_view pattern, Access access, Handler handler) {
    if (access.kind == Access::Kind::AnyRole && access.roles.empty()) {
        throw std::invalid_argument("route " + std::string(pattern) +
                                    ": a role rule names no role");
    }
    if (access.kind != Access::Kind::None) {
        handler = guarded(access, std::move(handler), &impl_->role_source);
    }
    Route r{method, std::string(pattern), {}, std::move(handler), 0, std::move(access)};
    auto parts = splitPath(pattern);
    int weight = 1 << 20;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto p = parts[i];
        Segment s;
        if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
            auto name = p.substr(1, p.size() - 2);
            if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
                if (i + 1 != parts.size()) {
                    throw std::invalid_argument("route " + r.pattern +
                                                ": {name...} must be the last segment");
                }
                s.rest = true;
                name.remove_suffix(3);
            }
            s.param = true;
            s.text = std::string(name);
        } else {
            s.text = std::string(p);
            r.literal_score += weight;
        }
        weight >>= 1;
        r.segments.push_back(std::move(s));
    }
    for (const auto& existing : impl_->routes) {
        if (existing.method == method && existing.pattern == r.pattern) {
            throw std::invalid_argument("route added twice: " + std::string(methodName(method)) +
                                        " " + r.pattern);
        }
    }
    impl_->routes.push_back(std::move(r));
    // Most specific first; a {rest...} route after every fixed-length one of equal score.
    std::stable_sort(impl_->routes.begin(), impl_->routes.end(),
                     [](const Route& a, const Route& b) {
                         bool ra = !a.segments.empty() && a.segments.back().rest;
                         bool rb = !b.segments.empty() && b.segments.back().rest;
                         if (ra != rb) {
                             return rb;
                         }
                         return a.literal_score > b.literal_score;
                     });
    impl_->index();
}

void Router::use(Middleware mw) {
    impl_->middleware.push_back(std::move(mw));
}

const std::vector<Middleware>& Router::middleware() const {
    return impl_->middleware;
}

Router::Match Router::match(Method method, std::string_view path, Request::Fields& params) const {
    Match m;
    auto parts = splitPath(path);
    for (auto i : impl_->by_method[static_cast<std::size_t>(method)]) {
        const auto& r = impl_->routes[i];
        if (Impl::matches(r, path, parts, params)) {
            m.handler = &r.handler;
            m.pattern = r.pattern;
            m.path_known = true;
            return m;  // the most specific route for this method
        }
    }
    // No route for this method: HEAD is served by GET; otherwise 405 if the path is known.
    if (method == Method::Head) {
        for (auto i : impl_->by_method[static_cast<std::size_t>(Method::Get)]) {
            const auto& r = impl_->routes[i];
            if (Impl::matches(r, path, parts, params)) {
                m.handler = &r.handler;
                m.pattern = r.pattern;
                m.path_known = true;
                return m;
            }
        }
    }
    params.clear();
    Request::Fields scratch;
    for (const auto& r : impl_->routes) {
        if (Impl::matches(r, path, parts, scratch)) {
            m.path_known = true;
            m.pattern = r.pattern;  // the most specific template of the path, for metrics
            break;
        }
    }
    if (!m.path_known) {
        return m;
    }
    // 405: the methods this path accepts, for Allow (only built when it is needed).
    for (const auto& r : impl_->routes) {
        if (!Impl::matches(r, path, parts, scratch)) {
            continue;
        }
        if (m.allow.find(methodName(r.method)) == std::string::npos) {
            if (!m.allow.empty()) {
                m.allow += ", ";
            }
            m.allow += methodName(r.method);
        }
    }
    if (m.allow.find("GET") != std::string::npos && m.allow.find("HEAD") == std::string::npos) {
        m.allow += ", HEAD";
    }
    return m;
}

// Middleware i and those after it, around `last`. The last middleware gets `last` itself as
// its `next`: no wrapper, and no frame of this function, for the common single one.
Task<Response> Router::runChain(std::size_t i, Request& req, const Handler& last) const {
    const auto& mws = middleware();
    if (i + 1 == mws.size()) {
        co_return co_await mws[i](req, last);
    }
    Handler next = [this, i, &last](Request& r) { return runChain(i + 1, r, last); };
    co_return co_await mws[i](req, next);
}

Task<Response> Router::respond(Request& req, Handler& not_routed) const {
    auto found = match(req.method, req.path, req.params);
    req.route = found.path_known ? found.pattern : kUnmatchedRoute;
    const Handler* handler = found.handler;
    if (handler == nullptr) {
        not_routed = [known = found.path_known,
                      allow = std::move(found.allow)](Request& r) -> Task<Response> {
            if (known) {
                Problem p{
                    problems::kMethodNotAllowed,
                    std::string(methodName(r.method)) + " is not allowed on " + std::string(r.path),
                    {},
                    {{"Allow", allow}}};
                throw ApiError(std::move(p));
            }
            throw ApiError(problems::kNotFound, "no resource at " + std::string(r.path));
            co_return Response{};
        };
        handler = &not_routed;
    }
    const auto& mws = middleware();
    if (mws.empty()) {
        return (*handler)(req);
    }
    if (mws.size() == 1) {
        return mws[0](req, *handler);
    }
    return runChain(0, req, *handler);
}

Response failureResponse(const Request& req) {
    std::string error = "unknown exception";
    try {
        throw;
    } catch (const ApiError& e) {
        return problemResponse(e.problem(), req.path, req.request_id);
    } catch (const PgError& e) {
        // The database is down or saturated: a temporary state the client may retry, not a
        // bug (a statement the server rejected still is one).
        if (e.kind() == PgError::Kind::Connection || e.kind() == PgError::Kind::PoolTimeout) {
            log::warn("http", "database unavailable",
                      {{"request_id", req.request_id}, {"route", req.route}, {"error", e.what()}});
            return problemResponse(Problem{problems::kUnavailable,
                                           "the database cannot be reached; try again shortly",
                                           {},
                                           {{"Retry-After", "1"}}},
                                   req.path, req.request_id);
        }
        error = e.what();
    } catch (const std::exception& e) {
        error = e.what();
    } catch (...) {  // NOLINT(bugprone-empty-catch): logged below
    }
    log::error("http", "handler failed",
               {{"request_id", req.request_id}, {"route", req.route}, {"error", error}});
    return problemResponse(Problem{problems::kInternal,
                                   "the server could not answer this request; quote the request "
                                   "id when reporting it",
                                   {},
                                   {}},
                           req.path, req.request_id);
}

}  // namespace restinu::rt
