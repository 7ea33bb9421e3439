#include "restinu/rt/pass_loop.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <stdexcept>

namespace restinu::rt {
namespace {

using std::chrono::milliseconds;

TEST(PassLoop, RunsAgainAtOnceWhileThereIsMoreThenWaitsThePoll) {
    IoContext io;
    int passes = 0;
    PassLoop loop(io, milliseconds(150), "test", [&passes]() -> Task<bool> {
        ++passes;
        co_return passes < 5;  // four with more to do, then idle
    });
    loop.start();
    io.run_for(milliseconds(50));
    EXPECT_EQ(passes, 5) << "the first five at once, then it waits";
    // The sixth comes after the poll (however slow this machine is, not before it).
    for (int i = 0; i < 100 && passes < 6; ++i) {
        io.run_for(milliseconds(20));
    }
    EXPECT_EQ(passes, 6);
}

TEST(PassLoop, WakeRunsTheNextPassNowAndStopEndsIt) {
    IoContext io;
    int passes = 0;
    PassLoop loop(io, std::chrono::hours(1), "test", [&passes]() -> Task<bool> {
        ++passes;
        co_return false;
    });
    loop.start();
    io.run_for(milliseconds(50));
    EXPECT_EQ(passes, 1);
    loop.wake();
    io.run_for(milliseconds(50));
    EXPECT_EQ(passes, 2);
    loop.stop();
    EXPECT_FALSE(loop.running());
    loop.wake();
    io.run_for(milliseconds(50));
    EXPECT_EQ(passes, 2);
    loop.start();  // started again: one loop, not two
    io.restart();  // it ran out of work while stopped
    io.run_for(milliseconds(50));
    EXPECT_EQ(passes, 3);
}

// Work that arrives while a pass runs (a commit the pass did not see) is not left for the poll.
TEST(PassLoop, AWakeDuringAPassIsNotLost) {
    IoContext io;
    int passes = 0;
    std::unique_ptr<PassLoop> loop;
    loop = std::make_unique<PassLoop>(io, std::chrono::hours(1), "test", [&]() -> Task<bool> {
        if (++passes == 1) {
            loop->wake();  // arrives mid-pass; this pass finds nothing
        }
        co_return false;
    });
    loop->start();
    io.run_for(milliseconds(100));
    EXPECT_EQ(passes, 2);
}

TEST(PassLoop, AFailedPassIsReportedAndTheLoopGoesOn) {
    IoContext io;
    int passes = 0;
    int errors = 0;
    PassLoop loop(
        io, milliseconds(10), "test",
        [&passes]() -> Task<bool> {
            if (++passes == 1) {
                throw std::runtime_error("the node is away");
            }
            co_return false;
        },
        [&errors](const std::exception&) { ++errors; });
    loop.start();
    io.run_for(milliseconds(100));
    EXPECT_EQ(errors, 1);
    EXPECT_GE(passes, 3);
}

TEST(PassLoop, DestroyingItWhileAPassWaitsIsSafe) {
    IoContext io;
    int passes = 0;
    {
        PassLoop loop(io, milliseconds(5), "test", [&passes]() -> Task<bool> {
            ++passes;
            co_return false;
        });
        loop.start();
        io.run_for(milliseconds(20));
    }
    const int seen = passes;
    io.run_for(milliseconds(50));
    EXPECT_EQ(passes, seen) << "no pass after it is gone";
}

}  // namespace
}  // namespace restinu::rt
