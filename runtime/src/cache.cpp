#include "restinu/rt/cache.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cmath>
#include <optional>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/redis.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

// What an entry costs beyond its key, group and value: the list node, the index slot, the
// strings' headers and the shared value's control block, rounded up.
constexpr std::size_t kEntryOverhead = 256;
constexpr std::uint8_t kMaxCount = 15;
constexpr std::size_t kMaxGroups = 65'536;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t hashKey(std::string_view key) {
    return mix(std::hash<std::string_view>{}(key));
}

std::size_t nextPow2(std::size_t n) {
    std::size_t p = 1;
    while (p < n) {
        p <<= 1;
    }
    return p;
}

// A stored answer in L2: "gen|fresh|stale|error|delta|kind|bytes", kind v (a value) or n (not
// found). The generation is the group's when it was computed; a newer one makes it a miss.
std::string encode(const std::string& gen, const L1Cache::Entry& e) {
    std::string out = gen;
    for (auto n : {e.fresh_until_ms, e.stale_until_ms, e.error_until_ms, e.delta_ms}) {
        out += '|';
        out += std::to_string(n);
    }
    out += e.value ? "|v|" : "|n|";
    if (e.value) {
        out += *e.value;
    }
    return out;
}

}  // namespace

// ---- L1 ----------------------------------------------------------------------------------

L1Cache::L1Cache(std::size_t byte_budget) : budget_(byte_budget) {
    // About one counter slot per 64 bytes of budget: several per entry the budget can hold.
    auto width = nextPow2(std::clamp<std::size_t>(byte_budget / 64, 1024, std::size_t{1} << 24));
    sketch_.assign(width, 0);
    sketch_mask_ = width - 1;
}

std::uint32_t L1Cache::frequency(std::uint64_t h) const {
    std::uint32_t f = kMaxCount;
    for (int i = 0; i < 4; ++i) {
        f = std::min<std::uint32_t>(f,
                                    sketch_[mix(h + static_cast<std::uint64_t>(i)) & sketch_mask_]);
    }
    return f;
}

void L1Cache::touch(std::uint64_t h) {
    auto f = frequency(h);
    if (f < kMaxCount) {
        // Conservative update: raise only the counters at the minimum.
        for (int i = 0; i < 4; ++i) {
            auto& c = sketch_[mix(h + static_cast<std::uint64_t>(i)) & sketch_mask_];
            if (c == f) {
                ++c;
            }
        }
    }
    // Ageing: halve every counter after ten accesses per slot, so yesterday's hot keys fade.
    if (++sketch_adds_ >= sketch_.size() * 10) {
        for (auto& c : sketch_) {
            c = static_cast<std::uint8_t>(c >> 1);
        }
        sketch_adds_ = 0;
    }
}

std::uint64_t L1Cache::epoch(std::string_view group) const {
    auto it = epochs_.find(std::string(group));
    return (era_ << 32) + (it == epochs_.end() ? 0 : it->second);
}

const L1Cache::Entry* L1Cache::find(std::string_view key, std::int64_t now_ms) {
    touch(hashKey(key));
    auto it = index_.find(key);
    if (it == index_.end()) {
        return nullptr;
    }
    auto node = it->second;
    if (node->epoch != epoch(node->group) || now_ms >= node->entry.error_until_ms) {
        erase(node);
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, node);
    return &node->entry;
}

bool L1Cache::put(std::string_view key, std::string_view group, std::uint64_t epoch_then, Entry e) {
    if (epoch_then != epoch(group)) {
        return false;  // invalidated while it was being computed
    }
    const std::size_t need =
        key.size() + group.size() + (e.value ? e.value->size() : 0) + kEntryOverhead;
    if (need > budget_ / 8) {
        return false;
    }
    if (auto it = index_.find(key); it != index_.end()) {
        erase(it->second);
    }
    const auto candidate = frequency(hashKey(key));
    while (bytes_ + need > budget_) {
        auto victim = std::prev(lru_.end());
        const bool dead = victim->epoch != epoch(victim->group);
        if (!dead && candidate <= frequency(hashKey(victim->key))) {
            return false;  // TinyLFU: the resident is asked for at least as often
        }
        erase(victim);
    }
    lru_.push_front(Node{std::string(key), std::string(group), epoch_then, std::move(e), need});
    index_.emplace(lru_.front().key, lru_.begin());
    bytes_ += need;
    return true;
}

void L1Cache::erase(Lru::iterator it) {
    bytes_ -= it->bytes;
    index_.erase(it->key);
    lru_.erase(it);
}

void L1Cache::invalidate(std::string_view group) {
    ++epochs_[std::string(group)];
    if (epochs_.size() > kMaxGroups) {
        clear();  // bounded bookkeeping: past this many groups, start over
    }
}

void L1Cache::clear() {
    index_.clear();
    lru_.clear();
    epochs_.clear();
    bytes_ = 0;
    ++era_;
}

// ---- L1 + L2 -----------------------------------------------------------------------------

namespace {

// Lets go of the lease if this caller holds it, and stores only if the group's generation is
// still the one read before computing (an invalidation in between wins).
const RedisScript& storeScript() {
    static const RedisScript s(R"lua(
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
)lua");
    return s;
}

// A new generation for the group (kept longer than any answer lives) and the message that
// evicts L1 everywhere.
const RedisScript& invalidateScript() {
    static const RedisScript s(R"lua(
local g = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return g
)lua");
    return s;
}

// Lets go of a lease whose holder failed, so that others need not wait it out.
const RedisScript& releaseScript() {
    static const RedisScript s(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
    return s;
}

constexpr std::chrono::hours kGenerationLife{48};
// While the source fails, an answer served stale-if-error is kept in L1 as fresh for this
// long, so a dead database is not asked again by every request.
constexpr std::int64_t kErrorRetryMs = 1000;

constexpr std::string_view kEvents[] = {
    "join",            // a request waited for the same key's computation in this shard
    "lease_wait",      // another instance held the key's lease: waited for its answer
    "stale",           // served stale while one caller revalidates
    "early_refresh",   // XFetch refreshed a fresh answer before it expired
    "stale_if_error",  // computing failed; served the last answer
    "load",            // computed
    "refresh_failed",  // a background refresh failed (the stale answer stays)
    "invalidation",    // a group invalidated here or by a message
    "flush",           // L1 emptied on a new subscription (messages may have been missed)
    "l2_error",        // Redis did not answer; went on without it
};

}  // namespace

struct Cache::Stored {
    std::string gen;
    L1Cache::Entry entry;

    static std::optional<Stored> parse(std::string_view s) {
        Stored out;
        std::int64_t* fields[] = {&out.entry.fresh_until_ms, &out.entry.stale_until_ms,
                                  &out.entry.error_until_ms, &out.entry.delta_ms};
        auto bar = s.find('|');
        if (bar == std::string_view::npos) {
            return std::nullopt;
        }
        out.gen = std::string(s.substr(0, bar));
        s.remove_prefix(bar + 1);
        for (auto* f : fields) {
            bar = s.find('|');
            if (bar == std::string_view::npos) {
                return std::nullopt;
            }
            auto [p, ec] = std::from_chars(s.data(), s.data() + bar, *f);
            if (ec != std::errc{} || p != s.data() + bar) {
                return std::nullopt;
            }
            s.remove_prefix(bar + 1);
        }
        if (s.size() < 2 || s[1] != '|' || (s[0] != 'v' && s[0] != 'n')) {
            return std::nullopt;
        }
        if (s[0] == 'v') {
            out.entry.value = std::make_shared<const std::string>(s.substr(2));
        }
        return out;
    }
};

struct Cache::Flight {
    explicit Flight(IoContext& io) : timer(io, net::steady_timer::time_point::max()) {}
    net::steady_timer timer;
    bool done = false;
    CachedValue value;
    std::exception_ptr error;

    Task<void> wait() {
        while (!done) {
            co_await timer.async_wait(kUseTuple);
        }
    }
    void finish() {
        done = true;
        timer.cancel();
    }
};

struct Cache::Metrics {
    Counter* l1_hit = nullptr;
    Counter* l1_miss = nullptr;
    Counter* l2_hit = nullptr;
    Counter* l2_miss = nullptr;
    std::vector<std::pair<std::string_view, Counter*>> events;
    Gauge* bytes = nullptr;
    std::size_t reported_bytes = 0;
};

Cache::Cache(IoContext& io, Redis& redis, const RedisOptions& subscriber, CacheOptions opts,
             MetricsRegistry* metrics)
    : io_(io),
      redis_(redis),
      opts_(std::move(opts)),
      l1_(opts_.l1_bytes),
      rng_(std::random_device{}()),
      alive_(std::make_shared<bool>(true)) {
    RedisOptions sub = subscriber;
    sub.name = "cache-" + opts_.name;
    subscriber_ = std::make_unique<RedisSubscriber>(io_, sub);
    token_prefix_ =
        std::to_string(std::random_device{}()) + "-" + std::to_string(std::random_device{}()) + "-";
    if (metrics != nullptr) {
        metrics_ = std::make_unique<Metrics>();
        auto& lookups = metrics->counter("restinu_cache_lookups_total",
                                         "Cache lookups by level (l1: in process, l2: Redis)",
                                         {"cache", "level", "result"});
        metrics_->l1_hit = &lookups.labels({opts_.name, "l1", "hit"});
        metrics_->l1_miss = &lookups.labels({opts_.name, "l1", "miss"});
        metrics_->l2_hit = &lookups.labels({opts_.name, "l2", "hit"});
        metrics_->l2_miss = &lookups.labels({opts_.name, "l2", "miss"});
        auto& events = metrics->counter(
            "restinu_cache_events_total",
            "Single-flight joins, lease waits, stale answers, early refreshes and the like",
            {"cache", "event"});
        for (auto e : kEvents) {
            metrics_->events.emplace_back(e, &events.labels({opts_.name, e}));
        }
        metrics_->bytes =
            &metrics
                 ->gauge("restinu_cache_l1_bytes", "Bytes held by the in-process caches", {"cache"})
                 .labels({opts_.name});
    }
}

Cache::~Cache() {
    *alive_ = false;
    subscriber_->stop();
    if (metrics_) {
        metrics_->bytes->add(-static_cast<double>(metrics_->reported_bytes));
    }
}

void Cache::start() {
    if (!opts_.enabled) {
        return;
    }
    subscriber_->subscribe({"cache:" + opts_.name},
                           [this](std::string_view, std::string_view group) {
                               l1_.invalidate(group);
                               count("invalidation");
                           });
    subscriber_->onSubscribed([this] {
        l1_.clear();
        count("flush");
    });
    subscriber_->start();
}

void Cache::stop() {
    subscriber_->stop();
}

bool Cache::listening() const {
    return subscriber_->subscribed();
}

void Cache::count(std::string_view event) {
    if (!metrics_) {
        return;
    }
    for (auto& [name, c] : metrics_->events) {
        if (name == event) {
            c->inc();
        }
    }
    if (metrics_->reported_bytes != l1_.bytes()) {
        metrics_->bytes->add(static_cast<double>(l1_.bytes()) -
                             static_cast<double>(metrics_->reported_bytes));
        metrics_->reported_bytes = l1_.bytes();
    }
}

std::string Cache::genKey(std::string_view group) const {
    return "c:" + opts_.name + ":g:" + std::string(group);
}
std::string Cache::valueKey(std::string_view key) const {
    return "c:" + opts_.name + ":v:" + std::string(key);
}
std::string Cache::leaseKey(std::string_view key) const {
    return "c:" + opts_.name + ":l:" + std::string(key);
}

bool Cache::earlyRefresh(const L1Cache::Entry& e, std::int64_t now_ms) {
    if (e.delta_ms <= 0 || !e.value) {
        return false;
    }
    // XFetch: refresh when now − Δ·β·ln(u) ≥ expiry, u uniform in (0, 1]: ever more likely
    // as expiry nears, sooner for answers that take longer to compute.
    std::uniform_real_distribution<double> u(std::nextafter(0.0, 1.0), 1.0);
    const double gap = -static_cast<double>(e.delta_ms) * opts_.beta * std::log(u(rng_));
    return static_cast<double>(now_ms) + gap >= static_cast<double>(e.fresh_until_ms);
}

Task<CachedValue> Cache::get(std::string group, std::string key, CachePolicy policy, Loader load) {
    if (!opts_.enabled) {
        co_return co_await load();
    }
    const auto now = unixMillis();
    if (listening()) {
        if (const auto* e = l1_.find(key, now); e != nullptr && now < e->stale_until_ms) {
            if (metrics_) {
                metrics_->l1_hit->inc();
            }
            auto value = e->value;
            if (now >= e->fresh_until_ms) {
                count("stale");
                refreshLater(group, key, policy, load);
            } else if (earlyRefresh(*e, now)) {
                count("early_refresh");
                refreshLater(group, key, policy, load);
            }
            co_return value;
        }
        if (metrics_) {
            metrics_->l1_miss->inc();
        }
    }
    if (auto it = flights_.find(key); it != flights_.end()) {
        count("join");
        auto flight = it->second;
        co_await flight->wait();
        if (flight->error) {
            std::rethrow_exception(flight->error);
        }
        co_return flight->value;
    }
    auto flight = std::make_shared<Flight>(io_);
    flights_.emplace(key, flight);
    try {
        flight->value = co_await lead(group, key, policy, load);
    } catch (...) {
        flight->error = std::current_exception();
    }
    if (auto it = flights_.find(key); it != flights_.end() && it->second == flight) {
        flights_.erase(it);
    }
    flight->finish();
    if (flight->error) {
        std::rethrow_exception(flight->error);
    }
    co_return flight->value;
}

Task<CachedValue> Cache::lead(const std::string& group, const std::string& key,
                              const CachePolicy& policy, const Loader& load) {
    const auto epoch = l1_.epoch(group);
    std::string gen = "0";
    std::optional<Stored> last;  // an answer to fall back on if computing fails
    bool l2_up = true;
    // Reads L2: the group's generation and the stored answer; true when it may be served.
    auto readL2 = [&]() -> Task<bool> {
        auto r = co_await redis_.call("MGET", genKey(group), valueKey(key));
        if (r.type != RedisReply::Type::Array || r.elements.size() != 2) {
            throw RedisError(RedisError::Kind::Reply, "MGET: unexpected reply");
        }
        gen = r.elements[0].isNil() ? "0" : r.elements[0].str;
        if (!r.elements[1].isNil()) {
            auto s = Stored::parse(r.elements[1].str);
            if (s && s->gen == gen) {
                last = std::move(s);
                co_return unixMillis() < last->entry.stale_until_ms;
            }
        }
        co_return false;
    };
    auto serve = [&](const Stored& s) {
        if (metrics_) {
            metrics_->l2_hit->inc();
        }
        l1_.put(key, group, epoch, s.entry);
        const auto now = unixMillis();
        if (now >= s.entry.fresh_until_ms) {
            count("stale");
            refreshLater(group, key, policy, load);
        } else if (earlyRefresh(s.entry, now)) {
            count("early_refresh");
            refreshLater(group, key, policy, load);
        }
        return s.entry.value;
    };
    if (!policy.shared) {
        l2_up = false;  // L1 only: no L2 read, lease or store
    } else {
        try {
            if (co_await readL2()) {
                co_return serve(*last);
            }
        } catch (const RedisError&) {
            l2_up = false;
            count("l2_error");
        }
        if (metrics_) {
            metrics_->l2_miss->inc();
        }
    }
    if (!last) {
        if (const auto* e = l1_.find(key, unixMillis()); e != nullptr) {
            last = Stored{gen, *e};  // L2 unreachable or expired: L1's copy, for errors only
        }
    }
    std::string token;
    if (l2_up) {
        token = token_prefix_ + std::to_string(++tokens_);
        bool holder = true;
        try {
            auto r = co_await redis_.call("SET", leaseKey(key), token, "NX", "PX",
                                          std::to_string(opts_.lease.count()));
            holder = !r.isNil();
        } catch (const RedisError&) {
            count("l2_error");
        }
        if (!holder) {
            // Another instance computes it: poll L2 until it stores, at most for the lease.
            count("lease_wait");
            token.clear();
            net::steady_timer timer(io_);
            const auto deadline = std::chrono::steady_clock::now() + opts_.lease;
            while (std::chrono::steady_clock::now() < deadline) {
                timer.expires_after(opts_.lease_poll);
                co_await timer.async_wait(kUseTuple);
                bool found = false;
                try {
                    found = co_await readL2();
                } catch (const RedisError&) {
                    count("l2_error");
                    break;
                }
                if (found) {
                    co_return serve(*last);
                }
            }
            // The holder never stored (it failed or died): compute here.
        }
    }
    std::exception_ptr failure;
    try {
        co_return co_await compute(group, key, policy, load, gen, epoch, token);
    } catch (...) {
        failure = std::current_exception();
    }
    co_await release(key, token);
    const auto now = unixMillis();
    if (last && now < last->entry.error_until_ms) {
        count("stale_if_error");
        auto kept = last->entry;
        kept.fresh_until_ms = std::min(now + kErrorRetryMs, kept.error_until_ms);
        kept.stale_until_ms = std::max(kept.stale_until_ms, kept.fresh_until_ms);
        l1_.put(key, group, epoch, kept);
        co_return kept.value;
    }
    std::rethrow_exception(failure);
}

Task<CachedValue> Cache::compute(const std::string& group, const std::string& key,
                                 const CachePolicy& policy, const Loader& load,
                                 const std::string& gen, std::uint64_t epoch,
                                 const std::string& lease_token) {
    const auto started = std::chrono::steady_clock::now();
    auto value = co_await load();
    count("load");
    L1Cache::Entry e;
    e.value = value;
    e.delta_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count();
    const auto now = unixMillis();
    if (value) {
        e.fresh_until_ms = now + policy.fresh.count();
        e.stale_until_ms = e.fresh_until_ms + policy.stale.count();
        e.error_until_ms = e.stale_until_ms + policy.if_error.count();
    } else {
        e.fresh_until_ms = e.stale_until_ms = e.error_until_ms = now + policy.negative.count();
    }
    l1_.put(key, group, epoch, e);
    if (!policy.shared) {
        co_return value;
    }
    try {
        // Named: GCC 12 rejects braced lists of strings inside a co_await expression.
        std::vector<std::string> keys{genKey(group), valueKey(key), leaseKey(key)};
        std::vector<std::string> args{gen, encode(gen, e), std::to_string(e.error_until_ms - now),
                                      lease_token};
        co_await redis_.eval(storeScript(), std::move(keys), std::move(args));
    } catch (const RedisError&) {
        count("l2_error");
    }
    co_return value;
}

void Cache::refreshLater(const std::string& group, const std::string& key,
                         const CachePolicy& policy, const Loader& load) {
    if (!refreshing_.insert(key).second) {
        return;  // already being refreshed in this shard
    }
    net::co_spawn(io_, refresh(group, key, policy, load), net::detached);
}

Task<void> Cache::refresh(std::string group, std::string key, CachePolicy policy, Loader load) {
    auto alive = alive_;
    const auto epoch = l1_.epoch(group);
    bool failed = false;
    auto token = token_prefix_ + std::to_string(++tokens_);
    try {
        if (!policy.shared) {
            // L1 only: this shard alone refreshes it (refreshing_ admits one at a time).
            token.clear();
            const std::string no_generation = "0";
            co_await compute(group, key, policy, load, no_generation, epoch, token);
        } else {
            auto lease = co_await redis_.call("SET", leaseKey(key), token, "NX", "PX",
                                              std::to_string(opts_.lease.count()));
            if (*alive && !lease.isNil()) {  // else another caller refreshes it
                auto gen = co_await redis_.call("GET", genKey(group));
                if (*alive) {
                    auto g = gen.isNil() ? std::string("0") : gen.str;
                    co_await compute(group, key, policy, load, g, epoch, token);
                }
            }
        }
    } catch (const std::exception& e) {
        failed = true;
        if (*alive) {
            count("refresh_failed");
            log::debug("cache", "background refresh failed",
                       {{"cache", opts_.name}, {"error", e.what()}});
        }
    }
    if (failed && *alive) {
        co_await release(key, token);
    }
    if (*alive) {
        refreshing_.erase(key);
    }
}

Task<void> Cache::release(const std::string& key, const std::string& token) {
    if (token.empty()) {
        co_return;
    }
    try {
        std::vector<std::string> keys{leaseKey(key)};
        std::vector<std::string> args{token};
        co_await redis_.eval(releaseScript(), std::move(keys), std::move(args));
    } catch (const RedisError&) {
        count("l2_error");  // it expires by itself
    }
}

Task<void> Cache::invalidate(std::string group) {
    l1_.invalidate(group);
    count("invalidation");
    if (!opts_.enabled) {
        co_return;
    }
    try {
        auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(kGenerationLife);
        std::vector<std::string> keys{genKey(group)};
        std::vector<std::string> args{"cache:" + opts_.name, group, std::to_string(ttl.count())};
        co_await redis_.eval(invalidateScript(), std::move(keys), std::move(args));
    } catch (const RedisError& e) {
        // The write has committed; other instances' L1 holds the old answer until it expires.
        count("l2_error");
        log::warn("cache", "could not publish an invalidation",
                  {{"cache", opts_.name}, {"group", group}, {"error", e.what()}});
    }
}

}  // namespace restinu::rt
