// The libcurl client on a loop thread, against our own HTTP server on loopback.
#include "restinu/rt/curl.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "async_test.hpp"
#include "restinu/rt/router.hpp"
#include "test_server.hpp"

namespace restinu::rt {
namespace {

using namespace std::chrono_literals;
using testing::runAsync;
using testing::ServerThread;
using testing::sleepFor;

Router echoRouter() {
    Router r;
    r.post("/echo", Access::none(), [](Request& req) -> Task<Response> {
        auto res =
            Response::text(201, std::string(req.header("X-Tag")) + ":" + std::string(req.body));
        res.headers.emplace_back("X-Seen-Type", std::string(req.header("Content-Type")));
        co_return res;
    });
    r.get("/slow", Access::none(), [](Request&) -> Task<Response> {
        co_await sleepFor(2s);
        co_return Response::text(200, "late");
    });
    return r;
}

std::string url(std::uint16_t port, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port) + path;
}

TEST(Curl, APostComesBackWithItsStatusHeadersAndBody) {
    ServerThread server(echoRouter());
    runAsync([&](boost::asio::io_context& io) -> Task<void> {
        Curl curl(io);
        CurlEasy e;
        curl_easy_setopt(e.get(), CURLOPT_URL, url(server.port(), "/echo").c_str());
        e.header("Content-Type: application/json");
        e.header("X-Tag: t1");
        std::string body = R"({"a":1})";
        curl_easy_setopt(e.get(), CURLOPT_POSTFIELDS, body.c_str());
        co_await curl.perform(e);
        EXPECT_EQ(e.status(), 201);
        EXPECT_EQ(e.responseBody(), R"(t1:{"a":1})");
        EXPECT_EQ(e.responseHeader("x-seen-type"), "application/json");
        EXPECT_EQ(curl.running(), 0U);
    });
}

TEST(Curl, ManyTransfersRunAtOnceOnOneThread) {
    ServerThread server(echoRouter());
    runAsync([&](boost::asio::io_context& io) -> Task<void> {
        Curl curl(io);
        constexpr int kCount = 50;
        int ok = 0;
        int left = kCount;
        for (int i = 0; i < kCount; ++i) {
            boost::asio::co_spawn(
                io,
                [&, i]() -> Task<void> {
                    CurlEasy e;
                    curl_easy_setopt(e.get(), CURLOPT_URL, url(server.port(), "/echo").c_str());
                    const std::string tag = "X-Tag: n" + std::to_string(i);
                    e.header(tag);
                    curl_easy_setopt(e.get(), CURLOPT_POSTFIELDS, "x");
                    co_await curl.perform(e);
                    ok += e.responseBody() == "n" + std::to_string(i) + ":x" ? 1 : 0;
                    --left;
                },
                boost::asio::detached);
        }
        while (left > 0) {
            co_await sleepFor(5ms);
        }
        EXPECT_EQ(ok, kCount);
    });
}

TEST(Curl, RefusedAndTimedOutAreTransientErrors) {
    ServerThread server(echoRouter());
    runAsync([&](boost::asio::io_context& io) -> Task<void> {
        Curl curl(io);
        {
            CurlEasy e;
            curl_easy_setopt(e.get(), CURLOPT_URL, "http://127.0.0.1:1/nothing");
            bool thrown = false;
            try {
                co_await curl.perform(e);
            } catch (const CurlError& err) {
                thrown = true;
                EXPECT_TRUE(err.transient()) << err.what();
                EXPECT_EQ(err.code(), CURLE_COULDNT_CONNECT);
            }
            EXPECT_TRUE(thrown);
        }
        CurlEasy e;
        curl_easy_setopt(e.get(), CURLOPT_URL, url(server.port(), "/slow").c_str());
        e.total_timeout = 200ms;
        const auto started = std::chrono::steady_clock::now();
        bool thrown = false;
        try {
            co_await curl.perform(e);
        } catch (const CurlError& err) {
            thrown = true;
            EXPECT_TRUE(err.transient());
            EXPECT_EQ(err.code(), CURLE_OPERATION_TIMEDOUT);
        }
        EXPECT_TRUE(thrown);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
    });
}

}  // namespace
}  // namespace restinu::rt
