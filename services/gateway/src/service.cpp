#include "restinu/gateway/service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>

#include "auth.hpp"
#include "balancer.hpp"
#include "edge.hpp"
#include "idempotency.hpp"
#include "limiter.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/identity.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/redis.hpp"
#include "route_table.hpp"
#include "settings.hpp"

namespace restinu::gateway {
namespace {

namespace net = boost::asio;
using Headers = std::vector<std::pair<std::string, std::string>>;

using rt::unixMillis;
using rt::unixSeconds;

bool idempotentMethod(rt::Method m) {
    return m == rt::Method::Get || m == rt::Method::Head || m == rt::Method::Put ||
           m == rt::Method::Delete || m == rt::Method::Options;
}

std::string randomToken() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::to_string(rng()) + std::to_string(rng());
}

/// State every loop thread shares: the token verifier (thread-safe), the JWKS fetch gate.
struct Shared {
    explicit Shared(const Settings& s)
        : verifier(s.issuer, s.audience, s.jwt_leeway), gate(s.jwks_min_refresh) {}
    rt::TokenVerifier verifier;
    RefreshGate gate;
    std::atomic<bool> keys_loaded{false};
};

struct UpstreamMetrics {
    rt::Counter* ok = nullptr;
    rt::Counter* connect_failure = nullptr;
    rt::Counter* failure = nullptr;
    rt::Histogram* duration = nullptr;
};

struct ServicePool {
    std::string name;
    Pool pool;
    RetryBudget budget;
    std::vector<UpstreamMetrics> metrics;
    rt::Counter* retries = nullptr;
    rt::Counter* ejections = nullptr;
};

/// One loop thread's gateway: balancer state, caches and its Redis client for the limiter.
class Gateway {
public:
    Gateway(rt::Shard& shard, const Settings& settings, Shared& shared)
        : shard_(shard),
          settings_(settings),
          shared_(shared),
          health_timer_(shard.io()),
          jwks_timer_(shard.io()),
          limiter_script_(std::string(slidingWindowScript())),
          bucket_script_(std::string(tokenBucketScript())),
          begin_script_(std::string(idempotencyBeginScript())),
          finish_script_(std::string(idempotencyFinishScript())) {
        auto& m = shard.metrics();
        auto& requests = m.counter("restinu_gateway_upstream_requests_total",
                                   "Tries sent to each upstream instance, by outcome",
                                   {"target", "upstream", "outcome"});
        auto& durations =
            m.histogram("restinu_gateway_upstream_duration_seconds",
                        "Time from sending a try to its answer", {"target", "upstream"});
        // "target", not "service": every series already has service="gateway".
        auto& retries = m.counter("restinu_gateway_retries_total", "Retries sent", {"target"});
        auto& ejections = m.counter("restinu_gateway_ejections_total",
                                    "Instances ejected by outlier detection", {"target"});
        for (const auto& [name, hosts] : settings.upstreams) {
            auto sp = std::make_unique<ServicePool>(ServicePool{
                name,
                Pool(hosts, settings.outlier),
                RetryBudget(settings.retry_budget_percent, settings.retry_min_concurrency),
                {},
                &retries.labels({name}),
                &ejections.labels({name})});
            for (const auto& h : hosts) {
                auto text = h.text();
                sp->metrics.push_back(UpstreamMetrics{
                    &requests.labels({name, text, "ok"}),
                    &requests.labels({name, text, "connect_failure"}),
                    &requests.labels({name, text, "failure"}), &durations.labels({name, text})});
            }
            pools_.emplace(name, std::move(sp));
        }
        limited_ = &m.counter("restinu_gateway_rate_limited_total", "Requests refused with 429",
                              {"policy"})
                        .labels({"all"});
        fallback_ = &m.counter("restinu_gateway_limiter_local_total",
                               "Rate-limit checks decided in process because Redis was "
                               "unavailable",
                               {})
                         .labels({});
        replays_ = &m.counter("restinu_gateway_idempotent_replays_total",
                              "Stored answers replayed for a repeated Idempotency-Key", {})
                        .labels({});
        token_failures_ = &m.counter("restinu_gateway_token_rejections_total",
                                     "Bearer tokens refused with 401", {})
                               .labels({});
        rt::RedisOptions ro;
        ro.host = shard.settings().redis_host;
        ro.port = shard.settings().redis_port;
        ro.name = "gateway-limiter";
        ro.connect_timeout = settings.redis_timeout;
        ro.command_timeout = settings.redis_timeout;
        redis_ = std::make_unique<rt::Redis>(shard.io(), ro, &m);
        threads_ = std::max(1, shard.settings().threads);
        token_check_policy_ =
            RatePolicy{"token-checks", settings.token_checks_per_minute, std::chrono::seconds(60)};
        token_check_share_ = (settings.token_checks_per_minute + threads_ - 1) / threads_;
    }

    ~Gateway() {
        stopped_ = true;
        health_timer_.cancel();
        jwks_timer_.cancel();
    }

    void start() {
        net::co_spawn(shard_.io(), healthLoop(), net::detached);
        if (shard_.index() == 0) {
            net::co_spawn(shard_.io(), jwksLoop(), net::detached);
        }
    }

    // Not a coroutine: most requests need no CORS headers, and then the answer is handleInner's
    // own task (one coroutine frame fewer per request). `service` outlives the request (the
    // router's copy), as do the settings' rules.
    rt::Task<rt::Response> handle(rt::Request& req, const std::string& service) {
        if (!pathIsNormal(req.path)) {
            return normalised(req, service);
        }
        return handleNormal(req, service);
    }

    // handle() for a path that normalisePath() leaves as it is.
    rt::Task<rt::Response> handleNormal(rt::Request& req, const std::string& service) {
        const RouteRule* rule = matchRule(settings_.routes, req.method, req.path);
        auto origin = req.header("Origin");
        bool cors = corsAllowed(origin, settings_.cors_origins);
        if (req.method == rt::Method::Options && req.hasHeader("Access-Control-Request-Method") &&
            !settings_.cors_origins.empty()) {
            auto res = rt::Response::noContent();
            if (cors) {
                auto max_age =
                    std::chrono::duration_cast<std::chrono::seconds>(settings_.cors_max_age);
                res.headers = corsPreflightHeaders(
                    origin, req.header("Access-Control-Request-Headers"), max_age.count());
            }
            return answered(std::move(res));
        }
        // The config may send this prefix to another service.
        const auto& target = rule != nullptr && !rule->service.empty() ? rule->service : service;
        if (!cors) {
            return handleInner(req, target, rule);
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
            co_return problem(req, rt::problems::kBadRequest,
                              "the path has a dot segment or an encoded slash");
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
        auto res = co_await handleInner(req, service, rule);
        for (auto& h : corsHeaders(origin)) {
            res.headers.push_back(std::move(h));
        }
        co_return res;
    }

    /// For /readyz: some instance of `service` answers its own /readyz now (usable ones first).
    rt::Task<void> ready(std::string service) {
        auto& sp = *pools_.at(service);
        auto now = Clock::now();
        std::vector<std::size_t> order;
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t i = 0; i < sp.pool.size(); ++i) {
                bool usable = sp.pool.host(i).healthy && !sp.pool.host(i).ejected(now);
                if (usable == (pass == 0)) {
                    order.push_back(i);
                }
            }
        }
        std::string errors;
        for (auto i : order) {
            auto err = co_await probe(sp.pool.host(i).address);
            if (err.empty()) {
                co_return;
            }
            errors += sp.pool.host(i).address.text() + ": " + err + "; ";
        }
        throw std::runtime_error("no ready instance: " + errors);
    }

private:
    rt::Response problem(const rt::Request& req, rt::ProblemType type, std::string detail,
                         Headers headers = {}) {
        rt::Problem p{type, std::move(detail), {}, std::move(headers)};
        return rt::problemResponse(p, req.path, req.request_id);
    }

    rt::Task<rt::Response> handleInner(rt::Request& req, const std::string& service,
                                       const RouteRule* rule) {
        // 1. Who is calling: a verified bearer token, or nobody. A token seen before is found
        // in this thread's cache without suspending.
        // The client's address (behind trusted proxies, from X-Forwarded-For): the services get
        // it signed, and anonymous callers are limited by it.
        req.client_ip =
            clientIp(req.remote_ip, req.header("X-Forwarded-For"), settings_.trusted_proxies);
        TokenCache::Claims claims;
        if (auto bearer = bearerToken(req.header("Authorization"))) {
            claims = token_cache_.find(*bearer, unixSeconds());
            if (!claims) {
                // A token not seen before costs an ECDSA check (and a log line if bad): each
                // address gets a budget of them, spent before the check.
                auto budget = token_checks_.check(token_check_policy_, token_check_share_,
                                                  req.client_ip, unixMillis());
                if (!budget.allowed) {
                    limited_->inc();
                    co_return problem(req, rt::problems::kRateLimited,
                                      "too many new access tokens from this address; retry "
                                      "after " +
                                          std::to_string(budget.reset_s) + "s",
                                      {{"Retry-After", std::to_string(budget.reset_s)}});
                }
                auto verdict = co_await verifyToken(std::string(*bearer));
                if (verdict.status == 401) {
                    token_failures_->inc();
                    co_return problem(req, rt::problems::kUnauthorized,
                                      "the access token is not valid",
                                      {{"WWW-Authenticate", "Bearer error=\"invalid_token\""}});
                }
                if (verdict.status != 200) {
                    co_return problem(req, rt::problems::kUnavailable,
                                      "access tokens cannot be checked right now",
                                      {{"Retry-After", "1"}});
                }
                claims = std::move(verdict.claims);
            }
        }
        std::string caller = claims ? "u:" + claims->subject : "ip:" + req.client_ip;

        // 2. Rate limit.
        Headers extra;
        std::string policy_name = rule != nullptr ? rule->rate_policy : "default";
        if (policy_name != "none") {
            const auto& policy = settings_.rate_policies.at(policy_name);
            if (policy.enabled()) {
                // A permit from this caller's lease is taken here, without a coroutine.
                auto lease_key = policy.name + ":" + caller;
                std::optional<RateDecision> leased;
                if (auto now = Clock::now(); now >= redis_down_until_) {
                    leased = leases_.take(lease_key, now);
                }
                RateDecision d;
                if (leased) {
                    d = *leased;
                } else {
                    d = co_await rateCheck(policy, lease_key);
                }
                extra.emplace_back("RateLimit-Policy", rateLimitPolicyHeader(policy));
                extra.emplace_back("RateLimit", rateLimitHeader(policy, d));
                if (!d.allowed) {
                    limited_->inc();
                    extra.emplace_back("Retry-After", std::to_string(d.reset_s));
                    co_return problem(req, rt::problems::kRateLimited,
                                      "the rate limit of policy \"" + policy.name +
                                          "\" is exhausted; retry after " +
                                          std::to_string(d.reset_s) + "s",
                                      std::move(extra));
                }
            }
        }

        // 3. Idempotency keys on POST and PATCH.
        auto mode = rule != nullptr ? rule->idempotency : IdempotencyMode::Optional;
        std::optional<std::string> idem_key;
        if ((req.method == rt::Method::Post || req.method == rt::Method::Patch) &&
            mode != IdempotencyMode::Off) {
            auto header = req.header("Idempotency-Key");
            if (!header.empty()) {
                idem_key = parseIdempotencyKey(header);
                if (!idem_key) {
                    co_return withHeaders(
                        problem(req, rt::problems::kBadRequest,
                                "Idempotency-Key must be 1 to 255 printable ASCII characters"),
                        extra);
                }
            } else if (mode == IdempotencyMode::Required) {
                co_return withHeaders(problem(req, rt::problems::kIdempotencyKeyRequired,
                                              "this operation needs an Idempotency-Key header"),
                                      extra);
            }
        }
        if (!idem_key) {
            auto res = co_await forward(req, service, rule, claims.get());
            co_return withHeaders(std::move(res), extra);
        }
        auto res = co_await forwardOnce(req, service, rule, claims.get(), caller, *idem_key);
        co_return withHeaders(std::move(res), extra);
    }

    static rt::Response withHeaders(rt::Response res, Headers& extra) {
        for (auto& h : extra) {
            res.headers.push_back(std::move(h));
        }
        extra.clear();
        return res;
    }

    // --- identity -------------------------------------------------------------------------

    struct Verdict {
        int status = 200;  // 200 verified, 401 refused, 503 no keys to check with
        TokenCache::Claims claims;
    };

    // A token not in the cache: its signature and claims are checked, and it is cached.
    rt::Task<Verdict> verifyToken(std::string token) {
        auto now = unixSeconds();
        std::string why;
        auto claims = shared_.verifier.verify(token, now, &why);
        if (!claims && why.rfind("unknown kid", 0) == 0 && shared_.gate.tryAcquire(unixMillis())) {
            // A key we do not know yet (rotation) or have never loaded: one fetch, then again.
            co_await refreshJwks();
            claims = shared_.verifier.verify(token, unixSeconds(), &why);
        }
        if (!claims) {
            if (!shared_.keys_loaded) {
                co_return Verdict{503, nullptr};
            }
            // The reason may quote the token's own header (its kid): at most 120 bytes of it.
            if (why.size() > 120) {
                why.resize(120);
                why += "...";
            }
            rt::log::info("auth", "refused a bearer token", {{"error", why}});
            co_return Verdict{401, nullptr};
        }
        co_return Verdict{200, token_cache_.put(token, std::move(*claims), now)};
    }

    rt::Task<bool> refreshJwks() {
        auto& sp = *pools_.at("user");
        for (std::size_t i = 0; i < sp.pool.size(); ++i) {
            const auto& up = sp.pool.host(i).address;
            rt::ClientRequest r;
            r.host = up.host;
            r.port = up.port;
            r.target = "/.well-known/jwks.json";
            r.timeout = std::chrono::milliseconds(2000);
            std::string error;
            rt::ClientResponse res;
            try {
                res = co_await shard_.http().request(r);
            } catch (const std::exception& e) {
                error = e.what();
            }
            if (error.empty() && res.status != 200) {
                error = "status " + std::to_string(res.status);
            }
            if (error.empty()) {
                try {
                    auto pems = rt::publicPemsFromJwks(res.body);
                    if (pems.empty()) {
                        error = "no ES256 key in the JWKS";
                    } else {
                        auto count = pems.size();
                        shared_.verifier.setKeys(std::move(pems));
                        bool first = !shared_.keys_loaded.exchange(true);
                        if (first) {
                            rt::log::info("auth", "JWKS loaded",
                                          {{"upstream", up.text()}, {"keys", count}});
                        }
                        co_return true;
                    }
                } catch (const std::exception& e) {
                    error = e.what();
                }
            }
            rt::log::warn("auth", "JWKS fetch failed", {{"upstream", up.text()}, {"error", error}});
        }
        co_return false;
    }

    rt::Task<void> jwksLoop() {
        while (!stopped_) {
            bool ok = co_await refreshJwks();
            // Until the first success, retry every second; then follow rotation periodically.
            auto wait = ok ? settings_.jwks_refresh : std::chrono::milliseconds(1000);
            jwks_timer_.expires_after(wait);
            boost::system::error_code ec;
            co_await jwks_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                co_return;
            }
        }
    }

    // --- rate limiting --------------------------------------------------------------------

    // Requests of one caller waiting for the lease ask in flight (see rateCheck). `waiting`
    // counts them until each has resumed, so the next ask can cover those not yet served.
    struct LeaseWait {
        std::shared_ptr<net::steady_timer> timer;  // cancelled (and dropped) when answered
        std::int64_t waiting = 0;
    };

    // Wakes the requests waiting for the lease ask on `key` (it was answered or failed).
    void leaseAnswered(const std::string& key) {
        auto it = lease_waits_.find(key);
        if (it == lease_waits_.end()) {
            return;
        }
        if (it->second.timer) {
            it->second.timer->cancel();
            it->second.timer.reset();
        }
        if (it->second.waiting == 0) {
            lease_waits_.erase(it);
        }
    }

    // Waits until the ask in flight for `key` is answered, or Redis's timeout passes.
    rt::Task<void> waitForLease(const std::string& key) {
        std::shared_ptr<net::steady_timer> timer;
        {
            auto& w = lease_waits_[key];
            if (!w.timer) {
                w.timer = std::make_shared<net::steady_timer>(shard_.io(), settings_.redis_timeout);
            }
            ++w.waiting;
            timer = w.timer;
        }
        boost::system::error_code ec;
        co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
        auto it = lease_waits_.find(key);  // (the map may have changed meanwhile)
        if (it == lease_waits_.end()) {
            co_return;
        }
        if (it->second.timer == timer) {
            it->second.timer.reset();  // it timed out: the next waiter starts a new one
        }
        if (--it->second.waiting == 0 && !it->second.timer) {
            lease_waits_.erase(it);
        }
    }

    std::int64_t leaseWaiters(const std::string& key) const {
        auto it = lease_waits_.find(key);
        return it == lease_waits_.end() ? 0 : it->second.waiting;
    }

    // A check for a caller whose lease holds no permit; `lease_key` is "<policy>:<caller>".
    rt::Task<RateDecision> rateCheck(const RatePolicy& policy, const std::string& lease_key) {
        bool bucket = policy.burst > 0;
        // A burst from one caller shares round trips: while an ask is in flight the others wait
        // for its permits; the first of them to find none asks next, for all who wait (so a
        // cold burst of hundreds costs a few round trips, not one each).
        // (The caller has found no permit in the lease already.)
        for (int round = 0;
             round < 4 && Clock::now() >= redis_down_until_ && leases_.asking(lease_key); ++round) {
            co_await waitForLease(lease_key);
            if (auto d = leases_.take(lease_key, Clock::now())) {
                co_return *d;
            }
        }
        if (Clock::now() >= redis_down_until_) {
            auto now_ms = unixMillis();
            auto ask = leases_.want(policy, lease_key, Clock::now(), leaseWaiters(lease_key));
            auto window_ms = static_cast<std::int64_t>(policy.window.count()) * 1000;
            std::vector<std::string> keys{(bucket ? "tb:{" : "rl:{") + lease_key + "}"};
            std::vector<std::string> args =
                bucket ? std::vector<std::string>{std::to_string(policy.burst),
                                                  std::to_string(policy.limit),
                                                  std::to_string(window_ms), std::to_string(now_ms)}
                       : std::vector<std::string>{
                             std::to_string(policy.limit), std::to_string(policy.bucketMs()),
                             std::to_string(policy.buckets), std::to_string(now_ms)};
            args.push_back(std::to_string(ask.permits));
            if (ask.give_back > 0) {
                if (!bucket) {
                    args.push_back(std::to_string(ask.give_back_bucket));
                }
                args.push_back(std::to_string(ask.give_back));
            }
            const auto& script = bucket ? bucket_script_ : limiter_script_;
            bool failed = false;
            std::string error;
            rt::RedisReply reply;
            try {
                reply = co_await redis_->eval(script, std::move(keys), std::move(args));
            } catch (const std::exception& e) {
                failed = true;
                error = e.what();
            }
            bool is_array = !failed && reply.type == rt::RedisReply::Type::Array;
            std::optional<RateDecision> decided;
            if (is_array && bucket && reply.elements.size() == 2) {
                auto admitted = reply.elements[0].integer;
                decided = leases_.granted(
                    policy, lease_key, admitted,
                    bucketDecision(policy, policy.limit, admitted > 0, reply.elements[1].integer),
                    Clock::now());
            }
            auto expected = static_cast<std::size_t>(policy.buckets) + 2;
            if (is_array && !bucket && reply.elements.size() == expected) {
                std::vector<std::int64_t> counts;
                counts.reserve(expected - 1);
                for (std::size_t i = 1; i < expected; ++i) {
                    counts.push_back(reply.elements[i].integer);
                }
                auto admitted = reply.elements[0].integer;
                decided = leases_.granted(
                    policy, lease_key, admitted,
                    windowDecision(policy, policy.limit, admitted > 0, counts, now_ms),
                    Clock::now(), now_ms / policy.bucketMs());
            }
            if (decided) {
                leaseAnswered(lease_key);
                co_return *decided;
            }
            leases_.failed(lease_key);
            leaseAnswered(lease_key);
            if (!failed) {
                error = "unexpected reply: " + reply.str;
            }
            // Redis is down or slow: decide locally, and leave Redis alone for a while.
            redis_down_until_ = Clock::now() + settings_.redis_retry_after;
            rt::log::warn("limiter", "Redis unavailable; limiting in process",
                          {{"error", error}, {"retry_in_ms", settings_.redis_retry_after.count()}});
        }
        fallback_->inc();
        // Each loop thread counts its own share of the limit.
        auto share = (policy.limit + threads_ - 1) / threads_;
        auto local_policy = policy;
        local_policy.burst = (policy.burst + threads_ - 1) / threads_;
        co_return local_.check(local_policy, share, lease_key, unixMillis());
    }

    // --- idempotency ----------------------------------------------------------------------

    rt::Task<rt::Response> forwardOnce(rt::Request& req, const std::string& service,
                                       const RouteRule* rule, const rt::AccessClaims* claims,
                                       const std::string& caller, const std::string& key) {
        auto fingerprint = requestFingerprint(req.method_name, req.target, req.body);
        auto redis_key = idempotencyRedisKey(caller, key);
        auto index_key = idempotencyIndexKey(caller);
        auto lock = "L" + fingerprint + randomToken();
        auto lock_ms = std::to_string(settings_.idempotency_lock_ttl.count());
        std::vector<std::string> keys{redis_key, index_key};
        std::vector<std::string> args{lock, lock_ms, std::to_string(unixMillis()),
                                      std::to_string(settings_.idempotency_max_keys)};
        rt::RedisReply begun;
        bool failed = false;
        try {
            begun = co_await shard_.redis().eval(begin_script_, std::move(keys), std::move(args));
        } catch (const std::exception& e) {
            failed = true;
            rt::log::warn("idempotency", "Redis unavailable", {{"error", e.what()}});
        }
        if (failed || begun.type != rt::RedisReply::Type::String) {
            // Without the store the promise cannot be kept: refuse rather than risk a duplicate.
            co_return problem(req, rt::problems::kUnavailable,
                              "idempotency keys cannot be honoured right now",
                              {{"Retry-After", "1"}});
        }
        if (begun.str == "X") {
            co_return problem(req, rt::problems::kTooManyIdempotencyKeys,
                              "this caller holds " +
                                  std::to_string(settings_.idempotency_max_keys) +
                                  " idempotency keys; retry when some have expired",
                              {{"Retry-After", "60"}});
        }
        if (!begun.str.empty()) {
            const auto& v = begun.str;
            bool same = v.size() > 65 && v.compare(1, 64, fingerprint) == 0;
            if (!same) {
                co_return problem(req, rt::problems::kIdempotencyKeyReused,
                                  "this Idempotency-Key was used with another request");
            }
            if (v[0] == 'L') {
                co_return problem(req, rt::problems::kIdempotencyKeyInUse,
                                  "a request with this Idempotency-Key is still running",
                                  {{"Retry-After", "1"}});
            }
            auto stored = decodeAnswer(std::string_view(v).substr(65));
            if (!stored) {
                co_return problem(req, rt::problems::kInternal, "stored answer unreadable");
            }
            replays_->inc();
            rt::Response res(stored->status, std::move(stored->content_type),
                             std::move(stored->body));
            res.headers = std::move(stored->headers);
            res.headers.emplace_back("Idempotent-Replayed", "true");
            co_return res;
        }

        auto res = co_await forward(req, service, rule, claims);

        // Keep answers below 500 (a 4xx briefly, so a corrected retry need not wait); a 5xx, a
        // timeout or an answer marked no-store (a token) releases the key instead.
        std::string value;
        if (answerMayBeStored(res.status, res.headers)) {
            StoredAnswer a{res.status, res.content_type, res.headers, res.body};
            value = "D" + fingerprint + encodeAnswer(a);
        }
        auto ttl = res.status >= 400
                       ? std::min(settings_.idempotency_error_ttl, settings_.idempotency_ttl)
                       : settings_.idempotency_ttl;
        auto ttl_ms = std::to_string(ttl.count());
        std::vector<std::string> fkeys{redis_key, index_key};
        std::vector<std::string> fargs{lock, value, ttl_ms, std::to_string(unixMillis())};
        try {
            co_await shard_.redis().eval(finish_script_, std::move(fkeys), std::move(fargs));
        } catch (const std::exception& e) {
            rt::log::warn("idempotency",
                          "could not store the answer; the key stays locked until "
                          "its lock expires",
                          {{"error", e.what()}, {"request_id", req.request_id}});
        }
        co_return res;
    }

    // --- forwarding -----------------------------------------------------------------------

    struct BudgetGuard {
        RetryBudget& b;
        explicit BudgetGuard(RetryBudget& budget) : b(budget) { b.requestStarted(); }
        ~BudgetGuard() { b.requestFinished(); }
        BudgetGuard(const BudgetGuard&) = delete;
        BudgetGuard& operator=(const BudgetGuard&) = delete;
    };

    // `claims`: the verified caller, or null for an anonymous request.
    rt::Task<rt::Response> forward(rt::Request& req, const std::string& service,
                                   const RouteRule* rule, const rt::AccessClaims* claims) {
        auto& sp = *pools_.at(service);
        auto timeout = rule != nullptr && rule->timeout.count() > 0 ? rule->timeout
                                                                    : settings_.upstream_timeout;
        int max_retries =
            rule != nullptr && rule->max_retries >= 0 ? rule->max_retries : settings_.max_retries;
        auto now = Clock::now();  // one clock read serves the deadline and the first attempt
        auto deadline = now + timeout;

        rt::ClientRequest out;
        out.method = req.method;
        out.pipeline = rule != nullptr && rule->pipeline;
        out.target = std::string(req.target);
        out.body = std::string(req.body);
        out.headers.reserve(req.headers.size() + 8);
        auto connection = req.header("Connection");
        for (const auto& [k, v] : req.headers) {
            // A verified bearer token stays here: the signed identity says who is calling, as
            // Envoy's JWT filter removes the token it verified (forward: false).
            if (!isHopByHop(k) && !namedByConnection(k, connection) && !rt::isIdentityHeader(k) &&
                !rt::iequals(k, "X-Request-Id") && !rt::iequals(k, "X-Forwarded-For") &&
                !rt::iequals(k, "traceparent") && !rt::iequals(k, "tracestate") &&
                !(claims != nullptr && rt::iequals(k, "Authorization"))) {
                out.headers.emplace_back(std::string(k), std::string(v));
            }
        }
        out.headers.emplace_back("X-Request-Id", req.request_id);
        out.headers.emplace_back(
            "X-Forwarded-For",
            forwardedFor(req.remote_ip, req.header("X-Forwarded-For"), settings_.trusted_proxies));
        auto incoming_trace = req.header("traceparent");
        out.headers.emplace_back("traceparent", nextTraceparent(incoming_trace));
        if (validTraceparent(incoming_trace) && req.hasHeader("tracestate")) {
            out.headers.emplace_back("tracestate", std::string(req.header("tracestate")));
        }
        // Every forwarded request is signed, an anonymous one too (its user empty): the service
        // learns the client's address from it. Last in the list, so a retry can re-sign.
        static const std::vector<std::string> kNoRoles;
        const rt::SignedMessage message{req.method_name, req.target, req.request_id, req.body};
        auto sign = [&] {
            rt::appendSignedIdentity(
                out.headers, claims != nullptr ? std::string_view(claims->subject) : "",
                claims != nullptr ? claims->roles : kNoRoles,
                claims != nullptr ? std::string_view(claims->session_id) : "", req.client_ip,
                message, settings_.identity_secret, unixSeconds());
        };
        sign();
        const auto signed_headers = out.headers.size();

        BudgetGuard guard(sp.budget);
        std::vector<std::size_t> tried;
        bool holding_retry = false;
        int attempt = 0;
        bool idempotent = idempotentMethod(req.method);
        for (;;) {
            if (attempt > 0) {
                now = Clock::now();
                // A fresh signature for each retry: the first may be older than the services'
                // identity.max_age by now.
                out.headers.resize(signed_headers - 5);
                sign();
            }
            auto pick = sp.pool.pick(now, tried);
            if (!pick) {
                if (holding_retry) {
                    sp.budget.retryFinished();
                }
                co_return problem(req, rt::problems::kUnavailable,
                                  "every instance of the " + service + " service is at capacity",
                                  {{"Retry-After", "1"}});
            }
            auto i = *pick;
            tried.push_back(i);
            const auto& up = sp.pool.host(i).address;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
            if (left.count() <= 0) {
                if (holding_retry) {
                    sp.budget.retryFinished();
                }
                co_return problem(req, rt::problems::kGatewayTimeout,
                                  "the " + service + " service did not answer in time");
            }
            out.host = up.host;
            out.port = up.port;
            out.timeout = left;
            sp.pool.started(i);
            std::optional<rt::ClientResponse> res;
            std::optional<rt::HttpClientError::Kind> kind;
            std::string error;
            auto sent = now;
            try {
                res = co_await shard_.http().request(out);
            } catch (const rt::HttpClientError& e) {
                kind = e.kind();
                error = e.what();
            } catch (const std::exception& e) {
                kind = rt::HttpClientError::Kind::Protocol;
                error = e.what();
            }
            auto done = Clock::now();
            if (holding_retry) {
                sp.budget.retryFinished();
                holding_retry = false;
            }
            auto& um = sp.metrics[i];
            um.duration->observe(std::chrono::duration<double>(done - sent).count());
            Outcome outcome = Outcome::Success;
            if (kind == rt::HttpClientError::Kind::Connect) {
                outcome = Outcome::ConnectFailure;
                um.connect_failure->inc();
            } else if (kind || res->status >= 500) {
                outcome = Outcome::Failure;
                um.failure->inc();
            } else {
                um.ok->inc();
            }
            bool was_ejected = sp.pool.host(i).ejected(done);
            sp.pool.finished(i, outcome, done);
            if (!was_ejected && sp.pool.host(i).ejected(done)) {
                sp.ejections->inc();
                rt::log::warn("balancer", "instance ejected",
                              {{"service", service},
                               {"upstream", up.text()},
                               {"times", sp.pool.host(i).times_ejected}});
            }
            if (kind) {
                rt::log::warn("proxy", "upstream failed",
                              {{"request_id", req.request_id},
                               {"service", service},
                               {"upstream", up.text()},
                               {"error", error}});
            }

            // Nothing was sent after a connect failure: any method may go elsewhere. A reset or a
            // gateway-error answer may have had effects: only idempotent methods are retried.
            bool reset = kind == rt::HttpClientError::Kind::Closed ||
                         kind == rt::HttpClientError::Kind::Protocol;
            bool gateway_error =
                res && (res->status == 502 || res->status == 503 || res->status == 504);
            // A try that ended in a connect failure sent nothing, so sending the request to
            // another instance adds no load: it goes again outside the budget, as Finagle's
            // requeues do, so that the requests caught by an instance's death all find another
            // (still within max_retries and the deadline). Other retries take a place in the
            // budget. (A pipelined GET whose batch died is sent again by the client on a fresh
            // connection first; when that connect fails, it is requeued here.)
            bool requeue = kind == rt::HttpClientError::Kind::Connect;
            bool retryable = requeue || (idempotent && (reset || gateway_error));
            if (retryable && attempt < max_retries && done < deadline &&
                (requeue || sp.budget.tryRetry())) {
                holding_retry = !requeue;
                ++attempt;
                sp.retries->inc();
                continue;
            }
            if (res) {
                co_return toResponse(std::move(*res));
            }
            if (kind == rt::HttpClientError::Kind::Timeout) {
                co_return problem(req, rt::problems::kGatewayTimeout,
                                  "the " + service + " service did not answer in time");
            }
            if (kind == rt::HttpClientError::Kind::Connect) {
                co_return problem(req, rt::problems::kUnavailable,
                                  "no instance of the " + service + " service is reachable",
                                  {{"Retry-After", "1"}});
            }
            co_return problem(req, rt::problems::kBadGateway,
                              "the " + service +
                                  " service closed the connection without an "
                                  "answer");
        }
    }

    static rt::Response toResponse(rt::ClientResponse res) {
        rt::Response r;
        r.status = res.status;
        r.content_type = std::string(res.header("Content-Type"));
        for (auto& [k, v] : res.headers) {
            if (!isHopByHop(k) && !rt::iequals(k, "Content-Type") &&
                !rt::iequals(k, "X-Request-Id")) {
                r.headers.emplace_back(std::move(k), std::move(v));
            }
        }
        r.body = std::move(res.body);
        return r;
    }

    // --- health ---------------------------------------------------------------------------

    /// "" when `up` answers 200 on /readyz in time, else what went wrong.
    rt::Task<std::string> probe(Upstream up) {
        rt::ClientRequest r;
        r.host = up.host;
        r.port = up.port;
        r.target = "/readyz";
        r.timeout = settings_.health_timeout;
        std::string error;
        try {
            auto res = co_await shard_.http().request(r);
            if (res.status != 200) {
                error = "answered " + std::to_string(res.status);
            }
        } catch (const std::exception& e) {
            error = e.what();
        }
        co_return error;
    }

    rt::Task<void> checkOne(std::string service, std::size_t i) {
        auto& sp = *pools_.at(service);
        auto up = sp.pool.host(i).address;
        auto error = co_await probe(up);
        if (stopped_) {
            co_return;
        }
        bool was_healthy = sp.pool.host(i).healthy;
        sp.pool.healthChecked(i, error.empty(), Clock::now());
        bool healthy = sp.pool.host(i).healthy;
        if (was_healthy != healthy && shard_.index() == 0) {
            rt::log::warn("health", healthy ? "instance healthy again" : "instance unhealthy",
                          {{"service", service}, {"upstream", up.text()}, {"error", error}});
        }
    }

    rt::Task<void> healthLoop() {
        while (!stopped_) {
            for (const auto& [name, sp] : pools_) {
                for (std::size_t i = 0; i < sp->pool.size(); ++i) {
                    net::co_spawn(shard_.io(), checkOne(name, i), net::detached);
                }
            }
            health_timer_.expires_after(settings_.health_interval);
            boost::system::error_code ec;
            co_await health_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                co_return;
            }
        }
    }

    rt::Shard& shard_;
    const Settings& settings_;
    Shared& shared_;
    std::map<std::string, std::unique_ptr<ServicePool>, std::less<>> pools_;
    TokenCache token_cache_;
    LocalLimiter local_;
    // Checks of uncached tokens per client address (this thread's share of the budget).
    LocalLimiter token_checks_;
    RatePolicy token_check_policy_;
    std::int64_t token_check_share_ = 1;
    LeaseBook leases_;
    // Requests waiting for a lease ask in flight, by lease key (see waitForLease).
    std::unordered_map<std::string, LeaseWait> lease_waits_;
    std::unique_ptr<rt::Redis> redis_;
    Clock::time_point redis_down_until_{};
    int threads_ = 1;
    bool stopped_ = false;
    net::steady_timer health_timer_;
    net::steady_timer jwks_timer_;
    rt::RedisScript limiter_script_;
    rt::RedisScript bucket_script_;
    rt::RedisScript begin_script_;
    rt::RedisScript finish_script_;
    rt::Counter* limited_ = nullptr;
    rt::Counter* fallback_ = nullptr;
    rt::Counter* replays_ = nullptr;
    rt::Counter* token_failures_ = nullptr;
};

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "gateway";
    s.default_admin_port = 9080;  // /metrics here, not on the public port
    s.edge = true;                // strips client identity headers; never trusts them
    s.uses_redis = true;          // rate limits and idempotency keys
    s.configure = [](rt::Config& config) -> rt::WireFn {
        auto settings = std::make_shared<Settings>(readSettings(config));
        auto shared = std::make_shared<Shared>(*settings);
        return [settings, shared](rt::Shard& shard) {
            auto& gw = shard.keep(std::make_unique<Gateway>(shard, *settings, *shared));
            // The settings and the shared state live as long as the longest-lived shard.
            shard.keep(std::make_unique<std::shared_ptr<Settings>>(settings));
            shard.keep(std::make_unique<std::shared_ptr<Shared>>(shared));
            // Every method of a prefix goes to its service. Access none: the gateway checks tokens
            // and limits itself, and each service enforces its own routes' rules.
            auto forwardAll = [&shard, &gw](const std::string& prefix, const std::string& service) {
                auto pattern = prefix + "/{rest...}";
                for (auto m : {rt::Method::Get, rt::Method::Head, rt::Method::Post, rt::Method::Put,
                               rt::Method::Patch, rt::Method::Delete, rt::Method::Options}) {
                    shard.router().add(
                        m, pattern, rt::Access::none(),
                        [&gw, service](rt::Request& req) { return gw.handle(req, service); });
                }
            };
            for (const auto& route : publicRoutes()) {
                forwardAll(std::string(route.prefix), std::string(route.service));
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
            for (const auto& service : forwardedServices(settings->routes)) {
                shard.addReadinessCheck(service, [&gw, service] { return gw.ready(service); });
            }
            gw.start();
        };
    };
    return s;
}

}  // namespace restinu::gateway
