#include "restinu/rt/worker_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "restinu/rt/blocking.hpp"

namespace restinu::rt {
namespace {

TEST(WorkerPool, RunsOnAWorkerAndResumesOnTheLoopThread) {
    boost::asio::io_context io;
    WorkerPool pool(2);
    auto loop_thread = std::this_thread::get_id();
    std::string captured(100, 'x');  // heap-allocated: a double destruction would show in ASan
    auto out = runBlocking(io, [&]() -> Task<std::pair<bool, bool>> {
        auto job = [captured] { return std::this_thread::get_id(); };
        auto worker_thread = co_await pool.run(std::move(job));
        co_return std::pair{worker_thread != loop_thread,
                            std::this_thread::get_id() == loop_thread};
    }());
    EXPECT_TRUE(out.first);
    EXPECT_TRUE(out.second);
}

TEST(WorkerPool, ReturnsValuesAndPropagatesExceptions) {
    boost::asio::io_context io;
    WorkerPool pool(1);
    std::string big(64, 'y');
    EXPECT_EQ(runBlocking(io, pool.run([big] { return big + "!"; })), big + "!");
    EXPECT_THROW(runBlocking(io, pool.run([]() -> int { throw std::runtime_error("boom"); })),
                 std::runtime_error);
    int calls = 0;
    runBlocking(io, pool.run([&calls] { ++calls; }));
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace restinu::rt
