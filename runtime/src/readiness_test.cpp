#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <stdexcept>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/service.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

Shard::ReadinessCheck sleeping(std::chrono::milliseconds d, bool fail = false) {
    return [d, fail]() -> Task<void> {
        net::steady_timer t(co_await net::this_coro::executor, d);
        co_await t.async_wait(net::use_awaitable);
        if (fail) {
            throw std::runtime_error("refused");
        }
    };
}

// Before, /readyz ran its checks one after another: the gateway's six took up to 12 s when
// their dependencies hung. Now they run together and the answer waits for the slowest.
TEST(Readiness, ChecksRunTogetherAndKeepTheirOrder) {
    net::io_context io;
    std::vector<std::pair<std::string, Shard::ReadinessCheck>> checks{
        {"a", sleeping(1200ms)},
        {"b", sleeping(1200ms, true)},
        {"c", sleeping(1200ms)},
        {"hangs", sleeping(60s)},
    };
    auto started = std::chrono::steady_clock::now();
    auto out = runBlocking(io, runReadinessChecks(checks));
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0], "");
    EXPECT_EQ(out[1], "refused");
    EXPECT_EQ(out[2], "");
    EXPECT_EQ(out[3], "no answer within 2s");
    EXPECT_LT(took, 3500ms) << "the checks ran one after another";
    EXPECT_TRUE(runBlocking(io, runReadinessChecks({})).empty());
}

}  // namespace
}  // namespace restinu::rt
