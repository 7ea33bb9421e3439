#pragma once
// Internal to the runtime (the HTTP server and client): Asio stays out of the public headers.

#include <boost/asio.hpp>
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

}  // namespace restinu::rt::detail
