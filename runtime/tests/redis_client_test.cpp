#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "restinu/rt/metrics.hpp"
#include "restinu/rt/redis.hpp"
#include "test_env.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

/// Runs `body(io)` on a fresh io_context on this thread. The context must run out of work by
/// itself once the body returns: a background coroutine left behind by a client is a failure.
void runIo(const std::function<Task<void>(net::io_context&)>& body,
           std::chrono::seconds limit = 60s) {
    net::io_context io;
    std::exception_ptr error;
    bool finished = false;
    net::co_spawn(io, body(io), [&](std::exception_ptr e) {
        error = e;
        finished = true;
    });
    io.run_for(limit);
    ASSERT_TRUE(finished) << "the test coroutine did not finish within " << limit.count() << " s";
    EXPECT_TRUE(io.stopped()) << "work was left on the io_context after the test returned";
    if (error) {
        std::rethrow_exception(error);
    }
}

Task<void> sleepFor(std::chrono::milliseconds d) {
    net::steady_timer t(co_await net::this_coro::executor, d);
    co_await t.async_wait(net::use_awaitable);
}

Task<bool> waitUntil(std::function<bool()> pred, std::chrono::milliseconds limit) {
    const auto deadline = SteadyClock::now() + limit;
    while (!pred()) {
        if (SteadyClock::now() > deadline) {
            co_return false;
        }
        co_await sleepFor(5ms);
    }
    co_return true;
}

std::string uniqueKey(std::string_view what) {
    static int n = 0;
    return "restinu:test:" + std::to_string(::getpid()) + ":" +
           std::to_string(SteadyClock::now().time_since_epoch().count()) + ":" +
           std::to_string(++n) + ":" + std::string(what);
}

RedisOptions testOptions(std::string name = "test") {
    RedisOptions o;
    o.port = testenv::redisPort();
    o.name = std::move(name);
    return o;
}

/// A loopback port where nothing listens (bound, then released).
std::uint16_t closedPort() {
    net::io_context io;
    net::ip::tcp::acceptor a(io, {net::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

TEST(RedisClient, SetGetIncrNilAndErrorReplies) {
    runIo([](net::io_context& io) -> Task<void> {
        Redis redis(io, testOptions());
        const auto key = uniqueKey("str");
        const auto counter = uniqueKey("counter");
        const std::string binary("a\0b\r\nc", 6);

        auto set = co_await redis.call("SET", key, binary, "EX", "60");
        EXPECT_EQ(set.type, RedisReply::Type::Status);
        EXPECT_EQ(set.str, "OK");

        auto get = co_await redis.call("GET", key);
        EXPECT_EQ(get.type, RedisReply::Type::String);
        EXPECT_EQ(get.str, binary);

        auto missing = co_await redis.call("GET", uniqueKey("missing"));
        EXPECT_TRUE(missing.isNil());

        auto one = co_await redis.call("INCR", counter);
        EXPECT_EQ(one.type, RedisReply::Type::Integer);
        EXPECT_EQ(one.integer, 1);
        auto two = co_await redis.call("INCRBY", counter, "41");
        EXPECT_EQ(two.integer, 42);

        auto not_int = co_await redis.call("INCR", key);
        EXPECT_TRUE(not_int.isError());
        EXPECT_NE(not_int.str.find("not an integer"), std::string::npos) << not_int.str;

        auto unknown = co_await redis.call("NOSUCHCOMMAND", "x");
        EXPECT_TRUE(unknown.isError());
        EXPECT_TRUE(redis.connected()) << "an error reply must not drop the connection";

        co_await redis.ping();
        co_await redis.call("DEL", key, counter);
    });
}

std::int64_t infoField(const RedisReply& info, std::string_view field) {
    const auto at = info.str.find(std::string(field) + ":");
    if (at == std::string::npos) {
        return -1;
    }
    return std::stoll(info.str.substr(at + field.size() + 1));
}

TEST(RedisClient, ThousandConcurrentIncrementsShareOneConnection) {
    MetricsRegistry metrics;
    runIo([&](net::io_context& io) -> Task<void> {
        Redis observer(io, testOptions("observer"));
        const auto before =
            infoField(co_await observer.call("INFO", "stats"), "total_connections_received");

        Redis redis(io, testOptions("incr"), &metrics);
        const auto key = uniqueKey("concurrent");
        constexpr int kCoroutines = 1000;
        int finished = 0;
        int failed = 0;
        std::vector<bool> seen(kCoroutines + 1, false);
        // All are spawned before any runs: they queue up while the first connect is in flight
        // and then go out pipelined on that one connection.
        for (int i = 0; i < kCoroutines; ++i) {
            net::co_spawn(
                io,
                [&]() -> Task<void> {
                    auto r = co_await redis.call("INCR", key);
                    if (r.type == RedisReply::Type::Integer && r.integer >= 1 &&
                        r.integer <= kCoroutines && !seen[static_cast<std::size_t>(r.integer)]) {
                        seen[static_cast<std::size_t>(r.integer)] = true;
                    } else {
                        ++failed;
                    }
                },
                [&](std::exception_ptr e) {
                    if (e) {
                        ++failed;
                    }
                    ++finished;
                });
        }
        EXPECT_TRUE(co_await waitUntil([&] { return finished == kCoroutines; }, 20s));
        EXPECT_EQ(failed, 0) << "every INCR returns a distinct value in 1..1000";
        auto total = co_await redis.call("GET", key);
        EXPECT_EQ(total.str, "1000");

        const auto after =
            infoField(co_await observer.call("INFO", "stats"), "total_connections_received");
        EXPECT_EQ(after - before, 1) << "the 1,000 commands must share one connection";

        auto& ok = metrics.counter("restinu_redis_commands_total", "", {}).labels({"incr", "ok"});
        EXPECT_EQ(ok.value(), 1001u);
        auto& up = metrics.gauge("restinu_redis_connected", "", {}).labels({"incr"});
        EXPECT_EQ(up.value(), 1.0);
        co_await redis.call("DEL", key);
        redis.close();
        EXPECT_EQ(up.value(), 0.0);
    });
    const auto text = metrics.render();
    EXPECT_NE(text.find("restinu_redis_command_duration_seconds_count{client=\"incr\"} 1002"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("restinu_redis_commands_total{client=\"incr\",outcome=\"ok\"} 1002"),
              std::string::npos)
        << text;
}

TEST(RedisClient, PipelineReturnsRepliesInOrder) {
    runIo([](net::io_context& io) -> Task<void> {
        Redis redis(io, testOptions());
        const auto key = uniqueKey("pipe");
        const auto list = uniqueKey("list");
        std::vector<std::vector<std::string>> batch{
            {"SET", key, "10"},
            {"INCRBY", key, "5"},
            {"GET", key},
            {"HGET", key, "field"},  // wrong type: an error reply in the middle
            {"RPUSH", list, "a", "b", "c"},
            {"LRANGE", list, "0", "-1"},
            {"GET", uniqueKey("none")},
            {"DEL", key, list},
        };
        auto replies = co_await redis.pipeline(std::move(batch));
        EXPECT_EQ(replies.size(), 8u);
        if (replies.size() != 8u) {
            co_return;
        }
        EXPECT_EQ(replies[0].str, "OK");
        EXPECT_EQ(replies[1].integer, 15);
        EXPECT_EQ(replies[2].str, "15");
        EXPECT_TRUE(replies[3].isError());
        EXPECT_EQ(replies[4].integer, 3);
        EXPECT_EQ(replies[5].type, RedisReply::Type::Array);
        EXPECT_EQ(replies[5].elements.size(), 3u);
        if (replies[5].elements.size() == 3u) {
            EXPECT_EQ(replies[5].elements[0].str, "a");
            EXPECT_EQ(replies[5].elements[2].str, "c");
        }
        EXPECT_TRUE(replies[6].isNil());
        EXPECT_EQ(replies[7].integer, 2);

        // Pipelines and single commands issued together keep their own order.
        std::vector<std::int64_t> seen;
        int done = 0;
        for (int i = 0; i < 5; ++i) {
            net::co_spawn(
                io,
                [&]() -> Task<void> {
                    std::vector<std::vector<std::string>> two{{"INCR", key}, {"INCR", key}};
                    auto r = co_await redis.pipeline(std::move(two));
                    seen.push_back(r.at(1).integer - r.at(0).integer);
                },
                [&](std::exception_ptr e) {
                    EXPECT_FALSE(e);
                    ++done;
                });
        }
        EXPECT_TRUE(co_await waitUntil([&] { return done == 5; }, 5s));
        EXPECT_EQ(seen, std::vector<std::int64_t>(5, 1));
        co_await redis.call("DEL", key);
    });
}

TEST(RedisClient, EvalShaLoadsTheScriptAgainAfterScriptFlush) {
    runIo([](net::io_context& io) -> Task<void> {
        Redis redis(io, testOptions());
        const auto key = uniqueKey("eval");
        const RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");

        co_await redis.call("SCRIPT", "FLUSH");
        // Named vectors: GCC 12 rejects braced lists of strings inside co_await.
        const std::vector<std::string> keys{key};
        const std::vector<std::string> five{"5"};
        const std::vector<std::string> seven{"7"};
        auto first = co_await redis.eval(script, keys, five);
        EXPECT_EQ(first.type, RedisReply::Type::Integer);
        EXPECT_EQ(first.integer, 5);

        auto exists = co_await redis.call("SCRIPT", "EXISTS", script.sha1());
        EXPECT_EQ(exists.elements.size(), 1u);
        if (!exists.elements.empty()) {
            EXPECT_EQ(exists.elements[0].integer, 1) << "SCRIPT LOAD must use our SHA-1";
        }

        co_await redis.call("SCRIPT", "FLUSH");
        auto second = co_await redis.eval(script, keys, seven);
        EXPECT_EQ(second.integer, 12);

        const RedisScript failing("return redis.error_reply('NOPE broken')");
        auto err = co_await redis.eval(failing, {}, {});
        EXPECT_TRUE(err.isError());
        EXPECT_EQ(err.str, "NOPE broken");
        co_await redis.call("DEL", key);
    });
}

TEST(RedisPubSub, SubscriberReceivesPublishedMessagesInOrder) {
    runIo([](net::io_context& io) -> Task<void> {
        Redis redis(io, testOptions("publisher"));
        RedisSubscriber sub(io, testOptions("subscriber"));
        const auto channel = uniqueKey("chan");
        const auto other = uniqueKey("other");
        std::vector<std::string> got;
        std::vector<std::string> got_other;
        sub.subscribe({channel}, [&](std::string_view ch, std::string_view msg) {
            EXPECT_EQ(ch, channel);
            got.emplace_back(msg);
        });
        EXPECT_FALSE(sub.subscribed());
        sub.start();
        EXPECT_TRUE(co_await waitUntil([&] { return sub.subscribed(); }, 5s));

        std::vector<std::string> sent;
        for (int i = 0; i < 100; ++i) {
            sent.push_back("message-" + std::to_string(i));
            auto n = co_await redis.call("PUBLISH", channel, sent.back());
            EXPECT_EQ(n.integer, 1);
        }
        EXPECT_TRUE(co_await waitUntil([&] { return got.size() >= sent.size(); }, 5s));
        EXPECT_EQ(got, sent);

        // A channel added to a running subscriber.
        sub.subscribe({other},
                      [&](std::string_view, std::string_view msg) { got_other.emplace_back(msg); });
        EXPECT_TRUE(co_await waitUntil([&] { return sub.subscribed(); }, 5s));
        co_await redis.call("PUBLISH", other, "late");
        EXPECT_TRUE(co_await waitUntil([&] { return !got_other.empty(); }, 5s));
        EXPECT_EQ(got_other, std::vector<std::string>{"late"});

        sub.stop();
        EXPECT_FALSE(sub.subscribed());
        redis.close();
    });
}

TEST(RedisRecovery, ClientAndSubscriberRecoverAfterRedisRestarts) {
    runIo([](net::io_context& io) -> Task<void> {
        auto opts = testOptions("restart");
        opts.connect_timeout = 1000ms;
        opts.command_timeout = 1000ms;
        Redis redis(io, opts);
        RedisSubscriber sub(io, opts);
        const auto key = uniqueKey("restart");
        const auto channel = uniqueKey("restart-chan");
        std::vector<std::string> got;
        sub.subscribe({channel},
                      [&](std::string_view, std::string_view msg) { got.emplace_back(msg); });
        sub.start();
        EXPECT_TRUE(co_await waitUntil([&] { return sub.subscribed(); }, 5s));
        EXPECT_EQ((co_await redis.call("SET", key, "before")).str, "OK");

        // The restart script blocks, so it runs on its own thread while this loop keeps going.
        std::atomic<bool> restarted{false};
        int rc = -1;
        std::thread restarter([&] {
            rc = testenv::restartRedis();
            restarted = true;
        });
        int failures = 0;
        while (!restarted) {
            try {
                co_await redis.call("PING");
            } catch (const RedisError& e) {
                ++failures;
                EXPECT_TRUE(e.kind() == RedisError::Kind::Connection ||
                            e.kind() == RedisError::Kind::Timeout)
                    << e.what();
            }
            co_await sleepFor(20ms);
        }
        restarter.join();
        EXPECT_EQ(rc, 0);
        std::cout << "[ info     ] commands that failed while Redis was down: " << failures << "\n";

        // Redis is back (and empty: it runs without persistence). The same object answers.
        auto set = co_await redis.call("SET", key, "after");
        EXPECT_EQ(set.str, "OK");
        EXPECT_EQ((co_await redis.call("GET", key)).str, "after");
        co_await redis.ping();

        EXPECT_TRUE(co_await waitUntil([&] { return sub.subscribed(); }, 10s));
        auto receivers = co_await redis.call("PUBLISH", channel, "after-restart");
        EXPECT_EQ(receivers.integer, 1);
        EXPECT_TRUE(co_await waitUntil([&] { return !got.empty(); }, 5s));
        EXPECT_EQ(got, std::vector<std::string>{"after-restart"});
        co_await redis.call("DEL", key);
        sub.stop();
    });
}

TEST(RedisClient, CommandTimeoutFailsAndTheClientRecovers) {
    runIo([](net::io_context& io) -> Task<void> {
        auto opts = testOptions("timeout");
        opts.command_timeout = 200ms;
        Redis redis(io, opts);
        const auto list = uniqueKey("never-pushed");
        const auto key = uniqueKey("after-timeout");
        co_await redis.ping();

        // A command queued behind the blocked one shares its fate: the connection is dropped.
        std::optional<RedisError::Kind> behind;
        bool behind_done = false;
        const auto started = SteadyClock::now();
        net::co_spawn(
            io,
            [&]() -> Task<void> {
                co_await sleepFor(20ms);
                try {
                    co_await redis.call("GET", key);
                } catch (const RedisError& e) {
                    behind = e.kind();
                }
            },
            [&](std::exception_ptr) { behind_done = true; });
        try {
            co_await redis.call("BLPOP", list, "5");
            ADD_FAILURE() << "BLPOP on a missing key returned before its 5 s timeout";
        } catch (const RedisError& e) {
            EXPECT_EQ(e.kind(), RedisError::Kind::Timeout) << e.what();
        }
        const auto elapsed = SteadyClock::now() - started;
        EXPECT_GE(elapsed, 190ms);
        EXPECT_LT(elapsed, 1500ms);
        EXPECT_TRUE(co_await waitUntil([&] { return behind_done; }, 2s));
        EXPECT_EQ(behind, RedisError::Kind::Connection);

        auto set = co_await redis.call("SET", key, "ok", "EX", "60");
        EXPECT_EQ(set.str, "OK");
        EXPECT_EQ((co_await redis.call("GET", key)).str, "ok");
        co_await redis.call("DEL", key);
    });
}

TEST(RedisClient, DroppedConnectionFailsEveryWaitingCommand) {
    runIo([](net::io_context& io) -> Task<void> {
        auto opts = testOptions("dropped");
        opts.command_timeout = 10s;
        Redis victim(io, opts);
        Redis killer(io, testOptions("killer"));
        auto id = co_await victim.call("CLIENT", "ID");
        const auto list = uniqueKey("blocked");

        constexpr int kWaiters = 10;
        int connection_errors = 0;
        int done = 0;
        for (int i = 0; i < kWaiters; ++i) {
            net::co_spawn(
                io,
                [&]() -> Task<void> {
                    try {
                        co_await victim.call("BLPOP", list, "8");
                    } catch (const RedisError& e) {
                        if (e.kind() == RedisError::Kind::Connection) {
                            ++connection_errors;
                        }
                    }
                },
                [&](std::exception_ptr) { ++done; });
        }
        co_await sleepFor(100ms);
        const auto killed_at = SteadyClock::now();
        auto killed = co_await killer.call("CLIENT", "KILL", "ID", std::to_string(id.integer));
        EXPECT_EQ(killed.integer, 1);
        EXPECT_TRUE(co_await waitUntil([&] { return done == kWaiters; }, 3s));
        EXPECT_LT(SteadyClock::now() - killed_at, 1s);
        EXPECT_EQ(connection_errors, kWaiters);

        co_await victim.ping();  // reconnects
    });
}

TEST(RedisClient, NothingListeningFailsPromptlyWithConnectionError) {
    runIo([](net::io_context& io) -> Task<void> {
        auto opts = testOptions("refused");
        opts.port = closedPort();
        Redis redis(io, opts);
        for (int attempt = 0; attempt < 2; ++attempt) {
            const auto started = SteadyClock::now();
            try {
                co_await redis.call("PING");
                ADD_FAILURE() << "a command succeeded with nothing listening";
            } catch (const RedisError& e) {
                EXPECT_EQ(e.kind(), RedisError::Kind::Connection) << e.what();
            }
            EXPECT_LT(SteadyClock::now() - started, 1s);
        }
        bool threw = false;
        try {
            co_await redis.ping();
        } catch (const RedisError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        EXPECT_FALSE(redis.connected());
    });
}

TEST(RedisClient, ConnectTimeoutBoundsAConnectThatHangs) {
    runIo([](net::io_context& io) -> Task<void> {
        // A listener whose accept queue is full: the kernel drops further SYNs, so a connect
        // neither succeeds nor fails until our timer ends it.
        net::ip::tcp::acceptor listener(io);
        listener.open(net::ip::tcp::v4());
        listener.bind({net::ip::make_address("127.0.0.1"), 0});
        listener.listen(0);
        const auto endpoint = listener.local_endpoint();
        std::vector<std::unique_ptr<net::ip::tcp::socket>> fillers;
        for (int i = 0; i < 4; ++i) {
            fillers.push_back(std::make_unique<net::ip::tcp::socket>(io));
            fillers.back()->async_connect(endpoint, [](boost::system::error_code) {});
        }
        co_await sleepFor(100ms);

        auto opts = testOptions("hanging");
        opts.port = endpoint.port();
        opts.connect_timeout = 300ms;
        opts.command_timeout = 5s;
        Redis redis(io, opts);
        const auto started = SteadyClock::now();
        try {
            co_await redis.call("PING");
            ADD_FAILURE() << "PING succeeded against a listener that never accepts";
        } catch (const RedisError& e) {
            EXPECT_EQ(e.kind(), RedisError::Kind::Connection) << e.what();
        }
        const auto elapsed = SteadyClock::now() - started;
        EXPECT_GE(elapsed, 250ms);
        EXPECT_LT(elapsed, 2s);
        for (auto& s : fillers) {
            s->close();
        }
        listener.close();
    });
}

TEST(RedisClient, ClosedClientFailsWaitersAndLaterCommands) {
    runIo([](net::io_context& io) -> Task<void> {
        auto redis = std::make_unique<Redis>(io, testOptions("closing"));
        co_await redis->ping();
        std::optional<RedisError::Kind> waiter;
        bool done = false;
        net::co_spawn(
            io,
            [&]() -> Task<void> {
                try {
                    co_await redis->call("BLPOP", uniqueKey("closing"), "5");
                } catch (const RedisError& e) {
                    waiter = e.kind();
                }
            },
            [&](std::exception_ptr) { done = true; });
        co_await sleepFor(50ms);
        redis->close();
        EXPECT_TRUE(co_await waitUntil([&] { return done; }, 1s));
        EXPECT_EQ(waiter, RedisError::Kind::Connection);
        bool threw = false;
        try {
            co_await redis->call("PING");
        } catch (const RedisError& e) {
            threw = e.kind() == RedisError::Kind::Connection;
        }
        EXPECT_TRUE(threw);

        // Destroying a client with a command in flight wakes that command too.
        auto other = std::make_unique<Redis>(io, testOptions("destroyed"));
        co_await other->ping();
        done = false;
        waiter.reset();
        net::co_spawn(
            io,
            [&, r = other.get()]() -> Task<void> {
                try {
                    co_await r->call("BLPOP", uniqueKey("destroyed"), "5");
                } catch (const RedisError& e) {
                    waiter = e.kind();
                }
            },
            [&](std::exception_ptr) { done = true; });
        co_await sleepFor(50ms);
        other.reset();
        EXPECT_TRUE(co_await waitUntil([&] { return done; }, 1s));
        EXPECT_EQ(waiter, RedisError::Kind::Connection);
    });
}

}  // namespace
}  // namespace restinu::rt
