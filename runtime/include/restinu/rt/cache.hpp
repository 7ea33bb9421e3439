#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "restinu/rt/task.hpp"

/// A two-level read-through cache for computed answers (ADR 0011): L1 in the process, bounded
/// by bytes, with TinyLFU admission; L2 in Redis, shared by every instance. Groups of keys are
/// invalidated everywhere at once by bumping the group's generation in Redis and publishing it;
/// a cold key is computed once across all instances (single flight in a shard, a short Redis
/// lease across shards and instances), a warm one is refreshed early (XFetch) or served stale
/// while one caller revalidates, and a stored answer outlives a failing database for a while
/// (stale-if-error). "Not found" is cached briefly too.
namespace restinu::rt {

class MetricsRegistry;
class Redis;
class RedisSubscriber;
struct RedisOptions;
template <class M>
class Family;
class Counter;
class Gauge;

/// A cached answer: the bytes, or null for "not found".
using CachedValue = std::shared_ptr<const std::string>;

/// The in-process level: entries by key, least recently used first out, bounded by a byte
/// budget that counts keys, values and bookkeeping. A new key enters a full cache only when a
/// frequency sketch (count-min, 4-bit-like saturating counters halved as they age) says it has
/// been asked for more often than the entry it would evict (TinyLFU admission): one-off keys
/// cannot flush the hot set. Every entry belongs to a group; invalidating a group makes its
/// entries misses at once (an epoch per group, checked on read).
///
/// @par Thread safety
/// None: one per shard, used from its thread.
class L1Cache {
public:
    struct Entry {
        CachedValue value;
        std::int64_t fresh_until_ms = 0;  ///< answered as fresh before this (Unix ms)
        std::int64_t stale_until_ms = 0;  ///< served stale while revalidating before this
        std::int64_t error_until_ms = 0;  ///< served when recomputing fails before this
        std::int64_t delta_ms = 0;        ///< what computing it cost (XFetch's Δ)
    };

    explicit L1Cache(std::size_t byte_budget);

    /// The entry if present, of the group's current epoch and not past error_until; counts the
    /// access in the sketch either way.
    const Entry* find(std::string_view key, std::int64_t now_ms);
    /// The group's epoch now: take it before computing, hand it to put().
    std::uint64_t epoch(std::string_view group) const;
    /// Stores `e` unless the group was invalidated since `epoch`, the entry is larger than an
    /// eighth of the budget, or admission prefers what it would evict. Returns whether stored.
    bool put(std::string_view key, std::string_view group, std::uint64_t epoch, Entry e);
    void invalidate(std::string_view group);
    void clear();

    std::size_t bytes() const { return bytes_; }
    std::size_t size() const { return index_.size(); }
    std::size_t budget() const { return budget_; }

private:
    struct Node {
        std::string key;
        std::string group;
        std::uint64_t epoch = 0;
        Entry entry;
        std::size_t bytes = 0;
    };
    using Lru = std::list<Node>;

    void erase(Lru::iterator it);
    std::uint32_t frequency(std::uint64_t h) const;
    void touch(std::uint64_t h);

    std::size_t budget_;
    std::size_t bytes_ = 0;
    Lru lru_;  // front: most recently used
    std::unordered_map<std::string_view, Lru::iterator> index_;
    std::unordered_map<std::string, std::uint64_t> epochs_;
    std::uint64_t era_ = 1;  // bumped by clear(): epochs taken before it never match again
    std::vector<std::uint8_t> sketch_;
    std::size_t sketch_mask_ = 0;
    std::uint64_t sketch_adds_ = 0;
};

struct CacheOptions {
    std::string name = "cache";  ///< key prefix, channel and metrics label
    bool enabled = true;         ///< false: every get() computes (the bench's cache-off run)
    std::size_t l1_bytes = 64u << 20;
    /// How long one computer holds a cold key; others poll L2 meanwhile, then compute
    /// themselves if the holder never stored (it died): nobody waits longer than this.
    std::chrono::milliseconds lease{500};
    std::chrono::milliseconds lease_poll{10};
    double beta = 1.0;  ///< XFetch: > 1 refreshes earlier
};

/// How long one kind of answer lives.
struct CachePolicy {
    std::chrono::milliseconds fresh{30'000};
    std::chrono::milliseconds stale{60'000};      ///< after fresh: stale-while-revalidate
    std::chrono::milliseconds if_error{600'000};  ///< after stale: only when computing fails
    std::chrono::milliseconds negative{5'000};    ///< "not found", fresh this long, no stale
    /// false: the answer is kept in L1 only (no L2 read, lease or store), for answers an
    /// instance computes from memory for less than those Redis round trips cost and that put
    /// no query of their own on the database (the in-memory search). Single flight, stale-
    /// while-revalidate, XFetch, stale-if-error (from L1) and invalidation by group still
    /// apply; a stampede costs at most one computation per shard.
    bool shared = true;
};

/// L1 per shard, L2 in Redis, invalidation over pub/sub. See the namespace comment.
///
/// @par Thread safety
/// One per shard, bound to its io_context; call it from that thread.
class Cache {
public:
    /// Computes the answer: its bytes, or null for "not found". Throwing means it failed.
    using Loader = std::function<Task<CachedValue>()>;

    /// `redis` is the shard's client (it must outlive the cache); `subscriber` names the
    /// server for the invalidation channel's own connection.
    Cache(IoContext& io, Redis& redis, const RedisOptions& subscriber, CacheOptions opts,
          MetricsRegistry* metrics = nullptr);
    ~Cache();
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;

    /// Subscribes to invalidations; until the subscription is confirmed (and after it breaks)
    /// L1 is bypassed, and each new subscription flushes it: a missed message is never trusted.
    void start();
    void stop();

    /// The answer for `key` (in `group`), from L1, L2 or `load`.
    Task<CachedValue> get(std::string group, std::string key, CachePolicy policy, Loader load);

    /// Makes every cached answer of `group` a miss on every instance: L1 here now, L2 by a new
    /// generation, other instances' L1 by the published message.
    Task<void> invalidate(std::string group);

    /// Whether invalidations are being received (L1 is in use).
    bool listening() const;
    const CacheOptions& options() const { return opts_; }
    L1Cache& l1() { return l1_; }

private:
    struct Flight;
    struct Stored;
    struct Metrics;

    Task<CachedValue> lead(const std::string& group, const std::string& key,
                           const CachePolicy& policy, const Loader& load);
    Task<CachedValue> compute(const std::string& group, const std::string& key,
                              const CachePolicy& policy, const Loader& load, const std::string& gen,
                              std::uint64_t epoch, const std::string& lease_token);
    Task<void> release(const std::string& key, const std::string& token);
    void refreshLater(const std::string& group, const std::string& key, const CachePolicy& policy,
                      const Loader& load);
    Task<void> refresh(std::string group, std::string key, CachePolicy policy, Loader load);
    bool earlyRefresh(const L1Cache::Entry& e, std::int64_t now_ms);
    std::string genKey(std::string_view group) const;
    std::string valueKey(std::string_view key) const;
    std::string leaseKey(std::string_view key) const;
    void count(std::string_view event);

    IoContext& io_;
    Redis& redis_;
    CacheOptions opts_;
    L1Cache l1_;
    std::unique_ptr<RedisSubscriber> subscriber_;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
    std::unordered_set<std::string> refreshing_;
    std::minstd_rand rng_;
    std::string token_prefix_;
    std::uint64_t tokens_ = 0;
    std::unique_ptr<Metrics> metrics_;
    std::shared_ptr<bool> alive_;
};

}  // namespace restinu::rt
