#include "restinu/rt/router.hpp"

#include <algorithm>
#include <array>
#include <boost/container/small_vector.hpp>
#include <stdexcept>

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

void Router::add(Method method, std::string_view pattern, Handler handler) {
    Route r{method, std::string(pattern), {}, std::move(handler), 0};
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

}  // namespace restinu::rt
