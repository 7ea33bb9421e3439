#include "limiter.hpp"

#include <algorithm>
#include <charconv>
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
local want = tonumber(ARGV[5] or '1')
local back = tonumber(ARGV[6] or '0')
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1] or cap)
local ts = tonumber(v[2] or now)
if now > ts then
  tokens = math.min(cap, tokens + math.floor((now - ts) * limit * 1000 / window))
end
-- Tokens an expired lease did not use go back into the bucket.
tokens = math.min(cap, tokens + back * 1000)
local taken = math.min(want, math.floor(tokens / 1000))
tokens = tokens - taken * 1000
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', math.max(now, ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * window / (limit * 1000)) + 1000)
return {taken, tokens}
)lua";
}

namespace {

// `"name";a=x;b=y`: both RateLimit fields have this shape.
std::string quotedNameAndTwo(const std::string& name, std::string_view a, std::int64_t x,
                             std::string_view b, std::int64_t y) {
    char nx[24];
    char ny[24];
    auto ex = std::to_chars(nx, nx + sizeof nx, x).ptr;
    auto ey = std::to_chars(ny, ny + sizeof ny, y).ptr;
    std::string out;
    out.reserve(name.size() + 12 + static_cast<std::size_t>((ex - nx) + (ey - ny)));
    out += '"';
    out += name;
    out += "\";";
    out += a;
    out += '=';
    out.append(nx, ex);
    out += ';';
    out += b;
    out += '=';
    out.append(ny, ey);
    return out;
}

}  // namespace

std::string rateLimitPolicyHeader(const RatePolicy& p) {
    return quotedNameAndTwo(p.name, "q", p.limit, "w", p.window.count());
}

std::string rateLimitHeader(const RatePolicy& p, const RateDecision& d) {
    return quotedNameAndTwo(p.name, "r", d.remaining, "t", d.reset_s);
}

std::string_view slidingWindowScript() {
    return R"lua(
local limit = tonumber(ARGV[1])
local bucket_ms = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local cur = math.floor(tonumber(ARGV[4]) / bucket_ms)
local want = tonumber(ARGV[5] or '1')
-- Permits an expired lease did not use: taken off the sub-window that counted them, if that
-- one is still in the window (and never below zero).
local back = tonumber(ARGV[7] or '0')
if back > 0 and tonumber(ARGV[6]) >= cur - n then
  local had = tonumber(redis.call('HGET', KEYS[1], ARGV[6]) or '0')
  back = math.min(back, had)
  if back > 0 then
    redis.call('HINCRBY', KEYS[1], ARGV[6], -back)
  end
end
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
local admitted = math.max(0, math.min(want, limit - sum))
if admitted > 0 then
  counts[#counts] = redis.call('HINCRBY', KEYS[1], fields[#fields], admitted)
  -- Once per sub-window (its first admission): expire the hash when every counter in it has
  -- left the window, and drop the counters that already have.
  if counts[#counts] == admitted then
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
local out = {admitted}
for i = 1, #counts do
  out[#out + 1] = counts[i]
end
return out
)lua";
}

std::int64_t LeaseBook::maxLease(const RatePolicy& p) {
    auto base = p.burst > 0 ? p.burst : p.limit;
    return std::clamp<std::int64_t>(base / 50, 1, 1000);
}

LeaseBook::Clock::duration LeaseBook::lifetime(const RatePolicy& p) {
    return std::min<Clock::duration>(std::chrono::milliseconds(p.bucketMs()),
                                     std::chrono::milliseconds(200));
}

std::optional<RateDecision> LeaseBook::take(const std::string& key, Clock::time_point now) {
    auto it = leases_.find(key);
    if (it == leases_.end()) {
        return std::nullopt;
    }
    auto& l = it->second;
    if (l.left > 0 && now >= l.expires) {
        // Expired unused: the permits go back with the next ask, and the next lease is smaller.
        l.give_back += l.left;
        l.give_back_bucket = l.bucket;
        l.left = 0;
        l.next = std::max<std::int64_t>(1, l.next / 2);
    }
    if (l.left == 0) {
        return std::nullopt;
    }
    --l.left;
    return RateDecision{true, l.remaining + l.left, l.reset_s};
}

LeaseBook::Ask LeaseBook::want(const RatePolicy& p, const std::string& key, Clock::time_point now,
                               std::int64_t queued) {
    auto it = leases_.find(key);
    if (it == leases_.end()) {
        if (leases_.size() >= max_keys_) {
            std::erase_if(leases_, [&](const auto& kv) {
                return kv.second.in_flight == 0 && kv.second.expires < now;
            });
            if (leases_.size() >= max_keys_) {
                return Ask{1, 0, 0};  // no room to remember a lease: ask for this request alone
            }
        }
        it = leases_.emplace(key, Lease{}).first;
    }
    auto& l = it->second;
    ++l.in_flight;
    if (l.in_flight > 1) {
        return Ask{1, 0, 0};
    }
    Ask ask{std::min(std::max(l.next, queued + 1), maxLease(p)), l.give_back, l.give_back_bucket};
    l.give_back = 0;  // handed to this ask (lost with it if Redis is down: it only refuses early)
    return ask;
}

RateDecision LeaseBook::granted(const RatePolicy& p, const std::string& key, std::int64_t admitted,
                                RateDecision redis, Clock::time_point now, std::int64_t bucket) {
    auto it = leases_.find(key);
    if (it == leases_.end()) {
        return redis;  // (not remembered: the book was full)
    }
    auto& l = it->second;
    l.in_flight = std::max(0, l.in_flight - 1);
    if (admitted <= 0) {  // refused: no lease until the caller is admitted again
        l.left = 0;
        l.next = 1;
        return redis;
    }
    // Back within a lease's lifetime: busy, so lease more next time; else less.
    bool busy = now - l.granted_at < lifetime(p);
    l.next = busy ? std::min(l.next * 2, maxLease(p)) : std::max<std::int64_t>(1, l.next / 2);
    l.granted_at = now;
    l.bucket = bucket;
    if (l.left == 0) {
        l.expires = now + lifetime(p);  // (permits added to a live lease keep its expiry)
    }
    l.left += admitted - 1;
    l.remaining = redis.remaining;
    l.reset_s = redis.reset_s;
    redis.remaining += l.left;
    return redis;
}

bool LeaseBook::asking(const std::string& key) const {
    auto it = leases_.find(key);
    return it != leases_.end() && it->second.in_flight > 0;
}

void LeaseBook::failed(const std::string& key) {
    auto it = leases_.find(key);
    if (it != leases_.end()) {
        it->second.in_flight = std::max(0, it->second.in_flight - 1);
    }
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
