#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "restinu/rt/http_server.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/router.hpp"

namespace restinu::testing {

/// An HttpServer on its own loop thread and a free port, for tests that talk to it over TCP.
/// Bytes that show a lost, repeated or reordered piece: position-dependent, not periodic in
/// 4 KiB.
inline std::string pattern(std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
    }
    return out;
}

class ServerThread {
public:
    ServerThread(rt::Router router, rt::ServerOptions opts = {})
        : router_(std::move(router)), opts_(std::move(opts)) {
        opts_.access_log = false;
        server_ = std::make_unique<rt::HttpServer>(io_, opts_, router_, metrics_);
        port_ = server_->listen();
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~ServerThread() { stop(); }

    void stop() {
        if (thread_.joinable()) {
            server_->shutdown(std::chrono::milliseconds(2000), [this] { io_.stop(); });
            thread_.join();
        }
    }

    std::uint16_t port() const { return port_; }
    rt::HttpServer& server() { return *server_; }
    rt::MetricsRegistry& metrics() { return metrics_; }
    boost::asio::io_context& io() { return io_; }
    std::thread& thread() { return thread_; }

private:
    boost::asio::io_context io_{1};
    rt::Router router_;
    rt::ServerOptions opts_;
    rt::MetricsRegistry metrics_;
    std::unique_ptr<rt::HttpServer> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

/// A blocking TCP client for raw HTTP bytes (runs on the test thread, never on a loop).
class RawClient {
public:
    explicit RawClient(std::uint16_t port,
                       std::chrono::milliseconds recv_timeout = std::chrono::milliseconds(5000)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        timeval tv{};
        tv.tv_sec = recv_timeout.count() / 1000;
        tv.tv_usec = (recv_timeout.count() % 1000) * 1000;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~RawClient() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const { return connected_; }

    /// False when the peer has closed (EPIPE/ECONNRESET).
    bool send(std::string_view data) {
        while (!data.empty()) {
            auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Reads until the peer closes or the receive timeout passes.
    std::string readAll() {
        std::string out;
        char buf[4096];
        for (;;) {
            auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                closed_ = n == 0;
                break;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }

    /// One recv (up to the receive timeout); "" when nothing came.
    std::string readSome() {
        char buf[4096];
        auto n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string{};
    }

    /// Reads until `count` complete responses (by Content-Length) have arrived.
    std::string readResponses(int count) {
        std::string out;
        char buf[4096];
        while (complete(out) < count) {
            auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                closed_ = n == 0;
                break;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }

    /// True when the last read ended because the peer closed the connection.
    bool closedByPeer() const { return closed_; }

    static int complete(const std::string& data) {
        int count = 0;
        std::size_t pos = 0;
        for (;;) {
            auto end = data.find("\r\n\r\n", pos);
            if (end == std::string::npos) {
                return count;
            }
            auto head = data.substr(pos, end - pos);
            std::size_t len = 0;
            auto cl = head.find("Content-Length: ");
            if (cl != std::string::npos) {
                len = std::stoul(head.substr(cl + 16));
            }
            if (data.size() < end + 4 + len) {
                return count;
            }
            pos = end + 4 + len;
            ++count;
        }
    }

private:
    int fd_ = -1;
    bool connected_ = false;
    bool closed_ = false;
};

}  // namespace restinu::testing
