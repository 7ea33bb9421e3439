#pragma once

// Helpers for tests that drive coroutines on an io_context of their own, on the test thread.

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <exception>
#include <functional>

#include "restinu/rt/task.hpp"

namespace restinu::testing {

/// Runs `body` on a fresh io_context on this thread. run() returns only when nothing is left on
/// the loop, so a background coroutine that outlived its owner hangs the test until `limit`,
/// which then fails it.
inline void runAsync(std::function<rt::Task<void>(boost::asio::io_context&)> body,
                     std::chrono::seconds limit = std::chrono::seconds(90)) {
    namespace net = boost::asio;
    net::io_context io;
    bool finished = false;
    std::exception_ptr failure;
    net::steady_timer watchdog(io, limit);
    watchdog.async_wait([&](boost::system::error_code ec) {
        if (!ec) {
            ADD_FAILURE() << "test body did not finish within " << limit.count() << " s";
            io.stop();
        }
    });
    net::co_spawn(io, body(io), [&](std::exception_ptr e) {
        failure = e;
        finished = true;
        watchdog.cancel();
    });
    io.run();
    EXPECT_TRUE(finished);
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "uncaught exception: " << e.what();
        }
    }
}

/// Suspends the calling coroutine for `d`.
inline rt::Task<void> sleepFor(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

}  // namespace restinu::testing
