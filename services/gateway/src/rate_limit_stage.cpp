#include "rate_limit_stage.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/service.hpp"

namespace restinu::gateway {

namespace net = boost::asio;
using Clock = LeaseBook::Clock;

RateLimitStage::RateLimitStage(rt::Shard& shard, const Settings& settings)
    : shard_(shard),
      settings_(settings),
      window_script_(std::string(slidingWindowScript())),
      bucket_script_(std::string(tokenBucketScript())) {
    auto& m = shard.metrics();
    limited_ =
        &m.counter("restinu_gateway_rate_limited_total", "Requests refused with 429", {"policy"})
             .labels({"all"});
    fallback_ = &m.counter("restinu_gateway_limiter_local_total",
                           "Rate-limit checks decided in process because Redis was unavailable", {})
                     .labels({});
    rt::RedisOptions ro;
    ro.host = shard.settings().redis_host;
    ro.port = shard.settings().redis_port;
    ro.name = "gateway-limiter";
    ro.connect_timeout = settings.redis_timeout;
    ro.command_timeout = settings.redis_timeout;
    redis_ = std::make_unique<rt::Redis>(shard.io(), ro, &m);
    threads_ = std::max(1, shard.settings().threads);
}

std::optional<RateDecision> RateLimitStage::fromLease(const std::string& lease_key) {
    auto now = Clock::now();
    if (now < redis_down_until_) {
        return std::nullopt;
    }
    return leases_.take(lease_key, now);
}

std::optional<rt::Problem> RateLimitStage::verdict(
    const RatePolicy& policy, const RateDecision& d,
    std::vector<std::pair<std::string, std::string>>& headers) {
    headers.emplace_back("RateLimit-Policy", rateLimitPolicyHeader(policy));
    headers.emplace_back("RateLimit", rateLimitHeader(policy, d));
    if (d.allowed) {
        return std::nullopt;
    }
    limited_->inc();
    auto after = std::to_string(d.reset_s);
    headers.emplace_back("Retry-After", after);
    return rt::Problem{
        rt::problems::kRateLimited,
        "the rate limit of policy \"" + policy.name + "\" is exhausted; retry after " + after + "s",
        {},
        {}};
}

// Wakes the requests waiting for the lease ask on `key` (it was answered or failed).
void RateLimitStage::leaseAnswered(const std::string& key) {
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
rt::Task<void> RateLimitStage::waitForLease(const std::string& key) {
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

std::int64_t RateLimitStage::leaseWaiters(const std::string& key) const {
    auto it = lease_waits_.find(key);
    return it == lease_waits_.end() ? 0 : it->second.waiting;
}

rt::Task<RateDecision> RateLimitStage::check(const RatePolicy& policy,
                                             const std::string& lease_key) {
    // A burst from one caller shares round trips: while an ask is in flight the others wait
    // for its permits; the first of them to find none asks next, for all who wait (so a
    // cold burst of hundreds costs a few round trips, not one each).
    // (The caller has found no permit in the lease already.)
    for (int round = 0; round < 4 && Clock::now() >= redis_down_until_ && leases_.asking(lease_key);
         ++round) {
        co_await waitForLease(lease_key);
        if (auto d = leases_.take(lease_key, Clock::now())) {
            co_return *d;
        }
    }
    if (Clock::now() >= redis_down_until_) {
        auto asked = co_await askRedis(policy, lease_key);
        if (asked) {
            co_return *asked;
        }
    }
    co_return decideLocally(policy, lease_key);
}

// One script call for the caller's permits; nullopt (and Redis left alone for a while) when it
// fails or answers something unexpected.
rt::Task<std::optional<RateDecision>> RateLimitStage::askRedis(const RatePolicy& policy,
                                                               const std::string& lease_key) {
    bool bucket = policy.burst > 0;
    auto now_ms = rt::unixMillis();
    auto ask = leases_.want(policy, lease_key, Clock::now(), leaseWaiters(lease_key));
    auto window_ms = static_cast<std::int64_t>(policy.window.count()) * 1000;
    std::vector<std::string> keys{(bucket ? "tb:{" : "rl:{") + lease_key + "}"};
    std::vector<std::string> args =
        bucket
            ? std::vector<std::string>{std::to_string(policy.burst), std::to_string(policy.limit),
                                       std::to_string(window_ms), std::to_string(now_ms)}
            : std::vector<std::string>{std::to_string(policy.limit),
                                       std::to_string(policy.bucketMs()),
                                       std::to_string(policy.buckets), std::to_string(now_ms)};
    args.push_back(std::to_string(ask.permits));
    if (ask.give_back > 0) {
        if (!bucket) {
            args.push_back(std::to_string(ask.give_back_bucket));
        }
        args.push_back(std::to_string(ask.give_back));
    }
    const auto& script = bucket ? bucket_script_ : window_script_;
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
        decided =
            leases_.granted(policy, lease_key, admitted,
                            windowDecision(policy, policy.limit, admitted > 0, counts, now_ms),
                            Clock::now(), now_ms / policy.bucketMs());
    }
    if (!decided) {
        leases_.failed(lease_key);
        if (!failed) {
            error = "unexpected reply: " + reply.str;
        }
        // Redis is down or slow: decide locally, and leave Redis alone for a while.
        redis_down_until_ = Clock::now() + settings_.redis_retry_after;
        rt::log::warn("limiter", "Redis unavailable; limiting in process",
                      {{"error", error}, {"retry_in_ms", settings_.redis_retry_after.count()}});
    }
    leaseAnswered(lease_key);
    co_return decided;
}

RateDecision RateLimitStage::decideLocally(const RatePolicy& policy, const std::string& lease_key) {
    fallback_->inc();
    // Each loop thread counts its own share of the limit.
    auto share = (policy.limit + threads_ - 1) / threads_;
    auto local_policy = policy;
    local_policy.burst = (policy.burst + threads_ - 1) / threads_;
    return local_.check(local_policy, share, lease_key, rt::unixMillis());
}

}  // namespace restinu::gateway
