// The two-level cache against a real Redis: two Cache objects with their own clients and
// subscribers stand for two instances of a service.
#include "restinu/rt/cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "async_test.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/redis.hpp"
#include "test_env.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using testing::sleepFor;
using Clock = std::chrono::steady_clock;

RedisOptions redisOptions() {
    RedisOptions o;
    o.port = testenv::redisPort();
    o.connect_timeout = 1000ms;
    o.command_timeout = 1000ms;
    return o;
}

// A name of its own per test (keys and channel), so runs never see each other's entries.
CacheOptions cacheOptions(std::string_view what) {
    static int n = 0;
    CacheOptions o;
    o.name = "t" + std::to_string(::getpid()) + "-" + std::string(what) + "-" + std::to_string(++n);
    o.lease = 2000ms;
    return o;
}

CachedValue text(std::string s) {
    return std::make_shared<const std::string>(std::move(s));
}

Task<bool> waitUntil(std::function<bool()> pred, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!pred()) {
        if (Clock::now() > deadline) {
            co_return false;
        }
        co_await sleepFor(5ms);
    }
    co_return true;
}

// Two instances: each its own Redis client and cache (and so its own subscriber).
struct Pair {
    Pair(net::io_context& io, const CacheOptions& opts)
        : redis_a(io, redisOptions()),
          redis_b(io, redisOptions()),
          a(io, redis_a, redisOptions(), opts, &metrics),
          b(io, redis_b, redisOptions(), opts, &metrics) {
        a.start();
        b.start();
    }
    Task<bool> ready() {
        co_return co_await waitUntil([this] { return a.listening() && b.listening(); }, 5s);
    }
    void stop() {
        a.stop();
        b.stop();
        redis_a.close();
        redis_b.close();
    }
    MetricsRegistry metrics;
    Redis redis_a;
    Redis redis_b;
    Cache a;
    Cache b;
};

TEST(Cache, ThousandConcurrentRequestsForAColdKeyComputeItOnceAcrossTwoInstances) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        auto opts = cacheOptions("cold");
        Pair p(io, opts);
        EXPECT_TRUE(co_await p.ready());
        int loads = 0;
        auto load = [&loads]() -> Task<CachedValue> {
            ++loads;
            co_await sleepFor(100ms);  // a slow query: everyone else arrives meanwhile
            co_return text("answer");
        };
        int answered = 0;
        int failed = 0;
        auto slowest = Clock::duration::zero();
        int running = 1000;
        for (int i = 0; i < 1000; ++i) {
            Cache& c = i % 2 == 0 ? p.a : p.b;
            auto one = [&, &c = c]() -> Task<void> {
                const auto started = Clock::now();
                try {
                    auto v = co_await c.get("g", "hot", CachePolicy{}, load);
                    answered += v && *v == "answer" ? 1 : 0;
                } catch (const std::exception&) {
                    ++failed;
                }
                slowest = std::max(slowest, Clock::now() - started);
                --running;
            };
            net::co_spawn(io, one(), net::detached);
        }
        EXPECT_TRUE(co_await waitUntil([&] { return running == 0; }, 10s));
        EXPECT_EQ(loads, 1);
        EXPECT_EQ(answered, 1000);
        EXPECT_EQ(failed, 0);
        EXPECT_LT(slowest, opts.lease) << "a request waited longer than the lease";
        p.stop();
    });
}

TEST(Cache, AnInvalidationReachesTheOtherInstanceAndItsStoredAnswer) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        Pair p(io, cacheOptions("inval"));
        EXPECT_TRUE(co_await p.ready());
        std::string current = "v1";
        auto load = [&current]() -> Task<CachedValue> { co_return text(current); };
        auto on_a = co_await p.a.get("listing:1", "listing:1", CachePolicy{}, load);
        auto on_b = co_await p.b.get("listing:1", "listing:1", CachePolicy{}, load);
        EXPECT_EQ(*on_a, "v1");
        EXPECT_EQ(*on_b, "v1");  // from L2, now in B's L1 too
        current = "v2";          // the write, then its invalidation through A
        co_await p.a.invalidate("listing:1");
        // A never answers the old value; B not once the message is in (within a second).
        EXPECT_EQ(*(co_await p.a.get("listing:1", "listing:1", CachePolicy{}, load)), "v2");
        const auto sent = Clock::now();
        bool fresh = false;
        while (Clock::now() - sent < 1s && !fresh) {
            fresh = *(co_await p.b.get("listing:1", "listing:1", CachePolicy{}, load)) == "v2";
            co_await sleepFor(2ms);
        }
        EXPECT_TRUE(fresh);
        p.stop();
    });
}

// An answer each instance computes from memory (CachePolicy::shared = false): never in Redis,
// one computation per instance however many ask at once, and invalidated like the others.
TEST(Cache, AnL1OnlyAnswerSkipsRedisButStillFliesOnceAndIsInvalidated) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        auto opts = cacheOptions("local");
        Pair p(io, opts);
        EXPECT_TRUE(co_await p.ready());
        CachePolicy local;
        local.shared = false;
        int loads = 0;
        std::string current = "v1";
        auto load = [&]() -> Task<CachedValue> {
            ++loads;
            co_await sleepFor(50ms);
            co_return text(current);
        };
        int running = 200;
        int answered = 0;
        for (int i = 0; i < 200; ++i) {
            Cache& c = i % 2 == 0 ? p.a : p.b;
            auto one = [&, &c = c]() -> Task<void> {
                auto v = co_await c.get("search", "search:city=pune", local, load);
                answered += v && *v == "v1" ? 1 : 0;
                --running;
            };
            net::co_spawn(io, one(), net::detached);
        }
        EXPECT_TRUE(co_await waitUntil([&] { return running == 0; }, 5s));
        EXPECT_EQ(answered, 200);
        EXPECT_EQ(loads, 2);  // once per instance: no lease across them
        // Nothing of it in Redis: no stored answer, no lease.
        const std::string value_key = "c:" + opts.name + ":v:search:city=pune";
        const std::string lease_key = "c:" + opts.name + ":l:search:city=pune";
        auto stored = co_await p.redis_a.call("EXISTS", value_key, lease_key);
        EXPECT_EQ(stored.integer, 0);
        // From L1 now; an invalidation of its group through A reaches B's L1 too.
        EXPECT_EQ(*(co_await p.b.get("search", "search:city=pune", local, load)), "v1");
        EXPECT_EQ(loads, 2);
        current = "v2";
        co_await p.a.invalidate("search");
        EXPECT_EQ(*(co_await p.a.get("search", "search:city=pune", local, load)), "v2");
        const auto sent = Clock::now();
        bool fresh = false;
        while (Clock::now() - sent < 1s && !fresh) {
            fresh = *(co_await p.b.get("search", "search:city=pune", local, load)) == "v2";
            co_await sleepFor(2ms);
        }
        EXPECT_TRUE(fresh);
        EXPECT_EQ(loads, 4);  // each instance computed it again once
        // The same key names do find a shared answer (the check above could fail).
        co_await p.a.get("search", "search:shared", CachePolicy{}, load);
        const std::string shared_key = "c:" + opts.name + ":v:search:shared";
        auto shared = co_await p.redis_a.call("EXISTS", shared_key);
        EXPECT_EQ(shared.integer, 1);
        p.stop();
    });
}

TEST(Cache, AnAnswerComputedBeforeAnInvalidationIsNeverStored) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        Pair p(io, cacheOptions("race"));
        EXPECT_TRUE(co_await p.ready());
        bool invalidated = false;
        // B reads the old row, then the write and its invalidation land, then B stores.
        auto slow_old = [&]() -> Task<CachedValue> {
            co_await p.a.invalidate("g");
            invalidated = true;
            co_return text("old");
        };
        EXPECT_EQ(*(co_await p.b.get("g", "k", CachePolicy{}, slow_old)), "old");
        EXPECT_TRUE(invalidated);
        int loads = 0;
        auto fresh = [&loads]() -> Task<CachedValue> {
            ++loads;
            co_return text("new");
        };
        // (B let go of its lease although it stored nothing: A does not wait for it.)
        const auto started = Clock::now();
        EXPECT_EQ(*(co_await p.a.get("g", "k", CachePolicy{}, fresh)), "new");
        EXPECT_LT(Clock::now() - started, 500ms);
        EXPECT_EQ(*(co_await p.b.get("g", "k", CachePolicy{}, fresh)), "new");
        EXPECT_EQ(loads, 1);  // A computed it; B took it from L2
        p.stop();
    });
}

TEST(Cache, StaleWhileRevalidateThenStaleIfErrorThenTheError) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        Pair p(io, cacheOptions("stale"));
        EXPECT_TRUE(co_await p.ready());
        CachePolicy policy{100ms, 300ms, 400ms, 50ms};
        int loads = 0;
        bool database_up = true;
        auto load = [&]() -> Task<CachedValue> {
            ++loads;
            if (!database_up) {
                throw std::runtime_error("database down");
            }
            co_return text("v" + std::to_string(loads));
        };
        EXPECT_EQ(*(co_await p.a.get("g", "k", policy, load)), "v1");
        co_await sleepFor(150ms);  // past fresh, within stale: the old answer, refreshed behind
        EXPECT_EQ(*(co_await p.a.get("g", "k", policy, load)), "v1");
        EXPECT_TRUE(co_await waitUntil([&] { return loads == 2; }, 2s));
        EXPECT_EQ(*(co_await p.a.get("g", "k", policy, load)), "v2");

        database_up = false;
        co_await sleepFor(500ms);  // past fresh and stale, within if-error
        EXPECT_EQ(*(co_await p.b.get("g", "k", policy, load)), "v2");  // stale-if-error
        co_await sleepFor(400ms);  // past if-error too: the failure shows
        bool threw = false;
        try {
            co_await p.b.get("g", "k", policy, load);
        } catch (const std::runtime_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        p.stop();
    });
}

TEST(Cache, NotFoundIsCachedBriefly) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        Pair p(io, cacheOptions("negative"));
        EXPECT_TRUE(co_await p.ready());
        CachePolicy policy{10s, 10s, 10s, 200ms};
        int loads = 0;
        auto load = [&loads]() -> Task<CachedValue> {
            ++loads;
            co_return nullptr;
        };
        EXPECT_EQ(co_await p.a.get("g", "missing", policy, load), nullptr);
        EXPECT_EQ(co_await p.b.get("g", "missing", policy, load), nullptr);
        EXPECT_EQ(loads, 1);
        co_await sleepFor(300ms);
        EXPECT_EQ(co_await p.a.get("g", "missing", policy, load), nullptr);
        EXPECT_EQ(loads, 2);
        p.stop();
    });
}

TEST(Cache, XFetchRefreshesAHotKeyBeforeItExpires) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        Pair p(io, cacheOptions("xfetch"));
        EXPECT_TRUE(co_await p.ready());
        CachePolicy policy{600ms, 0ms, 0ms, 50ms};
        int loads = 0;
        auto load = [&loads]() -> Task<CachedValue> {
            ++loads;
            co_await sleepFor(150ms);  // Δ: an expensive answer is refreshed well ahead
            co_return text("v" + std::to_string(loads));
        };
        const auto first = Clock::now();
        EXPECT_EQ(*(co_await p.a.get("g", "k", policy, load)), "v1");
        const auto expires = first + 150ms + 600ms;
        // Asked every 5 ms until just before it expires: no caller ever waits for a load.
        auto slowest = Clock::duration::zero();
        while (Clock::now() < expires - 20ms) {
            const auto t = Clock::now();
            co_await p.a.get("g", "k", policy, load);
            slowest = std::max(slowest, Clock::now() - t);
            co_await sleepFor(5ms);
        }
        EXPECT_GE(loads, 2) << "no early refresh before expiry";
        EXPECT_LT(slowest, 100ms);
        co_await waitUntil([&] { return loads >= 2; }, 1s);
        co_await sleepFor(200ms);  // let the refresh finish before the loop ends
        p.stop();
    });
}

TEST(Cache, ARedisRestartFlushesL1AndTheCacheKeepsAnswering) {
    testing::runAsync([](net::io_context& io) -> Task<void> {
        auto opts = cacheOptions("restart");
        Pair p(io, opts);
        EXPECT_TRUE(co_await p.ready());
        auto& flushes = p.metrics.counter("restinu_cache_events_total", "", {"cache", "event"})
                            .labels({opts.name, "flush"});
        EXPECT_EQ(flushes.value(), 2u);  // each instance's first subscription
        int loads = 0;
        auto load = [&loads]() -> Task<CachedValue> {
            ++loads;
            co_return text("v");
        };
        co_await p.a.get("g", "k", CachePolicy{}, load);
        EXPECT_EQ(p.a.l1().size(), 1u);
        std::atomic<bool> restarted{false};
        std::thread restarter([&] {
            testenv::restartRedis();
            restarted = true;
        });
        // While Redis is away the cache still answers (computing, or from L1 while subscribed).
        int answers = 0;
        while (!restarted) {
            answers += (co_await p.a.get("g", "k", CachePolicy{}, load)) ? 1 : 0;
            co_await sleepFor(20ms);
        }
        restarter.join();
        EXPECT_GT(answers, 0);
        // Messages sent while they were disconnected are lost: each new subscription emptied
        // its L1 (and L1 was not used until then).
        EXPECT_TRUE(co_await waitUntil([&] { return flushes.value() == 4; }, 10s));
        EXPECT_TRUE(p.a.listening() && p.b.listening());
        p.stop();
    });
}

}  // namespace
}  // namespace restinu::rt
