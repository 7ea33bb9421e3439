#include "limiter.hpp"

#include <algorithm>
#include <numeric>

namespace restinu::gateway {

RateDecision windowDecision(const RatePolicy& p, std::int64_t limit, bool allowed,
                            const std::vector<std::int64_t>& counts, std::int64_t now_ms) {
    auto bms = p.bucketMs();
    auto to_bucket_end = (now_ms / bms + 1) * bms - now_ms;
    auto sum = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
    RateDecision d;
    d.allowed = allowed;
    d.remaining = std::max<std::int64_t>(0, limit - sum);
    // Counters leave the window oldest first, one at each sub-window boundary. Quota grows
    // when the oldest non-empty one leaves; a refused request fits once enough have left.
    auto need = d.remaining > 0 ? 1 : sum + 1 - limit;
    std::int64_t freed = 0;
    std::int64_t wait_ms = p.window.count() * 1000;
    for (std::size_t j = 0; j < counts.size(); ++j) {
        freed += counts[j];
        if (freed >= need && freed > 0) {
            wait_ms = to_bucket_end + static_cast<std::int64_t>(j) * bms;
            break;
        }
    }
    d.reset_s = std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
    return d;
}

RateDecision bucketDecision(const RatePolicy& p, std::int64_t limit, bool allowed,
                            std::int64_t tokens_milli) {
    RateDecision d;
    d.allowed = allowed;
    d.remaining = tokens_milli / 1000;
    // Milliseconds per token: window / limit. With a token left, t is when the bucket is full
    // again; without, when the next token arrives (Retry-After).
    auto window_ms = p.window.count() * 1000;
    auto missing_milli = d.remaining > 0 ? p.burst * 1000 - tokens_milli : 1000 - tokens_milli;
    auto wait_ms = limit > 0 ? (missing_milli * window_ms + limit * 1000 - 1) / (limit * 1000) : 0;
    d.reset_s = std::max<std::int64_t>(d.remaining > 0 ? 0 : 1, (wait_ms + 999) / 1000);
    return d;
}

std::string_view tokenBucketScript() {
    return R"lua(
local cap = tonumber(ARGV[1]) * 1000
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1] or cap)
local ts = tonumber(v[2] or now)
if now > ts then
  tokens = math.min(cap, tokens + math.floor((now - ts) * limit * 1000 / window))
end
local allowed = 0
if tokens >= 1000 then
  allowed = 1
  tokens = tokens - 1000
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', math.max(now, ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * window / (limit * 1000)) + 1000)
return {allowed, tokens}
)lua";
}

std::string rateLimitPolicyHeader(const RatePolicy& p) {
    return '"' + p.name + "\";q=" + std::to_string(p.limit) +
           ";w=" + std::to_string(p.window.count());
}

std::string rateLimitHeader(const RatePolicy& p, const RateDecision& d) {
    return '"' + p.name + "\";r=" + std::to_string(d.remaining) + ";t=" + std::to_string(d.reset_s);
}

std::string_view slidingWindowScript() {
    return R"lua(
local limit = tonumber(ARGV[1])
local bucket_ms = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local cur = math.floor(tonumber(ARGV[4]) / bucket_ms)
local fields = {}
for i = n, 0, -1 do
  fields[#fields + 1] = tostring(cur - i)
end
local values = redis.call('HMGET', KEYS[1], unpack(fields))
local counts = {}
local sum = 0
for i = 1, #values do
  counts[i] = tonumber(values[i] or '0')
  sum = sum + counts[i]
end
local allowed = 0
if sum + 1 <= limit then
  allowed = 1
  counts[#counts] = redis.call('HINCRBY', KEYS[1], fields[#fields], 1)
  -- Once per sub-window (its first request): expire the hash when every counter in it has left
  -- the window, and drop the counters that already have.
  if counts[#counts] == 1 then
    redis.call('PEXPIRE', KEYS[1], (n + 1) * bucket_ms)
    if redis.call('HLEN', KEYS[1]) > n + 1 then
      for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
        if tonumber(f) < cur - n then
          redis.call('HDEL', KEYS[1], f)
        end
      end
    end
  end
end
local out = {allowed}
for i = 1, #counts do
  out[#out + 1] = counts[i]
end
return out
)lua";
}

RateDecision LocalLimiter::checkBucket(const RatePolicy& p, std::int64_t limit,
                                       const std::string& key, std::int64_t now_ms) {
    auto& c = counters_[key];
    auto cap = p.burst * 1000;
    auto window_ms = p.window.count() * 1000;
    if (c.tokens_milli < 0) {
        c.tokens_milli = cap;
        c.tokens_ts = now_ms;
    }
    if (now_ms > c.tokens_ts && limit > 0) {
        c.tokens_milli =
            std::min(cap, c.tokens_milli + (now_ms - c.tokens_ts) * limit * 1000 / window_ms);
    }
    c.tokens_ts = std::max(c.tokens_ts, now_ms);
    c.last_bucket = now_ms / p.bucketMs();
    bool ok = c.tokens_milli >= 1000;
    if (ok) {
        c.tokens_milli -= 1000;
    }
    return bucketDecision(p, limit, ok, c.tokens_milli);
}

RateDecision LocalLimiter::check(const RatePolicy& p, std::int64_t limit, const std::string& key,
                                 std::int64_t now_ms) {
    auto bms = p.bucketMs();
    auto cur = now_ms / bms;
    auto n = static_cast<std::int64_t>(p.buckets);
    if (counters_.size() >= max_keys_ && counters_.find(key) == counters_.end()) {
        std::erase_if(counters_, [&](const auto& kv) { return kv.second.last_bucket < cur - n; });
        if (counters_.size() >= max_keys_) {
            counters_.clear();
        }
    }
    if (p.burst > 0) {
        return checkBucket(p, limit, key, now_ms);
    }
    auto& c = counters_[key];
    std::erase_if(c.buckets, [&](const auto& b) { return b.first < cur - n; });
    std::vector<std::int64_t> counts(static_cast<std::size_t>(n + 1), 0);
    for (const auto& [index, count] : c.buckets) {
        // (a wall clock that stepped back counts old sub-windows as the current one)
        counts[static_cast<std::size_t>(std::min(index, cur) - (cur - n))] += count;
    }
    auto sum = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
    bool ok = sum + 1 <= limit;
    if (ok) {
        if (c.buckets.empty() || c.buckets.back().first != cur) {
            c.buckets.emplace_back(cur, 0);
        }
        ++c.buckets.back().second;
        ++counts.back();
        c.last_bucket = cur;
    }
    return windowDecision(p, limit, ok, counts, now_ms);
}

}  // namespace restinu::gateway
