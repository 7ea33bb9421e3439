#include "restinu/rt/router.hpp"

#include <algorithm>
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

std::vector<std::string_view> splitPath(std::string_view path) {
    std::vector<std::string_view> out;
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
    std::vector<Route> routes;
    std::vector<Middleware> middleware;

    // Does `route` match `parts`? Fills params on success.
    static bool matches(const Route& route, std::string_view path,
                        const std::vector<std::string_view>& parts, Request::Fields& params) {
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
    Request::Fields scratch;
    const Route* get_fallback = nullptr;
    Request::Fields get_params;
    for (const auto& r : impl_->routes) {
        if (!Impl::matches(r, path, parts, scratch)) {
            continue;
        }
        if (!m.path_known) {
            m.path_known = true;
            m.pattern = r.pattern;
        }
        if (r.method == method) {
            m.handler = &r.handler;
            m.pattern = r.pattern;
            params = std::move(scratch);
            return m;  // the most specific route for this method
        }
        if (get_fallback == nullptr && method == Method::Head && r.method == Method::Get) {
            get_fallback = &r;
            get_params = scratch;
        }
    }
    if (get_fallback != nullptr) {
        m.handler = &get_fallback->handler;
        m.pattern = get_fallback->pattern;
        params = std::move(get_params);
        return m;
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
