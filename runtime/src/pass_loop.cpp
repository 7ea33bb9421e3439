#include "restinu/rt/pass_loop.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "restinu/rt/log.hpp"

namespace restinu::rt {

namespace net = boost::asio;

struct PassLoop::Impl : std::enable_shared_from_this<Impl> {
    Impl(IoContext& i, std::chrono::milliseconds p, std::string l, std::function<Task<bool>()> f,
         std::function<void(const std::exception&)> e)
        : io(i),
          poll(p),
          logger(std::move(l)),
          pass(std::move(f)),
          on_error(std::move(e)),
          timer(i) {}

    Task<void> loop() {
        auto self = shared_from_this();  // alive until the loop ends, whoever owns us
        const auto generation = started;
        while (running && generation == started) {
            bool again = false;
            woken = false;  // a wake from here on asks for the pass after this one
            try {
                again = co_await pass();
            } catch (const std::exception& e) {
                log::warn(logger, "pass failed", {{"error", e.what()}});
                if (on_error) {
                    on_error(e);
                }
            }
            if (!running || generation != started) {
                break;
            }
            if (again || woken) {
                continue;
            }
            timer.expires_after(poll);
            boost::system::error_code ec;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
    }

    IoContext& io;
    std::chrono::milliseconds poll;
    std::string logger;
    std::function<Task<bool>()> pass;
    std::function<void(const std::exception&)> on_error;
    net::steady_timer timer;
    bool running = false;
    bool woken = false;         // wake() came during a pass: the next one starts at once
    std::uint64_t started = 0;  // a stop() and start() never leave two loops running
};

PassLoop::PassLoop(IoContext& io, std::chrono::milliseconds poll, std::string logger,
                   std::function<Task<bool>()> pass,
                   std::function<void(const std::exception&)> on_error)
    : impl_(std::make_shared<Impl>(io, poll, std::move(logger), std::move(pass),
                                   std::move(on_error))) {}

PassLoop::~PassLoop() {
    stop();
}

void PassLoop::start() {
    if (impl_->running) {
        return;
    }
    impl_->running = true;
    ++impl_->started;
    net::co_spawn(impl_->io, impl_->loop(), net::detached);
}

void PassLoop::stop() {
    impl_->running = false;
    impl_->timer.cancel();
}

void PassLoop::wake() {
    impl_->woken = true;
    impl_->timer.cancel();
}

bool PassLoop::running() const {
    return impl_->running;
}

}  // namespace restinu::rt
