#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

/// The throwaway servers that scripts/testenv.sh started for this run. A missing variable is a
/// test failure, never a skip: integration tests must run against the real servers.
namespace restinu::testenv {

inline std::string require(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        ADD_FAILURE() << name << " is not set: run the tests through `make test` "
                      << "(scripts/test.sh), which starts PostgreSQL and Redis";
        return {};
    }
    return v;
}

inline std::string pgConninfo() {
    return require("RESTINU_TEST_PG_CONNINFO");
}
inline std::string pgPort() {
    return require("RESTINU_TEST_PG_PORT");
}
inline unsigned short redisPort() {
    return static_cast<unsigned short>(std::stoi(require("RESTINU_TEST_REDIS_PORT")));
}

/// Runs a shell command (restart a server); returns its exit status. Call it from a thread
/// that is not running an io_context.
inline int run(const std::string& cmd) {
    return std::system(cmd.c_str());
}
inline int restartPg() {
    return run(require("RESTINU_TEST_PG_RESTART") + " >/dev/null");
}
inline int stopPg() {
    return run(require("RESTINU_TEST_PG_STOP") + " >/dev/null");
}
inline int startPg() {
    return run(require("RESTINU_TEST_PG_START") + " >/dev/null");
}
inline int restartRedis() {
    return run(require("RESTINU_TEST_REDIS_RESTART") + " >/dev/null");
}

}  // namespace restinu::testenv
