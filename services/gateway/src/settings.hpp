#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "balancer.hpp"
#include "limiter.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/http.hpp"
#include "route_table.hpp"

/// The gateway's settings (docs/configuration.md, "Gateway"), read once at start.
namespace restinu::gateway {

enum class IdempotencyMode { Off, Optional, Required };

/// Policies of the requests whose path starts with `prefix` (whole segments) and whose method is
/// in `methods` (empty: any). The longest matching prefix wins; `gateway.routes.<name>`.
struct RouteRule {
    std::string name;
    std::string prefix;
    /// The service these requests go to; empty: the built-in prefix table (route_table.hpp).
    /// A rule may send part of a built-in prefix elsewhere, or add a prefix.
    std::string service;
    std::vector<rt::Method> methods;
    std::chrono::milliseconds timeout{0};  ///< 0: gateway.upstream_timeout
    std::string rate_policy = "default";   ///< a name under gateway.rate_policies, or "none"
    IdempotencyMode idempotency = IdempotencyMode::Optional;  ///< for POST and PATCH
    int max_retries = -1;                                     ///< -1: gateway.retry.max_retries
    /// GET and HEAD requests of this route made in the same turn of the event loop share one
    /// upstream connection, written together and answered in order (ADR 0008). For routes
    /// that answer quickly: an answer waits for those before it on the connection.
    bool pipeline = false;
    /// Non-zero: request bodies of this route are written to a temporary file as they arrive
    /// (up to this many bytes; more is 413) and sent upstream from it, never held in memory.
    /// For uploads; every other body stays under `http.body_limit`.
    std::uint64_t body_limit = 0;
};

struct Settings {
    std::map<std::string, std::vector<Upstream>, std::less<>> upstreams;
    std::chrono::milliseconds upstream_timeout{15'000};
    std::vector<RouteRule> routes;
    std::map<std::string, RatePolicy, std::less<>> rate_policies;
    OutlierPolicy outlier;
    std::chrono::milliseconds health_interval{5'000};
    std::chrono::milliseconds health_timeout{1'000};
    int max_retries = 2;
    int retry_budget_percent = 20;
    int retry_min_concurrency = 3;
    std::string identity_secret;
    std::string issuer = "restinu";
    std::string audience = "restinu-api";
    std::chrono::seconds jwt_leeway{30};
    std::chrono::milliseconds jwks_refresh{300'000};
    std::chrono::milliseconds jwks_min_refresh{5'000};
    /// Tokens not in the cache that one client address may have checked (ECDSA) per minute;
    /// past it, 429 before any check or log line (a flood of forged tokens costs nothing).
    std::int64_t token_checks_per_minute = 120;
    std::vector<std::string> trusted_proxies;
    std::vector<std::string> cors_origins;
    std::chrono::milliseconds cors_max_age{600'000};
    /// How long the web app's session cookies last (match auth.refresh_ttl).
    std::chrono::seconds web_session_ttl{std::chrono::hours(720)};
    /// The web app's built files (web/dist), served at `/`; empty: no web app (the default).
    std::string web_dir;
    /// The Content-Security-Policy of the app's pages (web/README.md says what the app needs).
    std::string web_csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
    std::chrono::milliseconds redis_timeout{100};
    std::chrono::milliseconds redis_retry_after{1'000};
    std::chrono::milliseconds idempotency_ttl{std::chrono::hours(24)};
    std::chrono::milliseconds idempotency_lock_ttl{60'000};
    /// How long a 4xx answer is replayed (a corrected retry should not wait a day).
    std::chrono::milliseconds idempotency_error_ttl{60'000};
    /// Keys one caller (user, or address when anonymous) may hold at once; more are 429.
    std::int64_t idempotency_max_keys = 1000;
    /// The live stream of in-app notifications (live_stream.hpp).
    std::chrono::milliseconds live_heartbeat{15'000};
    std::int64_t live_max_per_user = 5;
    std::int64_t live_max_streams = 50'000;  ///< per loop thread
    std::size_t live_max_pending = 64;       ///< messages queued for one slow stream, then it ends
};

/// Reads every `gateway.*` key (and `upstreams.*`, `identity.secret`, `auth.*`); bad values are
/// recorded on `config` and reported by its check().
Settings readSettings(rt::Config& config);

/// The built-in rules when `gateway.routes` is not configured: tight limits on login and
/// registration, looser on property search, the default elsewhere.
std::vector<RouteRule> defaultRoutes();
std::map<std::string, RatePolicy, std::less<>> defaultRatePolicies();

/// Every service the gateway forwards to: the built-in ones and those named by rules.
std::vector<std::string> forwardedServices(const std::vector<RouteRule>& rules);

/// The rule for a request (the longest prefix matching on whole segments whose methods include
/// `method`), or nullptr.
const RouteRule* matchRule(const std::vector<RouteRule>& rules, rt::Method method,
                           std::string_view path);

}  // namespace restinu::gateway
