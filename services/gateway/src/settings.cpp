#include "settings.hpp"

#include <algorithm>

#include "restinu/registry.hpp"

namespace restinu::gateway {
namespace {

// Default upstream address of a service: its registry port on loopback.
std::string defaultUpstream(std::string_view service) {
    const auto* row = registry::find(service);
    return row == nullptr ? std::string{} : "127.0.0.1:" + std::to_string(row->default_port);
}

constexpr std::size_t kMinSecretLength = 32;

}  // namespace

std::map<std::string, RatePolicy, std::less<>> defaultRatePolicies() {
    using std::chrono::seconds;
    return {
        {"default", RatePolicy{"default", 600, seconds(60)}},
        {"auth", RatePolicy{"auth", 20, seconds(60)}},
        {"search", RatePolicy{"search", 1200, seconds(60)}},
        {"upload", RatePolicy{"upload", 60, seconds(60)}},
        {"media", RatePolicy{"media", 6000, seconds(60)}},
    };
}

std::vector<RouteRule> defaultRoutes() {
    std::vector<RouteRule> r(8);
    // Answers under /api/v1/auth carry tokens: the gateway never stores them (no
    // Idempotency-Key there; logging in twice is harmless, a stored token is not).
    r[0].name = "login";
    r[0].prefix = "/api/v1/auth/login";
    r[0].methods = {rt::Method::Post};
    r[0].rate_policy = "auth";
    r[0].idempotency = IdempotencyMode::Off;
    r[1].name = "register";
    r[1].prefix = "/api/v1/auth/register";
    r[1].methods = {rt::Method::Post};
    r[1].rate_policy = "auth";
    r[1].idempotency = IdempotencyMode::Off;
    r[4].name = "auth";
    r[4].prefix = "/api/v1/auth";
    r[4].methods = {rt::Method::Post, rt::Method::Patch};
    r[4].idempotency = IdempotencyMode::Off;
    r[2].name = "search";
    r[2].prefix = "/api/v1/properties";
    r[2].methods = {rt::Method::Get, rt::Method::Head};
    r[2].rate_policy = "search";
    r[3].name = "purchases";
    r[3].prefix = "/api/v1/purchases";
    r[3].methods = {rt::Method::Post};
    r[3].idempotency = IdempotencyMode::Required;
    // Photos: the body goes to a file as it arrives (never whole in memory), then on to the
    // property service from that file; an upload costs real CPU, so its own, lower, limit.
    r[5].name = "images";
    r[5].prefix = "/api/v1/properties/*/images";
    r[5].methods = {rt::Method::Post};
    r[5].rate_policy = "upload";
    r[5].body_limit = std::uint64_t{25} << 20;
    r[5].timeout = std::chrono::seconds(60);
    // Photo files: a listing page asks for a dozen at once; immutable, so browsers and CDNs
    // keep them and repeat visits ask nothing.
    r[6].name = "image-files";
    r[6].prefix = "/api/v1/images";
    r[6].methods = {rt::Method::Get, rt::Method::Head};
    r[6].rate_policy = "media";
    r[6].pipeline = true;
    // Buying shares moves money: a retried request must never buy twice.
    r[7].name = "investments";
    r[7].prefix = "/api/v1/investments";
    r[7].methods = {rt::Method::Post};
    r[7].idempotency = IdempotencyMode::Required;
    return r;
}

const RouteRule* matchRule(const std::vector<RouteRule>& rules, rt::Method method,
                           std::string_view path) {
    const RouteRule* best = nullptr;
    for (const auto& r : rules) {
        if (!prefixMatches(r.prefix, path)) {
            continue;
        }
        if (!r.methods.empty() &&
            std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end()) {
            continue;
        }
        if (best == nullptr || r.prefix.size() > best->prefix.size()) {
            best = &r;
        }
    }
    return best;
}

std::vector<std::string> forwardedServices(const std::vector<RouteRule>& rules) {
    auto out = routedServices();
    for (const auto& r : rules) {
        if (!r.service.empty() && std::find(out.begin(), out.end(), r.service) == out.end()) {
            out.push_back(r.service);
        }
    }
    return out;
}

Settings readSettings(rt::Config& config) {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    Settings s;
    s.upstream_timeout = config.duration("gateway.upstream_timeout", seconds(15));
    s.identity_secret = config.str("identity.secret", "");
    if (s.identity_secret.size() < kMinSecretLength) {
        config.reject("identity.secret",
                      "the gateway signs identity headers with it: set at least 32 random "
                      "characters (the same value for every service)");
    }
    s.issuer = config.str("auth.issuer", "restinu");
    s.audience = config.str("auth.audience", "restinu-api");
    s.jwt_leeway =
        std::chrono::duration_cast<seconds>(config.duration("gateway.jwt_leeway", seconds(30)));
    s.jwks_refresh = config.duration("gateway.jwks.refresh", std::chrono::minutes(5));
    s.jwks_min_refresh = config.duration("gateway.jwks.min_refresh", seconds(5));
    s.token_checks_per_minute =
        config.integer("gateway.token_checks_per_minute", 120, 1, 1'000'000);

    auto& o = s.outlier;
    o.consecutive_failures =
        static_cast<int>(config.integer("gateway.outlier.consecutive_failures", 5, 1, 1000));
    o.base_ejection = config.duration("gateway.outlier.base_ejection", seconds(30));
    o.max_ejection = config.duration("gateway.outlier.max_ejection", seconds(300));
    o.max_ejection_percent =
        static_cast<int>(config.integer("gateway.outlier.max_ejection_percent", 50, 0, 100));
    o.max_requests =
        static_cast<int>(config.integer("gateway.breaker.max_requests", 1024, 1, 1'000'000));
    o.unhealthy_threshold =
        static_cast<int>(config.integer("gateway.health.unhealthy_threshold", 2, 1, 100));
    o.healthy_threshold =
        static_cast<int>(config.integer("gateway.health.healthy_threshold", 1, 1, 100));
    s.health_interval = config.duration("gateway.health.interval", seconds(5));
    s.health_timeout = config.duration("gateway.health.timeout", seconds(1));
    s.max_retries = static_cast<int>(config.integer("gateway.retry.max_retries", 2, 0, 10));
    s.retry_budget_percent =
        static_cast<int>(config.integer("gateway.retry.budget_percent", 20, 0, 100));
    s.retry_min_concurrency =
        static_cast<int>(config.integer("gateway.retry.min_concurrency", 3, 0, 10'000));

    s.rate_policies = defaultRatePolicies();
    for (const auto& name : config.children("gateway.rate_policies")) {
        auto base = "gateway.rate_policies." + name;
        auto& p = s.rate_policies[name];
        p.name = name;
        p.limit = config.integer(base + ".limit", p.limit > 0 ? p.limit : 100, 0, 1'000'000'000);
        auto w = config.duration(base + ".window",
                                 p.limit > 0 ? milliseconds(p.window) : milliseconds(seconds(60)));
        if (w.count() % 1000 != 0 || w < seconds(1)) {
            config.reject(base + ".window", "must be a whole number of seconds");
        }
        p.window = std::chrono::duration_cast<seconds>(std::max<milliseconds>(w, seconds(1)));
        p.burst = config.integer(base + ".burst", 0, 0, 1'000'000'000);
    }

    auto route_names = config.children("gateway.routes");
    s.routes = route_names.empty() ? defaultRoutes() : std::vector<RouteRule>{};
    for (const auto& name : route_names) {
        auto base = "gateway.routes." + name;
        RouteRule r;
        r.name = name;
        r.prefix = config.str(base + ".prefix");
        r.service = config.str(base + ".service", "");
        if (!r.service.empty() && !serviceFor(r.prefix) && r.prefix.size() > 1 &&
            r.prefix.back() == '/') {
            config.reject(base + ".prefix", "a new prefix must not end with /");
        }
        if (!r.prefix.empty() && r.prefix.front() != '/') {
            config.reject(base + ".prefix", "must start with /");
        }
        for (const auto& m : config.list(base + ".methods", std::vector<std::string>{})) {
            auto parsed = rt::parseMethod(m);
            if (parsed == rt::Method::Other) {
                config.reject(base + ".methods", "unknown method " + m);
            }
            r.methods.push_back(parsed);
        }
        r.timeout = config.duration(base + ".timeout", milliseconds(0));
        r.body_limit = static_cast<std::uint64_t>(
            config.integer(base + ".body_limit", 0, 0, std::int64_t{1} << 34));
        r.rate_policy = config.str(base + ".rate_policy", "default");
        if (r.rate_policy != "none" && !s.rate_policies.contains(r.rate_policy)) {
            config.reject(base + ".rate_policy", "no such policy under gateway.rate_policies");
        }
        auto mode =
            config.oneOf(base + ".idempotency", "optional", {"off", "optional", "required"});
        r.idempotency = mode == "off"        ? IdempotencyMode::Off
                        : mode == "required" ? IdempotencyMode::Required
                                             : IdempotencyMode::Optional;
        r.max_retries = static_cast<int>(config.integer(base + ".max_retries", -1, -1, 10));
        r.pipeline = config.boolean(base + ".pipeline", false);
        s.routes.push_back(std::move(r));
    }

    for (const auto& service : forwardedServices(s.routes)) {
        auto key = "gateway.upstreams." + service;
        auto fallback = defaultUpstream(service);
        auto list = !fallback.empty() ? config.list(key, std::vector<std::string>{fallback})
                                      : config.list(key, std::nullopt);
        auto& parsed = s.upstreams[service];
        for (const auto& text : list) {
            if (auto u = parseUpstream(text)) {
                parsed.push_back(*u);
            }
        }
        if (parsed.empty() || parsed.size() != list.size()) {
            config.reject(key, "must be a list of host:port");
        }
    }

    s.trusted_proxies = config.list("gateway.trusted_proxies", std::vector<std::string>{});
    s.cors_origins = config.list("gateway.cors.origins", std::vector<std::string>{});
    s.cors_max_age = config.duration("gateway.cors.max_age", std::chrono::minutes(10));
    s.web_dir = config.str("gateway.web.dir", "");
    s.web_session_ttl = std::chrono::duration_cast<std::chrono::seconds>(
        config.duration("gateway.web.session_ttl", std::chrono::hours(720)));
    s.web_csp = config.str("gateway.web.csp", s.web_csp);
    s.redis_timeout = config.duration("gateway.redis_timeout", milliseconds(100));
    s.redis_retry_after = config.duration("gateway.redis_retry_after", seconds(1));
    s.idempotency_ttl = config.duration("gateway.idempotency.ttl", std::chrono::hours(24));
    s.idempotency_lock_ttl = config.duration("gateway.idempotency.lock_ttl", seconds(60));
    s.idempotency_error_ttl =
        config.duration("gateway.idempotency.error_ttl", std::chrono::minutes(1));
    s.idempotency_max_keys =
        config.integer("gateway.idempotency.max_keys_per_caller", 1000, 1, 10'000'000);
    s.live_heartbeat = config.duration("gateway.live.heartbeat", seconds(15));
    s.live_max_per_user = config.integer("gateway.live.max_per_user", 5, 1, 1000);
    s.live_max_streams = config.integer("gateway.live.max_streams", 50'000, 1, 10'000'000);
    s.live_max_pending =
        static_cast<std::size_t>(config.integer("gateway.live.max_pending", 64, 1, 100'000));
    return s;
}

}  // namespace restinu::gateway
