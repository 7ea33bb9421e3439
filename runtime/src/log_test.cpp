#include "restinu/rt/log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

namespace restinu::rt {
namespace {

std::string escaped(std::string_view text) {
    std::string out = "prefix:";
    log::appendJsonEscaped(out, text);
    return out;
}

TEST(Log, JsonEscapingAppendsPlainRunsAndEscapesTheRest) {
    EXPECT_EQ(escaped(""), "prefix:");
    EXPECT_EQ(escaped("plain text, no escapes"), "prefix:plain text, no escapes");
    EXPECT_EQ(escaped("a\"b\\c"), "prefix:a\\\"b\\\\c");
    EXPECT_EQ(escaped("\"at both ends\""), "prefix:\\\"at both ends\\\"");
    EXPECT_EQ(escaped("line\nfeed\r\ttab"), "prefix:line\\nfeed\\r\\ttab");
    EXPECT_EQ(escaped(std::string_view("\x00\x1f\x7f", 3)), "prefix:\\u0000\\u001f\x7f");
    EXPECT_EQ(escaped("caf\xc3\xa9"), "prefix:caf\xc3\xa9");  // UTF-8 passes through
}

// The escaper looks at eight bytes per step; a byte-at-a-time reference says what it must give
// for every byte value at every place in texts of every length up to two words and a bit.
TEST(Log, JsonEscapingMatchesAByteAtATimeReferenceEverywhere) {
    auto reference = [](std::string_view text) {
        std::string out = "prefix:";
        for (char ch : text) {
            auto u = static_cast<unsigned char>(ch);
            if (u == '"' || u == '\\') {
                out += '\\';
                out += ch;
            } else if (u == '\n') {
                out += "\\n";
            } else if (u == '\r') {
                out += "\\r";
            } else if (u == '\t') {
                out += "\\t";
            } else if (u < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += ch;
            }
        }
        return out;
    };
    for (std::size_t len = 1; len <= 19; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (int b = 0; b < 256; ++b) {
                std::string text(len, 'x');
                text[at] = static_cast<char>(b);
                ASSERT_EQ(escaped(text), reference(text)) << "byte " << b << " at " << at;
            }
        }
    }
}

TEST(Log, EveryByteBelowASpaceRoundTripsThroughAJsonParser) {
    std::string all;
    for (int c = 0; c < 128; ++c) {
        all += static_cast<char>(c);
    }
    std::string doc = "\"";
    log::appendJsonEscaped(doc, all);
    doc += '"';
    EXPECT_EQ(boost::json::parse(doc).as_string(), all);
}

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
