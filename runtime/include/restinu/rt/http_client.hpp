#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/http.hpp"
#include "restinu/rt/spool.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {

class MetricsRegistry;

struct ClientOptions {
    std::string name = "default";
    std::size_t max_idle_per_host = 64;
    std::chrono::milliseconds connect_timeout{2'000};
    std::chrono::milliseconds idle_timeout{30'000};  ///< idle pooled connections older are closed
    std::size_t max_response_body = 16 << 20;
    /// At most this many pipelined requests share one connection's batch (ClientRequest::pipeline).
    std::size_t pipeline_depth = 16;
};

struct ClientRequest {
    Method method = Method::Get;
    std::string host = "127.0.0.1";
    std::uint16_t port = 80;
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// Sent instead of `body` when set (a spooled upload passed on), read from its file in
    /// pieces: the body never sits whole in memory.
    std::shared_ptr<SpooledBody> body_file;
    /// The whole exchange (connect, write, read) must finish within this.
    std::chrono::milliseconds timeout{10'000};
    /// A GET or HEAD without a body may share a kept-alive connection with the other such
    /// requests to the same host made in the same turn of the event loop: they are written
    /// together and answered in order (HTTP/1.1 pipelining), one system call each way for the
    /// lot. Only for servers that answer pipelined requests correctly (ours do) and requests
    /// that answer quickly: an answer waits for the ones before it.
    bool pipeline = false;
};

struct ClientResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = true;

    std::string_view header(std::string_view name) const;
};

class HttpClientError : public std::runtime_error {
public:
    enum class Kind {
        Connect,   ///< could not connect (refused, unreachable): nothing was sent
        Timeout,   ///< the deadline passed
        Protocol,  ///< the peer answered something that is not HTTP, or too large
        Closed,    ///< the peer closed the connection before answering
    };
    HttpClientError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

/// HTTP/1.1 client with a keep-alive connection pool per host:port. A request that fails on a
/// reused connection because the server had closed it meanwhile is retried once on a fresh
/// connection when the method is idempotent.
///
/// @par Thread safety
/// Not thread-safe: one client per loop thread.
class HttpClient {
public:
    HttpClient(IoContext& io, ClientOptions opts = {}, MetricsRegistry* metrics = nullptr);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// `req` is read until the returned task completes: co_await it before `req` goes.
    Task<ClientResponse> request(const ClientRequest& req);

    /// Idle pooled connections to host:port (for tests and metrics).
    std::size_t idleConnections(const std::string& host, std::uint16_t port) const;
    /// Connections opened so far (for tests: keep-alive reuse).
    std::uint64_t connectionsOpened() const;
    void closeIdle();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace restinu::rt
