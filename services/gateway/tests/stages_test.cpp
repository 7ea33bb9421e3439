// The gateway's Redis-backed stages alone, on a shard of their own against a real Redis
// (scripts/testenv.sh): the rate limit counts across loop threads and falls back to counting in
// process when Redis is unreachable; the idempotency stage locks, replays and releases a key.
#include <gtest/gtest.h>

#include <random>

#include "async_test.hpp"
#include "idempotency_stage.hpp"
#include "rate_limit_stage.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/service.hpp"
#include "restinu/rt/worker_pool.hpp"
#include "test_env.hpp"

namespace restinu::gateway {
namespace {

using namespace std::chrono_literals;
using restinu::testing::runAsync;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string unique(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return prefix + std::to_string(rng());
}

// A shard as one loop thread of the gateway has it.
struct TestShard {
    TestShard(boost::asio::io_context& io, std::uint16_t redis_port) : workers(1) {
        settings.redis_port = redis_port;
        shard = std::make_unique<rt::Shard>(io, 0, settings, metrics, workers);
    }
    rt::RuntimeSettings settings;
    rt::MetricsRegistry metrics;
    rt::WorkerPool workers;
    std::unique_ptr<rt::Shard> shard;
};

Settings gatewaySettings() {
    Settings s;
    s.redis_timeout = 200ms;
    return s;
}

// One request through the stage as the gateway's pipeline runs it: the lease, else a check.
rt::Task<std::optional<rt::Problem>> limit(RateLimitStage& stage, const RatePolicy& policy,
                                           const std::string& caller, Headers& headers) {
    auto key = policy.name + ":" + caller;
    auto d = stage.fromLease(key);
    if (!d) {
        d = co_await stage.check(policy, key);
    }
    co_return stage.verdict(policy, *d, headers);
}

TEST(RateLimitStage, CountsACallerAcrossLoopThreadsInRedis) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        auto settings = gatewaySettings();
        TestShard one(io, testenv::redisPort());
        TestShard two(io, testenv::redisPort());
        RateLimitStage a(*one.shard, settings);
        RateLimitStage b(*two.shard, settings);
        RatePolicy policy{unique("p"), 6, 60s};
        auto caller = unique("u:");
        int allowed = 0;
        std::optional<rt::Problem> refused;
        Headers headers;
        for (int i = 0; i < 10; ++i) {
            headers.clear();
            auto& stage = i % 2 == 0 ? a : b;
            auto verdict = co_await limit(stage, policy, caller, headers);
            if (verdict) {
                refused = verdict;
            } else {
                ++allowed;
            }
        }
        EXPECT_EQ(allowed, 6);  // the limit, not the limit per thread
        EXPECT_TRUE(refused);
        if (refused) {
            EXPECT_EQ(refused->type.status, 429);
        }
        auto has = [&](std::string_view name) {
            return std::any_of(headers.begin(), headers.end(),
                               [&](const auto& h) { return h.first == name; });
        };
        EXPECT_TRUE(has("RateLimit"));
        EXPECT_TRUE(has("RateLimit-Policy"));
        EXPECT_TRUE(has("Retry-After"));

        // Another caller has a budget of its own.
        headers.clear();
        auto other = co_await limit(a, policy, unique("u:"), headers);
        EXPECT_FALSE(other);
    });
}

TEST(RateLimitStage, LimitsInProcessWhenRedisIsUnreachable) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        auto settings = gatewaySettings();
        TestShard shard(io, 1);  // nothing listens on port 1
        RateLimitStage stage(*shard.shard, settings);
        RatePolicy policy{"down", 4, 60s};
        int allowed = 0;
        for (int i = 0; i < 7; ++i) {
            Headers headers;
            if (!co_await limit(stage, policy, "u:x", headers)) {
                ++allowed;
            }
        }
        EXPECT_EQ(allowed, 4);
        // Every one of the seven was decided in process (the first after its Redis call failed).
        auto text = shard.metrics.render();
        auto at = text.find("\nrestinu_gateway_limiter_local_total");
        EXPECT_NE(at, std::string::npos);
        if (at != std::string::npos) {
            auto line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
            EXPECT_EQ(line.substr(line.rfind(' ') + 1), "7") << line;
        }
    });
}

rt::Request post(std::string_view body) {
    rt::Request req;
    req.method = rt::Method::Post;
    req.method_name = "POST";
    req.target = "/api/v1/payments";
    req.path = req.target;
    req.body = body;
    req.request_id = "r1";
    return req;
}

TEST(IdempotencyStage, LocksRunsReplaysAndReleasesAKey) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        auto settings = gatewaySettings();
        TestShard shard(io, testenv::redisPort());
        IdempotencyStage stage(*shard.shard, settings);
        auto caller = unique("u:");
        auto first = post("{\"amount\":100}");

        auto begun = co_await stage.begin(first, caller, "k1");
        EXPECT_TRUE(std::holds_alternative<IdempotencyStage::Claim>(begun));
        if (!std::holds_alternative<IdempotencyStage::Claim>(begun)) {
            co_return;
        }
        auto claim = std::get<IdempotencyStage::Claim>(begun);

        // While it runs, a repeat is told to wait; another request under the key is refused.
        auto running = co_await stage.begin(first, caller, "k1");
        EXPECT_EQ(std::get<rt::Response>(running).status, 409);
        auto other = post("{\"amount\":999}");
        auto reused = co_await stage.begin(other, caller, "k1");
        EXPECT_EQ(std::get<rt::Response>(reused).status, 422);

        rt::Response created(201, "application/json", "{\"id\":\"p1\"}");
        created.headers.emplace_back("Location", "/api/v1/payments/p1");
        co_await stage.finish(claim, created, "r1");
        auto replay = co_await stage.begin(first, caller, "k1");
        auto& replayed = std::get<rt::Response>(replay);
        EXPECT_EQ(replayed.status, 201);
        EXPECT_EQ(replayed.body, "{\"id\":\"p1\"}");
        EXPECT_EQ(replayed.header("Location"), "/api/v1/payments/p1");
        EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");

        // Another caller's same key is another key.
        auto theirs = co_await stage.begin(first, unique("u:"), "k1");
        EXPECT_TRUE(std::holds_alternative<IdempotencyStage::Claim>(theirs));

        // A 5xx releases the key: the retry runs.
        auto second = co_await stage.begin(first, caller, "k2");
        auto claim2 = std::get<IdempotencyStage::Claim>(second);
        co_await stage.finish(claim2, rt::Response(503, "application/problem+json", "{}"), "r2");
        auto retry = co_await stage.begin(first, caller, "k2");
        EXPECT_TRUE(std::holds_alternative<IdempotencyStage::Claim>(retry));
    });
}

TEST(IdempotencyStage, RefusesRatherThanRiskADuplicateWhenRedisIsDown) {
    runAsync([](boost::asio::io_context& io) -> rt::Task<void> {
        auto settings = gatewaySettings();
        TestShard shard(io, 1);
        IdempotencyStage stage(*shard.shard, settings);
        auto req = post("{}");
        auto begun = co_await stage.begin(req, "u:x", "k");
        EXPECT_TRUE(std::holds_alternative<rt::Response>(begun));
        if (auto* res = std::get_if<rt::Response>(&begun)) {
            EXPECT_EQ(res->status, 503);
            EXPECT_EQ(res->header("Retry-After"), "1");
        }
    });
}

}  // namespace
}  // namespace restinu::gateway
