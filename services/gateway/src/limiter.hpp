#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
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
/// ms, optionally a count (default 1) and a number of unused tokens to put back first. Refills,
/// takes up to `count` whole tokens, and returns {tokens taken, tokens thousandths left}.
std::string_view tokenBucketScript();

/// `RateLimit-Policy: "name";q=100;w=60` and `RateLimit: "name";r=42;t=17`
/// (draft-ietf-httpapi-ratelimit-headers).
std::string rateLimitPolicyHeader(const RatePolicy& p);
std::string rateLimitHeader(const RatePolicy& p, const RateDecision& d);

/// The Lua script: KEYS[1] a hash of sub-window counters; ARGV limit, sub-window length in ms,
/// sub-windows per window, now in ms, optionally a count of permits (default 1), and optionally
/// a sub-window index and a number of unused permits to take off its counter first (never below
/// zero, and only while it is in the window). Admits as many of them as fit and returns {admitted,
/// count..} with the `buckets + 1` counters oldest first (the current one counting what it
/// admitted). The hash expires one window after its last write and drops counters that left the
/// window.
std::string_view slidingWindowScript();

/// Permits taken from Redis ahead of use, so that a busy caller costs one Redis call per lease
/// instead of one per request (ADR 0005). Redis counts a lease's permits when it grants them, so
/// leases never let more through than the limit; permits a lease did not use before it expired
/// are given back with the caller's next ask (until then the caller may be refused a little
/// early, never late). A caller starts with single permits
/// (exact, as without leases); one that comes back for more within a lease's lifetime gets twice
/// the last, up to maxLease(), and one that comes back later gets half. Concurrent misses while
/// a lease is being fetched ask for one permit each, so a burst of them never takes a quota it
/// cannot use (the gateway makes them wait for the ask in flight first, see asking()). One per
/// loop thread, bounded like LocalLimiter.
class LeaseBook {
public:
    using Clock = std::chrono::steady_clock;
    explicit LeaseBook(std::size_t max_keys = 100'000) : max_keys_(max_keys) {}

    /// The largest lease: a fiftieth of the limit (of the burst for a token bucket), at most
    /// 1,000, at least 1. Below a limit of 100 leases are single permits and limiting is exact.
    static std::int64_t maxLease(const RatePolicy& p);
    /// How long a lease lasts: a sub-window at most, and 200 ms.
    static Clock::duration lifetime(const RatePolicy& p);

    /// A permit from the caller's lease, with the numbers for its headers; nullopt if it holds
    /// none (then ask Redis for want() and report with granted()).
    std::optional<RateDecision> take(const std::string& key, Clock::time_point now);
    /// What to send Redis: permits to ask for, and unused permits of an expired lease to give
    /// back to the sub-window `give_back_bucket` that counted them (a token bucket takes them as
    /// tokens).
    struct Ask {
        std::int64_t permits = 1;
        std::int64_t give_back = 0;
        std::int64_t give_back_bucket = 0;
    };
    /// The ask to send now; counts it as in flight until granted() or failed(). `queued`:
    /// requests of this caller waiting for permits besides the asking one; the ask covers them
    /// too (up to maxLease()).
    Ask want(const RatePolicy& p, const std::string& key, Clock::time_point now,
             std::int64_t queued = 0);
    /// Redis admitted `admitted` permits (the first for the asking request), counted in
    /// sub-window `bucket` (now_ms / bucketMs()), and `redis` is what it said for the window
    /// after them. Returns the asking request's decision, its remaining counting the permits the
    /// lease still holds.
    RateDecision granted(const RatePolicy& p, const std::string& key, std::int64_t admitted,
                         RateDecision redis, Clock::time_point now, std::int64_t bucket = 0);
    /// The ask failed (Redis down): forget it.
    void failed(const std::string& key);
    /// True while an ask for `key` is in flight: a request that finds no permit then waits for
    /// that ask's answer rather than sending its own (one round trip serves a burst).
    bool asking(const std::string& key) const;
    std::size_t size() const { return leases_.size(); }

private:
    struct Lease {
        std::int64_t left = 0;       // permits not yet used
        std::int64_t remaining = 0;  // Redis's remaining when granted
        std::int64_t reset_s = 0;
        Clock::time_point expires{};
        Clock::time_point granted_at{};
        std::int64_t next = 1;  // the next ask
        int in_flight = 0;
        std::int64_t bucket = 0;            // the sub-window that counted the last grant
        std::int64_t give_back = 0;         // unused permits of an expired lease
        std::int64_t give_back_bucket = 0;  // and the sub-window that counted them
    };
    std::size_t max_keys_;
    std::unordered_map<std::string, Lease> leases_;
};

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
