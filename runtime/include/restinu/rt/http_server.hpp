#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {

class Router;
class MetricsRegistry;

struct ServerOptions {
    std::string service = "restinu";
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0: any free port (tests); listen() returns the one bound
    std::size_t body_limit = 1 << 20;
    /// For a request whose body should go to a temporary file rather than memory (uploads):
    /// its body limit, else 0. Asked with the method and path (not decoded) as soon as the
    /// request line is read. The handler gets Request::spooled; a body of any size on such a
    /// route is spooled. Each 256 KiB of a spooled body must arrive within `body_timeout` (a slow
    /// upload goes on as long as it moves; a stalled one is cut off).
    std::function<std::uint64_t(Method, std::string_view path)> spool;
    std::string spool_dir;  ///< where spooled bodies go; empty: the system's temporary folder
    std::size_t header_limit = std::size_t{16} * 1024;
    /// The whole request head must arrive within this, counted from its first byte: a client
    /// that trickles headers (slowloris) is cut off.
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    /// How long a kept-alive connection may wait for its next request.
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds write_timeout{30'000};
    bool access_log = true;
    /// SO_REUSEPORT, so that one server per loop thread can bind the same port.
    bool reuse_port = true;
};

/// HTTP/1.1 server on Boost.Beast with C++20 coroutines. One instance per io_context (per loop
/// thread); the kernel spreads connections over instances bound to the same port.
///
/// Around every request it: keeps or generates `X-Request-Id` and echoes it; counts it in
/// `restinu_http_requests_total` and `restinu_http_request_duration_seconds` labelled by the
/// route template; writes one access-log line; turns an ApiError into its problem+json and any
/// other exception into a 500 problem (the detail goes to the log only); answers 404/405;
/// answers 400 (and closes) on a malformed request, 413 on a body over the limit and 431 on
/// headers over theirs. Keep-alive and pipelining answer in request order.
///
/// @par Thread safety
/// Not thread-safe: use it only from the thread that runs its io_context.
class HttpServer {
public:
    HttpServer(IoContext& io, ServerOptions opts, const Router& router, MetricsRegistry& metrics);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds and listens; throws std::system_error naming the address on failure.
    std::uint16_t listen();
    /// Starts accepting (call after listen()).
    void start();
    /// Graceful stop: no new connections, idle connections closed, in-flight requests finish
    /// and are answered with `Connection: close`; after `grace` whatever is left is closed.
    /// `done` runs on the io_context once no connection is left.
    void shutdown(std::chrono::milliseconds grace, std::function<void()> done = {});

    std::size_t connections() const;
    std::uint16_t port() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// A new request id: 32 lowercase hex characters (128 random bits).
std::string newRequestId();

/// True when a client-sent request id is safe to keep and echo: 1-128 visible ASCII characters
/// without quotes, backslashes or spaces.
bool validRequestId(std::string_view id);

}  // namespace restinu::rt
