#pragma once
// Internal to the runtime (the HTTP server and client): Asio stays out of the public headers.

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>

namespace restinu::rt::detail {

// One timer per connection that enforces whatever deadline the session set last. Moving the
// deadline is a store, not a timer operation: the timer re-arms itself only when it fires
// early, so a kept-alive connection costs no timer work per request.
struct Watchdog : std::enable_shared_from_this<Watchdog> {
    using Clock = std::chrono::steady_clock;

    boost::asio::steady_timer timer;
    boost::asio::ip::tcp::socket* socket;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_at = Clock::time_point::max();
    std::uint64_t generation = 0;
    bool fired = false;

    Watchdog(boost::asio::io_context& io, boost::asio::ip::tcp::socket& s)
        : timer(io), socket(&s) {}

    void set(Clock::time_point d) {
        deadline = d;
        if (d < armed_at) {
            arm(d);
        }
    }
    void clear() { deadline = Clock::time_point::max(); }
    void stop() {
        socket = nullptr;
        ++generation;
        armed_at = Clock::time_point::max();
        timer.cancel();
    }

    void arm(Clock::time_point at) {
        armed_at = at;
        timer.expires_at(at);
        timer.async_wait([self = shared_from_this(), gen = ++generation](
                             const boost::system::error_code& ec) { self->onTimer(ec, gen); });
    }

    void onTimer(const boost::system::error_code& ec, std::uint64_t gen) {
        if (ec || gen != generation || socket == nullptr) {
            return;
        }
        armed_at = Clock::time_point::max();
        if (Clock::now() >= deadline) {
            fired = true;
            boost::system::error_code ignored;
            socket->cancel(ignored);
            socket->close(ignored);
        } else if (deadline != Clock::time_point::max()) {
            arm(deadline);
        }
    }
};

// Sends what the socket takes right now, without suspending. A response or request of a few
// hundred bytes on a connection with room in its send buffer (nearly always) then costs no
// trip through the scheduler, where async_write would post its completion and resume the
// coroutine from the queue. Advances `bufs` past what went; returns true when all of it did.
// False with `ec` clear: the rest waits for room (finish it with async_write); false with
// `ec` set: the connection failed.
inline bool sendNow(boost::asio::ip::tcp::socket& socket,
                    std::array<boost::asio::const_buffer, 2>& bufs, boost::system::error_code& ec) {
    ec.clear();
    for (;;) {
        std::array<iovec, 2> iov{};
        std::size_t count = 0;
        for (const auto& b : bufs) {
            if (b.size() > 0) {
                iov[count].iov_base = const_cast<void*>(b.data());
                iov[count].iov_len = b.size();
                ++count;
            }
        }
        if (count == 0) {
            return true;
        }
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = count;
        auto n = ::sendmsg(socket.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                ec = boost::system::error_code(errno, boost::system::system_category());
            }
            return false;
        }
        auto sent = static_cast<std::size_t>(n);
        for (auto& b : bufs) {
            auto k = std::min(sent, b.size());
            b += k;
            sent -= k;
        }
    }
}

}  // namespace restinu::rt::detail
