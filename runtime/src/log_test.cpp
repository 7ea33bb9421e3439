#include "restinu/rt/log.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

namespace restinu::rt {
namespace {

// stdout stalls (a pipe nobody reads): 50,000 access lines must not block the writer (a loop
// thread), the drops are counted, and a warning still gets through once stdout drains. Run in
// a child process, whose stdout is the pipe.
TEST(Log, AStalledStdoutDropsOldAccessLinesInsteadOfBlocking) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(fds[0]);
        ::dup2(fds[1], STDOUT_FILENO);
        log::init("logtest", "", log::Level::Info, true);
        auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < 50'000; ++i) {
            log::info("access", "request", {{"path", "/api/v1/properties"}, {"status", 200}});
        }
        auto took = std::chrono::steady_clock::now() - started;
        bool fast = took < std::chrono::seconds(5);
        bool dropped = log::droppedAccessLines() > 0;
        ::_exit(fast && dropped ? 0 : (fast ? 3 : 4));
    }
    ::close(fds[1]);
    int status = 0;
    // Nobody reads the pipe until the child has ended (or 20 s have passed).
    for (int i = 0; i < 200 && ::waitpid(child, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (::waitpid(child, &status, WNOHANG) == 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        ::close(fds[0]);
        FAIL() << "the writer blocked on a stalled stdout";
    }
    ::close(fds[0]);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "3: nothing counted as dropped, 4: too slow";
}

}  // namespace
}  // namespace restinu::rt
