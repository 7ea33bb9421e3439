#include "limiter.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace restinu::gateway {
namespace {

using namespace std::chrono_literals;

// Drives the local limiter (the same algorithm as the Lua script) with traffic at `rate` per
// second from `start_ms`, and returns the admitted times.
std::vector<std::int64_t> drive(LocalLimiter& l, const RatePolicy& p, double rate,
                                std::int64_t start_ms, std::int64_t duration_ms) {
    std::vector<std::int64_t> admitted;
    for (double t = 0; t < static_cast<double>(duration_ms); t += 1000.0 / rate) {
        auto now = start_ms + static_cast<std::int64_t>(t);
        if (l.check(p, p.limit, "k", now).allowed) {
            admitted.push_back(now);
        }
    }
    return admitted;
}

// The most admitted requests in any window (t − w, t].
std::size_t worstWindow(const std::vector<std::int64_t>& admitted, std::int64_t window_ms) {
    std::size_t worst = 0;
    std::deque<std::int64_t> in;
    for (auto t : admitted) {
        in.push_back(t);
        while (in.front() <= t - window_ms) {
            in.pop_front();
        }
        worst = std::max(worst, in.size());
    }
    return worst;
}

TEST(SlidingWindow, NeverMoreThanTheLimitInAnyWindowWhateverThePhase) {
    std::mt19937 rng(5);
    for (int run = 0; run < 50; ++run) {
        LocalLimiter l;
        RatePolicy p{"t", 20, 2s};
        auto start = 1'000'000 + static_cast<std::int64_t>(rng() % 2000);
        auto rate = 5.0 + static_cast<double>(rng() % 60);  // 5 to 64 per second against 10
        auto admitted = drive(l, p, rate, start, 10'000);
        EXPECT_LE(worstWindow(admitted, 2000), 20u) << "rate " << rate << " start " << start;
        if (rate >= 12) {
            // It admits close to the limit: at least limit per (window + one sub-window).
            EXPECT_GE(admitted.size(), 20u * 10'000 / 2200 - 1) << "rate " << rate;
        }
    }
}

TEST(SlidingWindow, NoDoubleBurstAcrossAWindowBoundary) {
    // The fixed-window flaw: a full burst just before a boundary and another just after.
    LocalLimiter l;
    RatePolicy p{"t", 20, 2s};
    int ok = 0;
    for (int i = 0; i < 20; ++i) {
        ok += l.check(p, 20, "k", 1'001'900 + i).allowed ? 1 : 0;
    }
    for (int i = 0; i < 20; ++i) {
        ok += l.check(p, 20, "k", 1'002'050 + i).allowed ? 1 : 0;
    }
    EXPECT_EQ(ok, 20);
}

TEST(SlidingWindow, HeadersCountDownAndRetryAfterIsWhenTheOldestCountersLeave) {
    LocalLimiter l;
    RatePolicy p{"default", 5, 10s};  // sub-windows of 1 s
    std::int64_t t = 1'000'000'500;   // half-way through a sub-window
    for (int i = 4; i >= 0; --i) {
        auto d = l.check(p, 5, "k", t);
        EXPECT_TRUE(d.allowed);
        EXPECT_EQ(d.remaining, i);
    }
    auto d = l.check(p, 5, "k", t);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.remaining, 0);
    // Counted in the current sub-window, which leaves the window 10 sub-windows after it ends:
    // 0.5 s + 10 s, rounded up.
    EXPECT_EQ(d.reset_s, 11);
    EXPECT_FALSE(l.check(p, 5, "k", t + 10'400).allowed);
    EXPECT_TRUE(l.check(p, 5, "k", t + 10'500).allowed);
    EXPECT_EQ(rateLimitPolicyHeader(p), "\"default\";q=5;w=10");
    EXPECT_EQ(rateLimitHeader(p, d), "\"default\";r=0;t=11");
}

TEST(SlidingWindow, DecisionFromCounters) {
    RatePolicy p{"t", 10, 10s};
    std::vector<std::int64_t> counts(11, 0);
    counts[0] = 3;  // the oldest sub-window, partly outside the window: still counted
    counts[5] = 6;
    counts[10] = 1;  // the current one
    auto d = windowDecision(p, 10, true, counts, 5'000'250);
    EXPECT_EQ(d.remaining, 0);
    EXPECT_EQ(d.reset_s, 1);  // 750 ms until the oldest leaves and frees 3
    counts[10] = 0;
    d = windowDecision(p, 10, true, counts, 5'000'250);
    EXPECT_EQ(d.remaining, 1);
}

TEST(LocalLimiter, KeysAreIndependentAndBounded) {
    LocalLimiter l(4);
    RatePolicy p{"t", 2, 60s};
    EXPECT_TRUE(l.check(p, 2, "a", 0).allowed);
    EXPECT_TRUE(l.check(p, 2, "a", 1).allowed);
    EXPECT_FALSE(l.check(p, 2, "a", 2).allowed);
    EXPECT_TRUE(l.check(p, 2, "b", 3).allowed);
    for (int i = 0; i < 10; ++i) {
        l.check(p, 2, "k" + std::to_string(i), 4);
    }
    EXPECT_LE(l.size(), 4u);
}

TEST(TokenBucket, AllowsABurstThenTheSustainedRate) {
    LocalLimiter l;
    RatePolicy p{"b", 10, 10s};  // one token per second
    p.burst = 5;
    std::int64_t t = 1'000'000'000;
    for (int i = 4; i >= 0; --i) {
        auto d = l.check(p, 10, "k", t);
        EXPECT_TRUE(d.allowed);
        EXPECT_EQ(d.remaining, i);
    }
    auto d = l.check(p, 10, "k", t);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reset_s, 1);  // the next token in one second
    EXPECT_FALSE(l.check(p, 10, "k", t + 999).allowed);
    EXPECT_TRUE(l.check(p, 10, "k", t + 1000).allowed);
    // Over a long run: the burst plus the rate, never more.
    int ok = 0;
    for (std::int64_t ms = 1001; ms <= 60'000; ms += 100) {
        ok += l.check(p, 10, "k", t + ms).allowed ? 1 : 0;
    }
    EXPECT_EQ(ok, 58);  // a token a second: at 2.001 s, 3.001 s ... 59.001 s
    // Idle for long enough, the bucket is full again, and no fuller.
    for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(l.check(p, 10, "k", t + 600'000).allowed);
    }
    EXPECT_FALSE(l.check(p, 10, "k", t + 600'000).allowed);
}

}  // namespace
}  // namespace restinu::gateway

namespace restinu::gateway {
namespace {

// Redis as the lease book sees it (one window, never sliding): takes back what an expired
// lease did not use, then admits up to what is left of the limit.
struct FakeRedis {
    std::int64_t limit;
    std::int64_t used = 0;
    int calls = 0;
    std::int64_t admit(const LeaseBook::Ask& ask) {
        ++calls;
        used -= std::min(used, ask.give_back);
        auto n = std::max<std::int64_t>(0, std::min(ask.permits, limit - used));
        used += n;
        return n;
    }
};

// One request through the book: a permit from the lease, or an ask to Redis.
RateDecision leased(LeaseBook& book, FakeRedis& redis, const RatePolicy& p,
                    LeaseBook::Clock::time_point now) {
    if (auto d = book.take("k", now)) {
        return *d;
    }
    auto ask = book.want(p, "k", now);
    auto admitted = redis.admit(ask);
    return book.granted(p, "k", admitted, RateDecision{admitted > 0, redis.limit - redis.used, 30},
                        now);
}

TEST(LeaseBook, ABusyCallerLeasesPermitsAndTheHeadersStillCountDownByOne) {
    RatePolicy p{"search", 10'000, 60s};
    LeaseBook book;
    FakeRedis redis{p.limit};
    auto now = LeaseBook::Clock::now();
    std::int64_t allowed = 0;
    int calls_to_the_limit = 0;
    for (int i = 0; i < 20'000; ++i) {
        auto d = leased(book, redis, p, now);
        if (d.allowed) {
            ++allowed;
            ASSERT_EQ(d.remaining, p.limit - allowed) << "request " << i;
            calls_to_the_limit = redis.calls;
        }
    }
    EXPECT_EQ(allowed, p.limit);  // every permit Redis granted was used, none beyond it
    EXPECT_EQ(redis.used, p.limit);
    EXPECT_EQ(LeaseBook::maxLease(p), 200);
    // About one call per 200 requests while there is quota; each refusal asks again (quota
    // may have freed up).
    EXPECT_LT(calls_to_the_limit, 10'000 / 200 + 20);
    EXPECT_EQ(redis.calls, calls_to_the_limit + 10'000);
}

TEST(LeaseBook, BelowALimitOfOneHundredEveryRequestAsksForOnePermit) {
    RatePolicy p{"login", 99, 60s};
    LeaseBook book;
    FakeRedis redis{p.limit};
    auto now = LeaseBook::Clock::now();
    for (int i = 0; i < 150; ++i) {
        leased(book, redis, p, now);
    }
    EXPECT_EQ(redis.calls, 150);
    EXPECT_EQ(redis.used, 99);
}

TEST(LeaseBook, MissesWhileALeaseIsInFlightAskForOne) {
    RatePolicy p{"search", 100'000, 60s};
    LeaseBook book;
    auto now = LeaseBook::Clock::now();
    // Grow the lease first.
    FakeRedis redis{p.limit};
    for (int i = 0; i < 100; ++i) {
        leased(book, redis, p, now);
    }
    while (book.take("k", now)) {
    }
    EXPECT_FALSE(book.asking("k"));
    auto first = book.want(p, "k", now).permits;
    EXPECT_GT(first, 1);
    EXPECT_TRUE(book.asking("k"));  // a miss now waits for this ask (the gateway's coalescing)
    EXPECT_FALSE(book.asking("other"));
    EXPECT_EQ(book.want(p, "k", now).permits, 1);  // the first ask has not come back
    book.failed("k");
    EXPECT_TRUE(book.asking("k"));
    book.failed("k");
    EXPECT_FALSE(book.asking("k"));
    EXPECT_EQ(book.want(p, "k", now).permits, first);  // nothing in flight now
    book.granted(p, "k", first, RateDecision{true, 10, 1}, now);
    EXPECT_FALSE(book.asking("k"));
    EXPECT_TRUE(book.take("k", now));  // the waiters find the permits it brought
}

// A caller well below its limit but quick enough to be leased permits: the permits its leases
// did not use go back, so it is never refused (before, each expired lease wasted its rest, and
// a caller at half the limit was refused within seconds).
TEST(LeaseBook, UnusedPermitsGoBackAndASteadyCallerBelowTheLimitIsNeverRefused) {
    RatePolicy p{"search", 1200, 60s};  // 20 a second; leases up to 24, living 200 ms
    ASSERT_EQ(LeaseBook::maxLease(p), 24);
    LeaseBook book;
    FakeRedis redis{p.limit};
    auto now = LeaseBook::Clock::now();
    int refused = 0;
    for (int i = 0; i < 1100; ++i) {  // 10 a second for 110 s, all counted in one window
        now += 100ms;
        if (!leased(book, redis, p, now).allowed) {
            ++refused;
        }
    }
    EXPECT_EQ(refused, 0);
    // Redis counts what was used, give or take the one lease still running.
    EXPECT_LE(redis.used, 1100 + LeaseBook::maxLease(p));
    EXPECT_GE(redis.used, 1100);
}

TEST(LeaseBook, AnExpiredLeaseGivesItsRestBackWithTheNextAsk) {
    RatePolicy p{"search", 100'000, 60s};
    LeaseBook book;
    auto now = LeaseBook::Clock::now();
    auto a = book.want(p, "k", now);
    EXPECT_EQ(a.give_back, 0);
    book.granted(p, "k", 10, RateDecision{true, 50, 1}, now, 7);
    ASSERT_TRUE(book.take("k", now));                       // 8 left after the asker's and this one
    EXPECT_FALSE(book.take("k", now + 200ms).has_value());  // expired
    auto b = book.want(p, "k", now + 200ms);
    EXPECT_EQ(b.give_back, 8);
    EXPECT_EQ(b.give_back_bucket, 7);
    book.failed("k");
    EXPECT_EQ(book.want(p, "k", now + 300ms).give_back, 0);  // given once only
}

TEST(LeaseBook, PermitsExpireWithTheirLease) {
    RatePolicy p{"search", 100'000, 60s};  // a sub-window of 6 s: leases live 200 ms
    EXPECT_EQ(LeaseBook::lifetime(p), std::chrono::milliseconds(200));
    LeaseBook book;
    FakeRedis redis{p.limit};
    auto now = LeaseBook::Clock::now();
    for (int i = 0; i < 100; ++i) {
        leased(book, redis, p, now);
    }
    ASSERT_TRUE(book.take("k", now + 199ms).has_value());
    EXPECT_FALSE(book.take("k", now + 200ms).has_value());
    // A caller that comes back later starts smaller.
    auto later = now + 10s;
    auto before = redis.used;
    leased(book, redis, p, later);
    auto after_one = redis.used - before;
    EXPECT_GE(after_one, 1);
    EXPECT_LE(after_one, LeaseBook::maxLease(p) / 2);
}

}  // namespace
}  // namespace restinu::gateway
