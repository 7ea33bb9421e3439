#include "restinu/rt/pg_listener.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "async_test.hpp"
#include "restinu/rt/pg.hpp"
#include "test_env.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using testing::runAsync;
using testing::sleepFor;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Received = std::vector<std::pair<std::string, std::string>>;

std::string uniqueSuffix() {
    std::random_device rd;
    return std::to_string(rd() % 1'000'000'000u);
}

PgOptions poolOptions(const std::string& app_name) {
    PgOptions o;
    o.conninfo = testenv::pgConninfo() + " application_name=" + app_name;
    o.name = app_name;
    o.size = 2;
    o.connect_timeout = 3s;
    o.acquire_timeout = 5s;
    o.query_timeout = 10s;
    return o;
}

/// Polls `cond` every 5 ms until it holds or `limit` passes; returns whether it held.
Task<bool> eventually(std::function<bool()> cond, std::chrono::milliseconds limit = 10s) {
    const auto deadline = Clock::now() + limit;
    while (!cond()) {
        if (Clock::now() >= deadline) {
            co_return false;
        }
        co_await sleepFor(5ms);
    }
    co_return true;
}

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------------------------

TEST(PgListener, DeliversNotificationsOnTwoChannelsInOrder) {
    runAsync([](net::io_context& io) -> Task<void> {
        const std::string suffix = uniqueSuffix();
        // The second name needs quoting (upper case, a dash): it must match pg_notify() as is.
        const std::string orders = "orders_" + suffix;
        const std::string audit = "Audit-Events_" + suffix;
        Received got;
        PgListener listener(io, testenv::pgConninfo(), {orders, audit},
                            [&](std::string_view ch, std::string_view payload) {
                                got.emplace_back(std::string(ch), std::string(payload));
                            });
        listener.start();
        EXPECT_TRUE(co_await eventually([&] { return listener.listening(); }));

        PgPool pool(io, poolOptions("pgl_order_" + suffix));
        Received sent;
        const auto start = Clock::now();
        for (int i = 0; i < 200; ++i) {
            const std::string& ch = i % 3 == 0 ? audit : orders;
            std::string payload = "{\"seq\":" + std::to_string(i) + ",\"note\":\"it's é\"}";
            co_await pool.query("SELECT pg_notify($1, $2)", ch, payload);
            sent.emplace_back(ch, std::move(payload));
        }
        EXPECT_TRUE(co_await eventually([&] { return got.size() >= sent.size(); }));
        std::printf("[pg-listener] 200 notifications sent and received in %lld ms\n",
                    msSince(start));
        EXPECT_EQ(got, sent);
        EXPECT_TRUE(listener.listening());
        EXPECT_EQ(listener.reconnects(), 0u);

        // Nothing else arrives (no duplicates), and other channels are not delivered.
        co_await pool.query("SELECT pg_notify($1, $2)", "not_" + orders, "x");
        co_await sleepFor(100ms);
        EXPECT_EQ(got.size(), sent.size());
    });
}

TEST(PgListener, ReconnectsAndListensAgainAfterServerRestart) {
    runAsync([](net::io_context& io) -> Task<void> {
        const std::string channel = "restart_" + uniqueSuffix();
        Received got;
        int reconnect_calls = 0;
        bool listening_in_callback = false;
        PgListener listener(io, testenv::pgConninfo(), {channel},
                            [&](std::string_view ch, std::string_view payload) {
                                got.emplace_back(std::string(ch), std::string(payload));
                            });
        listener.setOnReconnect([&] {
            ++reconnect_calls;
            listening_in_callback = listener.listening();
        });
        listener.start();
        EXPECT_TRUE(co_await eventually([&] { return listener.listening(); }));

        {
            PgPool pool(io, poolOptions("pgl_before_" + channel));
            co_await pool.query("SELECT pg_notify($1, $2)", channel, "before");
            EXPECT_TRUE(co_await eventually([&] { return got.size() == 1; }));
        }

        // The restart script blocks: never on the loop thread.
        const auto start = Clock::now();
        bool saw_down = false;
        std::atomic<bool> restarted{false};
        int rc = -1;
        std::thread restarter([&] {
            rc = testenv::restartPg();
            restarted = true;
        });
        while (!restarted) {
            saw_down = saw_down || !listener.listening();
            co_await sleepFor(5ms);
        }
        restarter.join();
        EXPECT_EQ(rc, 0) << "restart script failed";
        const auto restart_ms = msSince(start);
        EXPECT_TRUE(saw_down) << "the listener never noticed the restart";

        EXPECT_TRUE(co_await eventually([&] { return listener.listening(); }));
        EXPECT_TRUE(co_await eventually([&] { return reconnect_calls == 1; }));
        std::printf("[pg-listener] restart took %lld ms; listening again %lld ms after it began\n",
                    restart_ms, msSince(start));
        EXPECT_EQ(listener.reconnects(), 1u);
        EXPECT_TRUE(listening_in_callback) << "on_reconnect ran before LISTEN succeeded";

        PgPool pool(io, poolOptions("pgl_after_" + channel));
        co_await pool.query("SELECT pg_notify($1, $2)", channel, "after");
        EXPECT_TRUE(co_await eventually([&] { return got.size() == 2; }));
        const Received want{{channel, "before"}, {channel, "after"}};
        EXPECT_EQ(got, want);
    });
}

TEST(PgListener, NoCallbackAfterStopOrDestructionWhileTheLoopRuns) {
    runAsync([](net::io_context& io) -> Task<void> {
        const std::string channel = "stop_" + uniqueSuffix();
        int calls = 0;
        // Owned by the callback: it is released once the background coroutine is gone.
        auto probe = std::make_shared<int>(0);
        std::weak_ptr<int> probe_alive = probe;
        auto listener = std::make_unique<PgListener>(
            io, testenv::pgConninfo(), std::vector<std::string>{channel},
            [&calls, probe](std::string_view, std::string_view) { ++calls; });
        probe.reset();
        listener->start();
        EXPECT_TRUE(co_await eventually([&] { return listener->listening(); }));

        PgPool pool(io, poolOptions("pgl_stop_" + channel));
        co_await pool.query("SELECT pg_notify($1, $2)", channel, "one");
        EXPECT_TRUE(co_await eventually([&] { return calls == 1; }));

        listener->stop();
        EXPECT_FALSE(listener->listening());
        co_await pool.query("SELECT pg_notify($1, 'a'), pg_notify($1, 'b')", channel);
        co_await sleepFor(200ms);
        EXPECT_EQ(calls, 1);

        listener.reset();
        co_await pool.query("SELECT pg_notify($1, $2)", channel, "after destruction");
        EXPECT_TRUE(co_await eventually([&] { return probe_alive.expired(); }, 2s))
            << "the background coroutine outlived the listener";
        co_await sleepFor(100ms);
        EXPECT_EQ(calls, 1);
    });
}

TEST(PgListener, StopFromACallbackStopsDelivery) {
    runAsync([](net::io_context& io) -> Task<void> {
        const std::string channel = "selfstop_" + uniqueSuffix();
        int calls = 0;
        std::unique_ptr<PgListener> listener;
        listener = std::make_unique<PgListener>(
            io, testenv::pgConninfo(), std::vector<std::string>{channel},
            [&](std::string_view, std::string_view) {
                ++calls;
                listener.reset();  // destroyed from inside its own callback
            });
        listener->start();
        EXPECT_TRUE(co_await eventually([&] { return listener->listening(); }));
        PgPool pool(io, poolOptions("pgl_selfstop_" + channel));
        co_await pool.query("SELECT pg_notify($1, 'a'), pg_notify($1, 'b')", channel);
        EXPECT_TRUE(co_await eventually([&] { return listener == nullptr; }));
        co_await sleepFor(100ms);
        EXPECT_EQ(calls, 1);
    });
}

TEST(PgListener, DestroyWhileRetryingADeadServerEndsPromptly) {
    const auto start = Clock::now();
    runAsync([](net::io_context& io) -> Task<void> {
        int calls = 0;
        // Port 1 on loopback refuses at once: the listener cycles connect/backoff.
        PgListener listener(io, "host=127.0.0.1 port=1 user=postgres dbname=postgres", {"dead"},
                            [&](std::string_view, std::string_view) { ++calls; });
        listener.start();
        co_await sleepFor(300ms);
        EXPECT_FALSE(listener.listening());
        EXPECT_EQ(calls, 0);
    });
    EXPECT_LT(msSince(start), 1500) << "the loop kept running after the listener was destroyed";
}

TEST(PgListener, RejectsBadChannelNames) {
    net::io_context io;
    auto noop = [](std::string_view, std::string_view) {};
    EXPECT_THROW(PgListener(io, "", {}, noop), std::invalid_argument);
    EXPECT_THROW(PgListener(io, "", {""}, noop), std::invalid_argument);
    EXPECT_THROW(PgListener(io, "", {std::string(64, 'a')}, noop), std::invalid_argument);
    EXPECT_NO_THROW(PgListener(io, "", {std::string(63, 'a')}, noop));
}

}  // namespace
}  // namespace restinu::rt
