#pragma once
// Internal to the runtime (the HTTP server and client): putting HTTP/1.1 messages on the wire.

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <string>

namespace restinu::rt::detail {

// Appends `n` in decimal (a Content-Length, a port).
inline void appendNumber(std::string& out, std::uint64_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, end);
}

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
