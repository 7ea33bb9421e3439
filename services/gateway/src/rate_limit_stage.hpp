#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "limiter.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/redis.hpp"
#include "restinu/rt/task.hpp"
#include "settings.hpp"

namespace restinu::rt {
class Shard;
class Counter;
}  // namespace restinu::rt

/// Stage 2 of the gateway: rate limits (ADR 0005). Each (policy, caller) is counted in Redis
/// (sliding window or token bucket); a caller's loop thread leases a few permits at a time, so
/// most requests are decided without a round trip. While Redis is down or slow, each loop
/// thread limits its own share in process.
namespace restinu::gateway {

class RateLimitStage {
public:
    RateLimitStage(rt::Shard& shard, const Settings& settings);

    /// A permit from the caller's lease, without suspending; nullopt when it holds none.
    std::optional<RateDecision> fromLease(const std::string& lease_key);

    /// A check for a caller whose lease holds no permit; `lease_key` is "<policy>:<caller>".
    rt::Task<RateDecision> check(const RatePolicy& policy, const std::string& lease_key);

    /// Adds the RateLimit headers of `d` to `headers`; the 429 problem when `d` refuses.
    std::optional<rt::Problem> verdict(const RatePolicy& policy, const RateDecision& d,
                                       std::vector<std::pair<std::string, std::string>>& headers);

private:
    // Requests of one caller waiting for the lease ask in flight (see check). `waiting`
    // counts them until each has resumed, so the next ask can cover those not yet served.
    struct LeaseWait {
        std::shared_ptr<boost::asio::steady_timer> timer;  // cancelled (and dropped) when answered
        std::int64_t waiting = 0;
    };

    void leaseAnswered(const std::string& key);
    rt::Task<void> waitForLease(const std::string& key);
    std::int64_t leaseWaiters(const std::string& key) const;
    rt::Task<std::optional<RateDecision>> askRedis(const RatePolicy& policy,
                                                   const std::string& lease_key);
    RateDecision decideLocally(const RatePolicy& policy, const std::string& lease_key);

    rt::Shard& shard_;
    const Settings& settings_;
    LocalLimiter local_;
    LeaseBook leases_;
    std::unordered_map<std::string, LeaseWait> lease_waits_;
    std::unique_ptr<rt::Redis> redis_;
    rt::RedisScript window_script_;
    rt::RedisScript bucket_script_;
    LeaseBook::Clock::time_point redis_down_until_{};
    int threads_ = 1;
    rt::Counter* limited_ = nullptr;
    rt::Counter* fallback_ = nullptr;
};

}  // namespace restinu::gateway
