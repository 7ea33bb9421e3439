#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

/// Rate limiting by a sliding window of sub-window counters (ADR 0005). A window of `window`
/// length is cut into `buckets` sub-windows; each has a counter. A request at time t is admitted
/// when the counters of the sub-window holding t and of the `buckets` before it (the oldest of
/// which the sliding window (t − window, t] only partly covers) sum to less than the limit.
/// Counting that oldest sub-window in full makes the check conservative: no sliding window of
/// length `window` ever holds more than `limit` admitted requests; the price is that up to one
/// sub-window's worth of requests counts a little longer than it must (at most window/buckets).
/// Redis holds the counters (one Lua script checks and counts atomically); LocalLimiter does the
/// same in process when Redis is unavailable.
namespace restinu::gateway {

struct RatePolicy {
    std::string name;
    std::int64_t limit = 0;           ///< requests per window (q)
    std::chrono::seconds window{60};  ///< w
    int buckets = 10;                 ///< sub-windows per window
    /// When set, a token bucket instead: `burst` tokens at most, refilled at limit per window
    /// (so bursts up to `burst`, and `limit` per window in the long run).
    std::int64_t burst = 0;
    bool enabled() const { return limit > 0; }
    std::int64_t bucketMs() const { return window.count() * 1000 / buckets; }
};

/// What one check decided, with the numbers for the RateLimit headers.
struct RateDecision {
    bool allowed = true;
    std::int64_t remaining = 0;  ///< requests left in the window now (r)
    std::int64_t reset_s = 0;    ///< seconds until quota frees up (t); on a denial, Retry-After
};

/// The decision given the counters of the `buckets + 1` sub-windows that the window touches,
/// oldest first, the current last (already counting this request when it was admitted).
RateDecision windowDecision(const RatePolicy& p, std::int64_t limit, bool allowed,
                            const std::vector<std::int64_t>& counts, std::int64_t now_ms);

/// A token bucket's decision: `tokens_milli` thousandths of a token left after this request
/// (which took one when admitted).
RateDecision bucketDecision(const RatePolicy& p, std::int64_t limit, bool allowed,
                            std::int64_t tokens_milli);

/// Lua: KEYS[1] a hash {tokens (thousandths), ts (ms)}; ARGV capacity, limit, window ms, now
/// ms. Refills, takes a token if there is one, and returns {allowed 0/1, tokens thousandths}.
std::string_view tokenBucketScript();

/// `RateLimit-Policy: "name";q=100;w=60` and `RateLimit: "name";r=42;t=17`
/// (draft-ietf-httpapi-ratelimit-headers).
std::string rateLimitPolicyHeader(const RatePolicy& p);
std::string rateLimitHeader(const RatePolicy& p, const RateDecision& d);

/// The Lua script: KEYS[1] a hash of sub-window counters; ARGV limit, sub-window length in ms,
/// sub-windows per window, now in ms. Returns {allowed 0/1, count..} with the `buckets + 1`
/// counters oldest first (the current one counting this request when admitted). The hash
/// expires one window after its last write and drops counters that left the window.
std::string_view slidingWindowScript();

/// The in-process fallback: the same algorithm on one loop thread's own counters. Bounded:
/// beyond `max_keys` partitions, stale ones are dropped (and if none is stale, all are).
class LocalLimiter {
public:
    explicit LocalLimiter(std::size_t max_keys = 100'000) : max_keys_(max_keys) {}

    /// `limit` may differ from the policy's (each loop thread takes its share of it).
    RateDecision check(const RatePolicy& p, std::int64_t limit, const std::string& key,
                       std::int64_t now_ms);
    std::size_t size() const { return counters_.size(); }

private:
    RateDecision checkBucket(const RatePolicy& p, std::int64_t limit, const std::string& key,
                             std::int64_t now_ms);

    struct Counters {
        std::int64_t last_bucket = 0;
        std::vector<std::pair<std::int64_t, std::int64_t>> buckets;  // (index, count)
        std::int64_t tokens_milli = -1;                              // token bucket; -1: full
        std::int64_t tokens_ts = 0;
    };
    std::size_t max_keys_;
    std::unordered_map<std::string, Counters> counters_;
};

}  // namespace restinu::gateway
