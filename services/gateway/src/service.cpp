#include "restinu/gateway/service.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <memory>
#include <set>

#include "auth.hpp"
#include "cors_stage.hpp"
#include "edge.hpp"
#include "forwarder.hpp"
#include "health.hpp"
#include "idempotency_stage.hpp"
#include "live_stream.hpp"
#include "rate_limit_stage.hpp"
#include "restinu/rt/problem.hpp"
#include "route_table.hpp"
#include "settings.hpp"
#include "token_stage.hpp"
#include "web_app.hpp"
#include "web_session.hpp"

/// The gateway's request path: the stages in order (docs/architecture.md, "The gateway").
///   0. path normalisation and CORS (edge.hpp, cors_stage.hpp)
///   1. who is calling (token_stage.hpp)
///   2. rate limit (rate_limit_stage.hpp)
///   3. idempotency key (idempotency_stage.hpp)
///   4. forward with retries (forwarder.hpp), or hold the live stream (live_stream.hpp)
/// and beside it, health checks (health.hpp). Each stage answers with a problem to stop the
/// request, or lets it go on; this file only puts them in order.
namespace restinu::gateway {
namespace {

namespace net = boost::asio;
using Headers = std::vector<std::pair<std::string, std::string>>;

rt::Response refuse(const rt::Request& req, const rt::Problem& p, Headers extra = {}) {
    auto res = rt::problemResponse(p, req.path, req.request_id);
    for (auto& h : extra) {
        res.headers.push_back(std::move(h));
    }
    return res;
}

/// One loop thread's gateway: its stages and their state.
class Gateway {
public:
    Gateway(rt::Shard& shard, const Settings& settings, TokenKeys& keys)
        : shard_(shard),
          settings_(settings),
          upstreams_(shard, settings),
          tokens_(shard, settings, keys),
          limits_(shard, settings),
          idempotency_(shard, settings),
          forwarder_(shard, settings, upstreams_),
          health_(shard, settings, upstreams_),
          live_(shard, settings) {}

    ~Gateway() {
        health_.stop();
        tokens_.stop();
    }

    void start() {
        live_.start();
        net::co_spawn(shard_.io(), health_.loop(), net::detached);
        if (shard_.index() == 0) {
            net::co_spawn(shard_.io(), tokens_.refreshLoop(), net::detached);
        }
    }

    rt::Task<void> ready(std::string service) { return health_.ready(std::move(service)); }

    // Not a coroutine: most requests need no CORS headers, and then the answer is pipeline()'s
    // own task (one coroutine frame fewer per request). `service` outlives the request (the
    // router's copy), as do the settings' rules.
    rt::Task<rt::Response> handle(rt::Request& req, const std::string& service) {
        if (!pathIsNormal(req.path)) {
            return normalised(req, service);
        }
        return handleNormal(req, service);
    }

private:
    // handle() for a path that normalisePath() leaves as it is.
    rt::Task<rt::Response> handleNormal(rt::Request& req, const std::string& service) {
        if (auto preflight = corsPreflight(req, settings_.cors_origins, settings_.cors_max_age)) {
            return answered(std::move(*preflight));
        }
        const RouteRule* rule = matchRule(settings_.routes, req.method, req.path);
        // The config may send this prefix to another service.
        const auto& target = rule != nullptr && !rule->service.empty() ? rule->service : service;
        auto origin = req.header("Origin");
        if (!corsAllowed(origin, settings_.cors_origins)) {
            return pipeline(req, target, rule);
        }
        return withCors(req, target, rule, origin);
    }

    static rt::Task<rt::Response> answered(rt::Response res) { co_return res; }

    // A path with "//", a dot or an escape: the rules, the forwarded target and everything
    // after see it normalised (edge.hpp), or it is refused. The request's views point into
    // this frame while it runs and are put back before it ends (the access log reads them).
    rt::Task<rt::Response> normalised(rt::Request& req, const std::string& service) {
        auto path = normalisePath(req.path);
        if (!path) {
            co_return refuse(req, {rt::problems::kBadRequest,
                                   "the path has a dot segment or an encoded slash",
                                   {},
                                   {}});
        }
        std::string target = *path;
        target.append(req.target.substr(req.path.size()));
        struct Restore {
            rt::Request& r;
            std::string_view path, target;
            ~Restore() {
                r.path = path;
                r.target = target;
            }
        } restore{req, req.path, req.target};
        req.path = *path;
        req.target = target;
        co_return co_await handleNormal(req, service);
    }

    rt::Task<rt::Response> withCors(rt::Request& req, const std::string& service,
                                    const RouteRule* rule, std::string_view origin) {
        auto res = co_await pipeline(req, service, rule);
        for (auto& h : corsHeaders(origin)) {
            res.headers.push_back(std::move(h));
        }
        co_return res;
    }

    rt::Task<rt::Response> pipeline(rt::Request& req, const std::string& service,
                                    const RouteRule* rule) {
        // 1. Who is calling: the client's address (behind trusted proxies, from
        // X-Forwarded-For), signed to the services and the key of anonymous limits; and a
        // verified bearer token, or nobody. A token seen before is found without suspending.
        req.client_ip =
            clientIp(req.remote_ip, req.header("X-Forwarded-For"), settings_.trusted_proxies);
        TokenCache::Claims claims;
        if (auto cached = tokens_.cached(req)) {
            claims = std::move(*cached);
        } else {
            auto caller = co_await tokens_.check(req);
            if (auto* refused = std::get_if<rt::Problem>(&caller)) {
                co_return refuse(req, *refused);
            }
            claims = std::get<TokenCache::Claims>(std::move(caller));
        }
        auto caller = TokenStage::callerKey(claims, req);

        // 2. Rate limit: a permit from this caller's lease without suspending, else a check.
        Headers extra;
        const auto& policy_name = rule != nullptr ? rule->rate_policy : kDefaultPolicy;
        if (policy_name != "none") {
            const auto& policy = settings_.rate_policies.at(policy_name);
            if (policy.enabled()) {
                auto lease_key = policy.name + ":" + caller;
                auto decision = limits_.fromLease(lease_key);
                if (!decision) {
                    decision = co_await limits_.check(policy, lease_key);
                }
                if (auto refused = limits_.verdict(policy, *decision, extra)) {
                    co_return refuse(req, *refused, std::move(extra));
                }
            }
        }

        // The live stream of notifications is held here, not forwarded (live_stream.hpp).
        if (req.method == rt::Method::Get && req.path == kLiveStreamPath) {
            if (!claims) {
                co_return refuse(req, {rt::problems::kUnauthorized,
                                       "the live stream needs a bearer token",
                                       {},
                                       {{"WWW-Authenticate", "Bearer"}}});
            }
            co_return withHeaders(live_.open(req, claims->subject, claims->expires_at),
                                  std::move(extra));
        }

        // The web app's session (web_session.hpp): its refresh token in and out of a cookie.
        // These are auth routes, never idempotency-stored, so they take the first branch below.
        const auto session = webSessionCall(req);
        std::string session_body;
        struct RestoreBody {
            rt::Request& r;
            std::string_view body;
            ~RestoreBody() { r.body = body; }
        } restore_body{req, req.body};
        if (session != SessionCall::None) {
            if (auto refused = prepareWebSession(req, session, session_body)) {
                co_return refuse(req, *refused, std::move(extra));
            }
        }

        // 3. Idempotency key on POST and PATCH; 4. forward.
        auto key = idempotencyKeyOf(req, rule);
        if (auto* refused = std::get_if<rt::Problem>(&key)) {
            co_return refuse(req, *refused, std::move(extra));
        }
        auto& idem_key = std::get<std::optional<std::string>>(key);
        if (!idem_key) {
            auto res = co_await forwarder_.forward(req, service, rule, claims.get());
            finishWebSession(session, res, settings_.web_session_ttl);
            co_return withHeaders(std::move(res), std::move(extra));
        }
        auto begun = co_await idempotency_.begin(req, caller, *idem_key);
        if (auto* answer = std::get_if<rt::Response>(&begun)) {
            co_return withHeaders(std::move(*answer), std::move(extra));
        }
        const auto& claim = std::get<IdempotencyStage::Claim>(begun);
        auto res = co_await forwarder_.forward(req, service, rule, claims.get());
        co_await idempotency_.finish(claim, res, req.request_id);
        co_return withHeaders(std::move(res), std::move(extra));
    }

    static rt::Response withHeaders(rt::Response res, Headers extra) {
        for (auto& h : extra) {
            res.headers.push_back(std::move(h));
        }
        return res;
    }

    static inline const std::string kDefaultPolicy = "default";

    rt::Shard& shard_;
    const Settings& settings_;
    Upstreams upstreams_;
    TokenStage tokens_;
    RateLimitStage limits_;
    IdempotencyStage idempotency_;
    Forwarder forwarder_;
    HealthChecker health_;
    LiveStreams live_;
};

}  // namespace

namespace {

rt::Task<rt::Response> serveWebApp(std::shared_ptr<const WebApp> app, rt::Request& req) {
    co_return app->serve(req);
}

// The service that owns `path` by the registry (the longest prefix), as a string that outlives
// the request's coroutine (handle() keeps a reference); `fallback` for a config-only prefix.
const std::string& ownerOf(std::string_view path, const std::string& fallback) {
    static const std::vector<std::string> kNames = routedServices();
    if (auto owner = serviceFor(path)) {
        auto it = std::find(kNames.begin(), kNames.end(), *owner);
        if (it != kNames.end()) {
            return *it;
        }
    }
    return fallback;
}

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "gateway";
    s.default_admin_port = 9080;  // /metrics here, not on the public port
    s.edge = true;                // strips client identity headers; never trusts them
    s.uses_redis = true;          // rate limits and idempotency keys
    s.configure = [](rt::Config& config) -> rt::WireFn {
        auto settings = std::make_shared<Settings>(readSettings(config));
        auto shared = std::make_shared<TokenKeys>(*settings);
        // Loaded once for every shard (read-only after this).
        std::shared_ptr<const WebApp> web;
        if (!settings->web_dir.empty()) {
            web = WebApp::load(settings->web_dir, settings->web_csp);
        }
        return [settings, shared, web](rt::Shard& shard) {
            auto& gw = shard.keep(std::make_unique<Gateway>(shard, *settings, *shared));
            // The settings and the shared state live as long as the longest-lived shard.
            shard.keep(std::make_unique<std::shared_ptr<Settings>>(settings));
            shard.keep(std::make_unique<std::shared_ptr<TokenKeys>>(shared));
            // Every method of a prefix goes to its service. Access none: the gateway checks tokens
            // and limits itself, and each service enforces its own routes' rules.
            auto forwardAll = [&shard, &gw](const std::string& prefix, const std::string& service) {
                auto pattern = prefix + "/{rest...}";
                for (auto m : {rt::Method::Get, rt::Method::Head, rt::Method::Post, rt::Method::Put,
                               rt::Method::Patch, rt::Method::Delete, rt::Method::Options}) {
                    // The longest registry prefix owns the path: one with a "*" segment
                    // (/api/v1/properties/*/tokenize) lives under a plain one's route.
                    shard.router().add(m, pattern, rt::Access::none(),
                                       [&gw, service](rt::Request& req) {
                                           return gw.handle(req, ownerOf(req.path, service));
                                       });
                }
            };
            for (const auto& route : publicRoutes()) {
                if (route.prefix.find('*') == std::string_view::npos) {
                    forwardAll(std::string(route.prefix), std::string(route.service));
                }
            }
            // Prefixes that only the config knows.
            std::set<std::string> added;
            for (const auto& rule : settings->routes) {
                if (rule.service.empty() || serviceFor(rule.prefix) ||
                    !added.insert(rule.prefix).second) {
                    continue;  // under a built-in prefix (handle() redirects it), or done
                }
                forwardAll(rule.prefix, rule.service);
            }
            // Upload routes (a rule with a body_limit) are spooled to a file as they arrive.
            if (std::any_of(settings->routes.begin(), settings->routes.end(),
                            [](const RouteRule& r) { return r.body_limit > 0; })) {
                shard.router().setSpool([settings](rt::Method m, std::string_view path) {
                    const auto* rule = matchRule(settings->routes, m, path);
                    return rule != nullptr ? rule->body_limit : std::uint64_t{0};
                });
            }
            // The web app at `/`, from memory; every path the routes above do not own.
            if (web) {
                auto serve = [web](rt::Request& req) { return serveWebApp(web, req); };
                shard.router().get("/", rt::Access::none(), serve);
                shard.router().get("/{rest...}", rt::Access::none(), serve);
            }
            for (const auto& service : forwardedServices(settings->routes)) {
                shard.addReadinessCheck(service, [&gw, service] { return gw.ready(service); });
            }
            gw.start();
        };
    };
    return s;
}

}  // namespace restinu::gateway
