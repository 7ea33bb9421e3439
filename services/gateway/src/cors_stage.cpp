#include "cors_stage.hpp"

#include <algorithm>
#include <chrono>

#include "edge.hpp"

namespace restinu::gateway {

bool corsAllowed(std::string_view origin, const std::vector<std::string>& allowed) {
    if (origin.empty()) {
        return false;
    }
    return std::any_of(allowed.begin(), allowed.end(),
                       [&](const std::string& a) { return a == "*" || a == origin; });
}

std::vector<std::pair<std::string, std::string>> corsPreflightHeaders(
    std::string_view origin, std::string_view request_headers, long max_age_s) {
    std::vector<std::pair<std::string, std::string>> h{
        {"Access-Control-Allow-Origin", std::string(origin)},
        {"Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
        {"Access-Control-Max-Age", std::to_string(max_age_s)},
        {"Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
    };
    auto asked = trimOws(request_headers);
    h.emplace_back("Access-Control-Allow-Headers",
                   asked.empty() ? std::string("Authorization, Content-Type, Idempotency-Key, "
                                               "X-Request-Id, traceparent")
                                 : std::string(asked));
    return h;
}

std::vector<std::pair<std::string, std::string>> corsHeaders(std::string_view origin) {
    return {
        {"Access-Control-Allow-Origin", std::string(origin)},
        {"Vary", "Origin"},
        {"Access-Control-Expose-Headers",
         "X-Request-Id, RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed, ETag, "
         "Location"},
    };
}

std::optional<rt::Response> corsPreflight(const rt::Request& req,
                                          const std::vector<std::string>& allowed,
                                          std::chrono::milliseconds max_age) {
    if (req.method != rt::Method::Options || !req.hasHeader("Access-Control-Request-Method") ||
        allowed.empty()) {
        return std::nullopt;
    }
    auto res = rt::Response::noContent();
    auto origin = req.header("Origin");
    if (corsAllowed(origin, allowed)) {
        auto seconds = std::chrono::duration_cast<std::chrono::seconds>(max_age).count();
        res.headers =
            corsPreflightHeaders(origin, req.header("Access-Control-Request-Headers"), seconds);
    }
    return res;
}

}  // namespace restinu::gateway
