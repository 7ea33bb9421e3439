#include "restinu/rt/worker_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/problem.hpp"

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

// With the queue full, one more job is refused at once with a 503 the client can retry, and
// the queue takes work again as soon as a job ends (before, it queued without bound).
TEST(WorkerPool, AFullQueueRefusesWithA503AndRecovers) {
    boost::asio::io_context io;
    WorkerPool pool(1, 2);
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::vector<std::future<void>> held;
    for (int i = 0; i < 2; ++i) {
        auto job = [gate] { gate.wait(); };
        held.push_back(
            boost::asio::co_spawn(io, pool.run(std::move(job)), boost::asio::use_future));
    }
    io.poll();
    EXPECT_EQ(pool.queued(), 2u);
    int status = 0;
    std::string retry_after;
    try {
        runBlocking(io, pool.run([] { return 1; }));
    } catch (const ApiError& e) {
        status = e.problem().type.status;
        for (const auto& [k, v] : e.problem().headers) {
            if (k == "Retry-After") {
                retry_after = v;
            }
        }
    }
    EXPECT_EQ(status, 503);
    EXPECT_EQ(retry_after, "1");
    EXPECT_EQ(pool.queued(), 2u);  // the refused job left no count behind
    release.set_value();
    while (held[0].wait_for(std::chrono::milliseconds(0)) != std::future_status::ready ||
           held[1].wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
        io.run_one_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(pool.queued(), 0u);
    EXPECT_EQ(runBlocking(io, pool.run([] { return 7; })), 7);
}

}  // namespace
}  // namespace restinu::rt
