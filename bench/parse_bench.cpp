// Parsing one HTTP/1.1 message: the runtime's one-pass parser for whole plain messages
// (runtime/src/whole_message.cpp) against Beast's parser filling the same message store (the
// reference, and what any other message still goes through). The messages are what the gateway
// bench sends: a GET with a bearer token as a client sends it, the request the gateway sends on
// with signed identity headers, and the service's small JSON answer.
//   parse_bench [ITERATIONS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lean_parser.hpp"
#include "whole_message.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using restinu::rt::detail::LeanMessage;

const std::string kClientRequest =
    "GET /api/v1/properties/1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Authorization: Bearer "
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjdmM2MxZDRhLTk5OGItNGE1ZC1iN2E2LTJkMDk0ZTFjMmU3NCIsInR5cCI6Ik"
    "pXVCJ9.eyJpc3MiOiJyZXN0aW51IiwiYXVkIjoicmVzdGludS1hcGkiLCJzdWIiOiI0ZjlmNmE0Mi0xZDJiLTRlM2Mt"
    "OWE4Yi0xYzJkM2U0ZjVhNmIiLCJyb2xlcyI6WyJ1c2VyIl0sInNpZCI6IjhhN2I2YzVkLTRlM2YtMmExYi0wYzlkLT"
    "hlN2Y2YTViNGMzZCIsImlhdCI6MTc5NTY2MTIwMCwiZXhwIjoxNzk1NjY0ODAwLCJqdGkiOiIxMjM0NTY3OC05YWJj"
    "LWRlZjAtMTIzNC01Njc4OWFiY2RlZjAifQ.MEUCIQD3c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"
    "8192a3b4c5d6e7f8AiBzY2FsYWJsZS1zaWduYXR1cmUtYnl0ZXMtZm9yLWJlbmNo\r\n"
    "\r\n";

const std::string kUpstreamRequest =
    "GET /api/v1/properties/1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:18102\r\n"
    "X-Request-Id: 85c3c41edb49b6ebf0a95f42a2cbe760\r\n"
    "X-Forwarded-For: 127.0.0.1\r\n"
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
    "X-Restinu-User: 4f9f6a42-1d2b-4e3c-9a8b-1c2d3e4f5a6b\r\n"
    "X-Restinu-Roles: user\r\n"
    "X-Restinu-Session: 8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d\r\n"
    "X-Restinu-Signature: t=1795661200,v1=9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a"
    "3c5b7d9f1e\r\n"
    "\r\n";

const std::string kResponse =
    "HTTP/1.1 404 Not Found\r\n"
    "Content-Type: application/problem+json\r\n"
    "X-Request-Id: 85c3c41edb49b6ebf0a95f42a2cbe760\r\n"
    "Content-Length: 200\r\n"
    "\r\n" +
    std::string(200, 'x');

template <bool IsRequest>
std::size_t beastOnce(const std::string& in, LeanMessage& m) {
    restinu::rt::detail::LeanParser<IsRequest> parser(m);
    parser.header_limit(16 * 1024);
    parser.body_limit(1 << 20);
    parser.eager(true);
    boost::system::error_code ec;
    auto used = parser.put(boost::asio::const_buffer(in.data(), in.size()), ec);
    if (ec || !parser.is_done()) {
        std::fprintf(stderr, "parse_bench: Beast refused a bench message\n");
        std::exit(1);
    }
    return used;
}

template <bool IsRequest>
std::size_t wholeOnce(const std::string& in, LeanMessage& m) {
    auto w = IsRequest ? restinu::rt::detail::parseWholeRequest(in, 16 * 1024, 1 << 20, m)
                       : restinu::rt::detail::parseWholeResponse(in, 16 * 1024, 1 << 20, false, m);
    if (w.used != in.size()) {
        std::fprintf(stderr, "parse_bench: the one-pass parser did not take a bench message\n");
        std::exit(1);
    }
    return w.used;
}

template <class F>
double nsPerMessage(long iterations, F&& f) {
    std::size_t sink = 0;
    for (long i = 0; i < iterations / 10; ++i) {
        sink += f();  // warm up
    }
    auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i) {
        sink += f();
    }
    auto t1 = Clock::now();
    if (sink == 0) {
        std::fprintf(stderr, "parse_bench: nothing parsed\n");
    }
    return std::chrono::duration<double, std::nano>(t1 - t0).count() /
           static_cast<double>(iterations);
}

// The fastest of five alternating runs of each: this machine's speed drifts, and the minimum is
// the run least disturbed.
template <bool IsRequest>
void compare(const char* what, const std::string& in, long iterations) {
    LeanMessage m;
    double beast = 1e300;
    double whole = 1e300;
    for (int run = 0; run < 5; ++run) {
        beast =
            std::min(beast, nsPerMessage(iterations, [&] { return beastOnce<IsRequest>(in, m); }));
        whole =
            std::min(whole, nsPerMessage(iterations, [&] { return wholeOnce<IsRequest>(in, m); }));
    }
    std::printf("  %-44s %5zu bytes  one-pass %7.0f ns  Beast %7.0f ns  speed-up %5.1fx\n", what,
                in.size(), whole, beast, beast / whole);
}

}  // namespace

int main(int argc, char** argv) {
    long iterations = argc > 1 ? std::atol(argv[1]) : 100000;
    std::printf(
        "bench parse: one HTTP/1.1 message into the message store, best of 5 runs of %ld "
        "(reference: Beast's parser)\n",
        iterations);
    compare<true>("client request (bearer token)", kClientRequest, iterations);
    compare<true>("upstream request (signed identity headers)", kUpstreamRequest, iterations);
    compare<false>("service answer (200-byte body)", kResponse, iterations);
    return 0;
}
