#include "balancer.hpp"

#include <gtest/gtest.h>

#include <map>

namespace restinu::gateway {
namespace {

using namespace std::chrono_literals;

std::vector<Upstream> hosts(int n) {
    std::vector<Upstream> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(Upstream{"127.0.0.1", static_cast<std::uint16_t>(9000 + i)});
    }
    return out;
}

OutlierPolicy policy() {
    OutlierPolicy p;
    p.consecutive_failures = 3;
    p.base_ejection = 10s;
    p.max_ejection = 25s;
    p.max_ejection_percent = 50;
    p.unhealthy_threshold = 2;
    p.healthy_threshold = 1;
    p.max_requests = 100;
    return p;
}

TEST(P2C, PrefersTheInstanceWithFewerRequestsInFlight) {
    Pool pool(hosts(2), policy(), 42);
    auto now = Clock::now();
    for (int i = 0; i < 5; ++i) {
        pool.started(0);
    }
    // With two instances both are always the two choices: the idle one wins every time.
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(pool.pick(now, {}), 1u);
    }
}

TEST(P2C, SpreadsLoadAndNeverPicksTheBusiestOfThree) {
    Pool pool(hosts(3), policy(), 7);
    auto now = Clock::now();
    for (int i = 0; i < 10; ++i) {
        pool.started(2);
    }
    std::map<std::size_t, int> seen;
    for (int i = 0; i < 300; ++i) {
        ++seen[*pool.pick(now, {})];
    }
    EXPECT_EQ(seen[2], 0);  // it loses against whichever other instance it is paired with
    EXPECT_GT(seen[0], 50);
    EXPECT_GT(seen[1], 50);
}

TEST(P2C, SkipsInstancesAlreadyTriedWhileOthersRemain) {
    Pool pool(hosts(3), policy(), 1);
    auto now = Clock::now();
    for (int i = 0; i < 20; ++i) {
        auto p = pool.pick(now, {0, 1});
        EXPECT_EQ(p, 2u);
    }
    // Everything tried: a second try on one of them beats giving up.
    EXPECT_TRUE(pool.pick(now, {0, 1, 2}).has_value());
}

TEST(Outlier, EjectsAfterConsecutiveFailuresAndReadmitsAfterTheEjectionTime) {
    Pool pool(hosts(2), policy(), 3);
    auto t0 = Clock::now();
    for (int i = 0; i < 2; ++i) {
        pool.started(0);
        pool.finished(0, Outcome::ConnectFailure, t0);
    }
    EXPECT_FALSE(pool.host(0).ejected(t0));
    pool.started(0);
    pool.finished(0, Outcome::Failure, t0);  // the third in a row
    EXPECT_TRUE(pool.host(0).ejected(t0));
    EXPECT_EQ(pool.available(t0), 1u);
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(pool.pick(t0 + 9s, {}), 1u);
    }
    // Timed re-admission.
    EXPECT_FALSE(pool.host(0).ejected(t0 + 10s));
    EXPECT_EQ(pool.available(t0 + 10s), 2u);
}

TEST(Outlier, ASuccessResetsTheStreak) {
    Pool pool(hosts(2), policy(), 3);
    auto t0 = Clock::now();
    for (auto o : {Outcome::Failure, Outcome::Failure, Outcome::Success, Outcome::Failure,
                   Outcome::Failure}) {
        pool.started(0);
        pool.finished(0, o, t0);
    }
    EXPECT_FALSE(pool.host(0).ejected(t0));
}

TEST(Outlier, RepeatedEjectionsLastLongerUpToTheMaximum) {
    Pool pool(hosts(2), policy(), 3);
    auto t = Clock::now();
    auto fail3 = [&](Clock::time_point at) {
        for (int i = 0; i < 3; ++i) {
            pool.started(0);
            pool.finished(0, Outcome::Failure, at);
        }
    };
    fail3(t);
    EXPECT_EQ(pool.host(0).ejected_until, t + 10s);
    t += 10s;
    fail3(t);
    EXPECT_EQ(pool.host(0).ejected_until, t + 20s);
    t += 20s;
    fail3(t);
    EXPECT_EQ(pool.host(0).ejected_until, t + 25s);  // capped
}

TEST(Outlier, NeverEjectsMoreThanTheAllowedShare) {
    Pool pool(hosts(2), policy(), 3);
    auto t0 = Clock::now();
    for (std::size_t h : {0u, 1u}) {
        for (int i = 0; i < 3; ++i) {
            pool.started(h);
            pool.finished(h, Outcome::ConnectFailure, t0);
        }
    }
    EXPECT_TRUE(pool.host(0).ejected(t0));
    EXPECT_FALSE(pool.host(1).ejected(t0));  // 50% of two: one
}

TEST(Outlier, WithEveryInstanceUnusableItPanicsAndStillPicks) {
    Pool pool(hosts(2), policy(), 3);
    auto t0 = Clock::now();
    for (int round = 0; round < 2; ++round) {
        pool.healthChecked(0, false, t0);
        pool.healthChecked(1, false, t0);
    }
    EXPECT_EQ(pool.available(t0), 0u);
    EXPECT_TRUE(pool.pick(t0, {}).has_value());
}

TEST(HealthChecks, MarkUnhealthyAfterTheThresholdAndHealthyAgainLiftingAnEjection) {
    Pool pool(hosts(2), policy(), 3);
    auto t0 = Clock::now();
    for (int i = 0; i < 3; ++i) {
        pool.started(0);
        pool.finished(0, Outcome::ConnectFailure, t0);
    }
    ASSERT_TRUE(pool.host(0).ejected(t0 + 1s));
    pool.healthChecked(0, false, t0 + 1s);
    EXPECT_TRUE(pool.host(0).healthy);  // one failed check is not enough
    pool.healthChecked(0, false, t0 + 2s);
    EXPECT_FALSE(pool.host(0).healthy);
    pool.healthChecked(0, true, t0 + 3s);
    EXPECT_TRUE(pool.host(0).healthy);
    EXPECT_FALSE(pool.host(0).ejected(t0 + 3s));  // back before the 10 s ejection ends
    EXPECT_EQ(pool.available(t0 + 3s), 2u);
}

TEST(Breaker, AnInstanceAtItsLimitGetsNothingAndAFullPoolNothingAtAll) {
    auto p = policy();
    p.max_requests = 2;
    Pool pool(hosts(2), p, 3);
    auto now = Clock::now();
    pool.started(0);
    pool.started(0);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(pool.pick(now, {}), 1u);
    }
    pool.started(1);
    pool.started(1);
    EXPECT_FALSE(pool.pick(now, {}).has_value());
    pool.finished(1, Outcome::Success, now);
    EXPECT_EQ(pool.pick(now, {}), 1u);
}

TEST(RetryBudget, AllowsTheMinimumThenAShareOfTheRequestsInFlight) {
    RetryBudget b(20, 3);
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(b.tryRetry());
    }
    EXPECT_FALSE(b.tryRetry());  // few requests in flight: the minimum of 3 applies
    for (int i = 0; i < 50; ++i) {
        b.requestStarted();
    }
    // 20% of 50 = 10 retries at once.
    for (int i = 0; i < 7; ++i) {
        EXPECT_TRUE(b.tryRetry());
    }
    EXPECT_FALSE(b.tryRetry());
    b.retryFinished();
    EXPECT_TRUE(b.tryRetry());
    EXPECT_EQ(b.activeRetries(), 10);
}

TEST(RetryPermit, EveryPermitIsGivenBackHoweverTheRequestEnds) {
    RetryBudget b(20, 3);
    {
        BudgetedRequest request(b);
        EXPECT_EQ(b.activeRequests(), 1);
        auto first = RetryPermit::take(b);
        EXPECT_TRUE(first);
        EXPECT_EQ(b.activeRetries(), 1);
        first.release();
        first.release();  // twice is once
        EXPECT_EQ(b.activeRetries(), 0);
        auto held = RetryPermit::take(b);
        auto moved = std::move(held);
        EXPECT_FALSE(held);  // NOLINT(bugprone-use-after-move): a moved-from permit is empty
        EXPECT_EQ(b.activeRetries(), 1);
        moved = RetryPermit::take(b);  // the old slot is given back, a new one taken
        EXPECT_EQ(b.activeRetries(), 1);
        // Left in scope while the request ends early (an exception, a co_return).
    }
    EXPECT_EQ(b.activeRequests(), 0);
    EXPECT_EQ(b.activeRetries(), 0);

    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(b.tryRetry());
    }
    auto refused = RetryPermit::take(b);
    EXPECT_FALSE(refused);
    refused.release();
    EXPECT_EQ(b.activeRetries(), 3);  // an empty permit gives back nothing
}

}  // namespace
}  // namespace restinu::gateway
