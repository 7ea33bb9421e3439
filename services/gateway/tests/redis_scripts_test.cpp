// The gateway's Lua scripts against a real Redis (scripts/testenv.sh): the sliding-window limiter
// decides exactly as the in-process one does, and the idempotency scripts lock, store and
// release only for their owner.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "async_test.hpp"
#include "idempotency.hpp"
#include "limiter.hpp"
#include "restinu/rt/redis.hpp"
#include "test_env.hpp"

namespace restinu::gateway {
namespace {

using namespace std::chrono_literals;
using restinu::testing::runAsync;
using restinu::testing::sleepFor;

rt::RedisOptions options() {
    rt::RedisOptions o;
    o.port = testenv::redisPort();
    return o;
}

std::string uniqueKey(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return prefix + std::to_string(rng());
}

TEST(LimiterScript, DecidesLikeTheLocalLimiterAndCleansUp) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        rt::Redis redis(io, options());
        rt::RedisScript script{std::string(slidingWindowScript())};
        RatePolicy p{"t", 7, 2s};
        LocalLimiter local;
        auto key = uniqueKey("rl:{test}:");
        std::mt19937 rng(11);
        std::int64_t now = 1'700'000'000'000;
        for (int i = 0; i < 400; ++i) {
            now += static_cast<std::int64_t>(rng() % 250);
            std::vector<std::string> keys{key};
            std::vector<std::string> args{std::to_string(p.limit), std::to_string(p.bucketMs()),
                                          std::to_string(p.buckets), std::to_string(now)};
            auto reply = co_await redis.eval(script, std::move(keys), std::move(args));
            EXPECT_EQ(reply.type, rt::RedisReply::Type::Array) << reply.str;
            EXPECT_EQ(reply.elements.size(), 12u);
            if (reply.elements.size() != 12u) {
                co_return;
            }
            std::vector<std::int64_t> counts;
            for (std::size_t j = 1; j < reply.elements.size(); ++j) {
                counts.push_back(reply.elements[j].integer);
            }
            auto remote = windowDecision(p, p.limit, reply.elements[0].integer == 1, counts, now);
            auto mine = local.check(p, p.limit, "k", now);
            EXPECT_EQ(remote.allowed, mine.allowed) << "step " << i;
            EXPECT_EQ(remote.remaining, mine.remaining) << "step " << i;
            EXPECT_EQ(remote.reset_s, mine.reset_s) << "step " << i;
        }
        // Old sub-windows are dropped and the hash expires on its own.
        auto len = co_await redis.call("HLEN", key);
        EXPECT_LE(len.integer, 12);
        auto ttl = co_await redis.call("PTTL", key);
        EXPECT_GT(ttl.integer, 0);
        EXPECT_LE(ttl.integer, 2200);
    });
}

std::string nowMs() {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
}

TEST(IdempotencyScripts, LockStoreAndReleaseOnlyForTheOwner) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        rt::Redis redis(io, options());
        rt::RedisScript begin{std::string(idempotencyBeginScript())};
        rt::RedisScript finish{std::string(idempotencyFinishScript())};
        auto key = uniqueKey("idem:{test}:");
        auto index = uniqueKey("idemidx:{test}:");

        std::vector<std::string> k1{key, index};
        std::vector<std::string> a1{"Lmine", "60000", nowMs(), "100"};
        auto first = co_await redis.eval(begin, std::move(k1), std::move(a1));
        EXPECT_EQ(first.str, "");  // free: we run
        std::vector<std::string> k2{key, index};
        std::vector<std::string> a2{"Lother", "60000", nowMs(), "100"};
        auto second = co_await redis.eval(begin, std::move(k2), std::move(a2));
        EXPECT_EQ(second.str, "Lmine");  // taken: the caller sees whose lock

        std::vector<std::string> k3{key, index};
        std::vector<std::string> a3{"Lother", "Dstolen", "60000", nowMs()};
        auto stolen = co_await redis.eval(finish, std::move(k3), std::move(a3));
        EXPECT_EQ(stolen.integer, 0);  // not the owner: nothing changes
        std::vector<std::string> k4{key, index};
        std::vector<std::string> a4{"Lmine", "Danswer", "86400000", nowMs()};
        auto stored = co_await redis.eval(finish, std::move(k4), std::move(a4));
        EXPECT_EQ(stored.integer, 1);
        auto value = co_await redis.call("GET", key);
        EXPECT_EQ(value.str, "Danswer");
        auto ttl = co_await redis.call("PTTL", key);
        EXPECT_GT(ttl.integer, 86'000'000);
        auto index_ttl = co_await redis.call("PTTL", index);
        EXPECT_GT(index_ttl.integer, 86'000'000);  // the index lives as long as its keys

        // A failed first request releases the key, and its place in the caller's index.
        auto key2 = uniqueKey("idem:{test}:");
        std::vector<std::string> k5{key2, index};
        std::vector<std::string> a5{"Lmine", "60000", nowMs(), "100"};
        co_await redis.eval(begin, std::move(k5), std::move(a5));
        EXPECT_EQ((co_await redis.call("ZCARD", index)).integer, 2);
        std::vector<std::string> k6{key2, index};
        std::vector<std::string> a6{"Lmine", "", "0", nowMs()};
        auto released = co_await redis.eval(finish, std::move(k6), std::move(a6));
        EXPECT_EQ(released.integer, 1);
        auto exists = co_await redis.call("EXISTS", key2);
        EXPECT_EQ(exists.integer, 0);
        EXPECT_EQ((co_await redis.call("ZCARD", index)).integer, 1);
    });
}

// One caller cannot fill Redis with keys: past the bound, begin answers "X" and stores nothing;
// expired entries leave the index and make room again.
TEST(IdempotencyScripts, ACallerHoldsAtMostTheBoundOfLiveKeys) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        rt::Redis redis(io, options());
        rt::RedisScript begin{std::string(idempotencyBeginScript())};
        auto index = uniqueKey("idemidx:{bound}:");
        auto prefix = uniqueKey("idem:{bound}:");
        for (int i = 0; i < 3; ++i) {
            std::vector<std::string> k{prefix + std::to_string(i), index};
            std::vector<std::string> a{"Lmine", "300", nowMs(), "3"};
            EXPECT_EQ((co_await redis.eval(begin, std::move(k), std::move(a))).str, "");
        }
        std::vector<std::string> k{prefix + "3", index};
        std::vector<std::string> a{"Lmine", "300", nowMs(), "3"};
        EXPECT_EQ((co_await redis.eval(begin, std::move(k), std::move(a))).str, "X");
        EXPECT_EQ((co_await redis.call("EXISTS", prefix + "3")).integer, 0);
        // An existing key is still answered (a retry of a stored request is not refused).
        std::vector<std::string> k2{prefix + "0", index};
        std::vector<std::string> a2{"Lother", "300", nowMs(), "3"};
        EXPECT_EQ((co_await redis.eval(begin, std::move(k2), std::move(a2))).str, "Lmine");
        co_await sleepFor(400ms);
        std::vector<std::string> k3{prefix + "3", index};
        std::vector<std::string> a3{"Lmine", "300", nowMs(), "3"};
        EXPECT_EQ((co_await redis.eval(begin, std::move(k3), std::move(a3))).str, "");
    });
}

// A lease asks for several permits at once: the scripts admit what fits and count exactly that.
TEST(LimiterScripts, AdmitAsManyOfALeasesPermitsAsFit) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        rt::Redis redis(io, options());
        rt::RedisScript window{std::string(slidingWindowScript())};
        RatePolicy p{"t", 7, 2s};
        auto key = uniqueKey("rl:{lease}:");
        std::int64_t now = 1'700'000'000'000;
        std::vector<std::int64_t> admitted;
        for (int ask : {5, 5, 1}) {
            std::vector<std::string> keys{key};
            std::vector<std::string> args{std::to_string(p.limit), std::to_string(p.bucketMs()),
                                          std::to_string(p.buckets), std::to_string(now),
                                          std::to_string(ask)};
            auto reply = co_await redis.eval(window, std::move(keys), std::move(args));
            EXPECT_EQ(reply.elements.size(), 12u) << reply.str;
            if (reply.elements.size() != 12u) {
                co_return;
            }
            admitted.push_back(reply.elements[0].integer);
            EXPECT_EQ(reply.elements[11].integer,
                      std::accumulate(admitted.begin(), admitted.end(), std::int64_t{0}));
        }
        EXPECT_EQ(admitted, (std::vector<std::int64_t>{5, 2, 0}));

        rt::RedisScript bucket{std::string(tokenBucketScript())};
        RatePolicy b{"b", 6, 3s};
        b.burst = 4;
        auto bkey = uniqueKey("tb:{lease}:");
        std::vector<std::int64_t> taken;
        for (int ask : {3, 3}) {
            std::vector<std::string> keys{bkey};
            std::vector<std::string> args{std::to_string(b.burst), std::to_string(b.limit),
                                          std::to_string(b.window.count() * 1000),
                                          std::to_string(now), std::to_string(ask)};
            auto reply = co_await redis.eval(bucket, std::move(keys), std::move(args));
            EXPECT_EQ(reply.elements.size(), 2u) << reply.str;
            if (reply.elements.size() != 2u) {
                co_return;
            }
            taken.push_back(reply.elements[0].integer);
        }
        EXPECT_EQ(taken, (std::vector<std::int64_t>{3, 1}));
    });
}

// An expired lease's unused permits are taken off the counter that counted them (never below
// zero, never from a sub-window that has left the window); a bucket takes them back as tokens.
TEST(LimiterScripts, UnusedPermitsAreGivenBack) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        rt::Redis redis(io, options());
        rt::RedisScript window{std::string(slidingWindowScript())};
        RatePolicy p{"t", 10, 2s};  // sub-windows of 200 ms
        auto key = uniqueKey("rl:{back}:");
        std::int64_t now = 1'700'000'000'000;
        auto cur = now / p.bucketMs();
        // args: limit, sub-window ms, sub-windows, now, permits[, give-back field, count]
        auto ask = [&](std::int64_t at,
                       std::vector<std::string> extra) -> rt::Task<rt::RedisReply> {
            std::vector<std::string> keys{key};
            std::vector<std::string> args{std::to_string(p.limit), std::to_string(p.bucketMs()),
                                          std::to_string(p.buckets), std::to_string(at)};
            args.insert(args.end(), extra.begin(), extra.end());
            co_return co_await redis.eval(window, std::move(keys), std::move(args));
        };
        // (Arguments named first: g++ 12 cannot take braced lists inside co_await.)
        std::vector<std::string> a1{"8"};
        auto r1 = co_await ask(now, a1);
        EXPECT_EQ(r1.elements.at(0).integer, 8);
        // 6 of the 8 were not used: they go back, and 7 fit again (2 used + 7 + 1 spare).
        std::vector<std::string> a2{"7", std::to_string(cur), "6"};
        auto r2 = co_await ask(now + 10, a2);
        EXPECT_EQ(r2.elements.at(0).integer, 7);
        EXPECT_EQ(r2.elements.at(11).integer, 9);
        // More back than the counter holds: it stops at zero.
        std::vector<std::string> a3{"1", std::to_string(cur), "50"};
        auto r3 = co_await ask(now + 20, a3);
        EXPECT_EQ(r3.elements.at(0).integer, 1);
        EXPECT_EQ(r3.elements.at(11).integer, 1);
        // A sub-window that left the window is not touched (its permits no longer count).
        std::vector<std::string> a4{"1", std::to_string(cur), "1"};
        auto r4 = co_await ask(now + 5'000, a4);
        EXPECT_EQ(r4.elements.at(0).integer, 1);
        auto old = co_await redis.call("HGET", key, std::to_string(cur));
        EXPECT_TRUE(old.type == rt::RedisReply::Type::Nil || old.str == "1") << old.str;

        rt::RedisScript bucket{std::string(tokenBucketScript())};
        RatePolicy b{"b", 6, 600s};  // refills slowly: the test sees only what it gives back
        b.burst = 4;
        auto bkey = uniqueKey("tb:{back}:");
        auto take = [&](std::vector<std::string> extra) -> rt::Task<std::int64_t> {
            std::vector<std::string> keys{bkey};
            std::vector<std::string> args{std::to_string(b.burst), std::to_string(b.limit),
                                          std::to_string(b.window.count() * 1000),
                                          std::to_string(now)};
            args.insert(args.end(), extra.begin(), extra.end());
            auto reply = co_await redis.eval(bucket, std::move(keys), std::move(args));
            co_return reply.elements.at(0).integer;
        };
        std::vector<std::string> t1{"4"};
        std::vector<std::string> t2{"4", "3"};
        std::vector<std::string> t3{"1", "9"};
        std::vector<std::string> t4{"9"};
        auto n1 = co_await take(t1);
        auto n2 = co_await take(t2);  // 3 unused tokens back, then taken again
        auto n3 = co_await take(t3);  // back, but never over the burst
        auto n4 = co_await take(t4);
        EXPECT_EQ(n1, 4);
        EXPECT_EQ(n2, 3);
        EXPECT_EQ(n3, 1);
        EXPECT_EQ(n4, 3);
    });
}

TEST(TokenBucketScript, DecidesLikeTheLocalBucket) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        rt::Redis redis(io, options());
        rt::RedisScript script{std::string(tokenBucketScript())};
        RatePolicy p{"b", 6, 3s};
        p.burst = 4;
        LocalLimiter local;
        auto key = uniqueKey("tb:{test}:");
        std::mt19937 rng(3);
        std::int64_t now = 1'700'000'000'000;
        int admitted = 0;
        for (int i = 0; i < 300; ++i) {
            now += static_cast<std::int64_t>(rng() % 400);
            std::vector<std::string> keys{key};
            std::vector<std::string> args{std::to_string(p.burst), std::to_string(p.limit),
                                          std::to_string(p.window.count() * 1000),
                                          std::to_string(now)};
            auto reply = co_await redis.eval(script, std::move(keys), std::move(args));
            EXPECT_EQ(reply.elements.size(), 2u) << reply.str;
            if (reply.elements.size() != 2u) {
                co_return;
            }
            auto remote = bucketDecision(p, p.limit, reply.elements[0].integer == 1,
                                         reply.elements[1].integer);
            auto mine = local.check(p, p.limit, "k", now);
            EXPECT_EQ(remote.allowed, mine.allowed) << "step " << i;
            EXPECT_EQ(remote.remaining, mine.remaining) << "step " << i;
            EXPECT_EQ(remote.reset_s, mine.reset_s) << "step " << i;
            admitted += remote.allowed ? 1 : 0;
        }
        EXPECT_GT(admitted, 50);
        auto ttl = co_await redis.call("PTTL", key);
        EXPECT_GT(ttl.integer, 0);
    });
}

}  // namespace
}  // namespace restinu::gateway
