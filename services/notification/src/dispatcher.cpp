#include "dispatcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "message_store.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pass_loop.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_listener.hpp"

namespace restinu::notification {

namespace net = boost::asio;

struct Dispatcher::Impl : std::enable_shared_from_this<Impl> {
    Impl(rt::IoContext& i, rt::PgPool& p, std::string conninfo, std::map<std::string, Route> r,
         DispatchSettings s, rt::MetricsRegistry& metrics)
        : io(i),
          pool(p),
          routes(std::move(r)),
          settings(s),
          listener(i, std::move(conninfo), {"notification_messages"},
                   [this](std::string_view, std::string_view) {
                       if (wake) {
                           wake();
                       }
                   }),
          outcomes(metrics.counter("restinu_notification_messages_total",
                                   "Message attempts by channel and outcome: sent, failed "
                                   "(queued again), dead",
                                   {"channel", "outcome"})),
          send_seconds(metrics.histogram("restinu_notification_send_seconds",
                                         "How long a provider took to take or refuse a message",
                                         {"channel"})) {
        for (const auto& [name, route] : routes) {
            channels.push_back(name);
        }
    }

    rt::Task<void> sendOne(Claimed c) {
        auto it = routes.find(c.channel);
        if (it == routes.end()) {
            // Queued while a provider was configured, none now: keep it for when one is.
            SendResult r = SendResult::retry("no provider configured for " + c.channel);
            co_await MessageStore::finish(pool, c, r, "none", false, std::chrono::minutes(10));
            co_return;
        }
        const auto& route = it->second;
        const auto started = std::chrono::steady_clock::now();
        SendResult result;
        try {
            result = co_await route.channel->send(c.out);
        } catch (const std::exception& e) {
            result = SendResult::retry(std::string("unexpected: ") + e.what());
        }
        send_seconds.labels({c.channel})
            .observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        const bool sent = result.outcome == SendResult::Outcome::Sent;
        const bool dead = !sent && (result.outcome == SendResult::Outcome::Permanent ||
                                    c.attempt >= route.policy.max_attempts);
        const auto wait =
            sent || dead ? std::chrono::milliseconds(0) : backoff(route.policy, c.attempt);
        outcomes.labels({c.channel, sent ? "sent" : (dead ? "dead" : "failed")}).inc();
        if (!sent) {
            rt::log::warn("notification", dead ? "message dead" : "message failed, will retry",
                          {{"message_id", c.out.message_id},
                           {"channel", c.channel},
                           {"attempt", std::to_string(c.attempt)},
                           {"reason", result.detail}});
        }
        co_await MessageStore::finish(pool, c, result, route.channel->provider(), dead, wait);
    }

    rt::Task<std::size_t> runOnce() {
        auto batch = co_await MessageStore::claim(pool, channels, settings.batch, settings.lease);
        if (batch.empty()) {
            co_return 0;
        }
        // All at once: one slow provider call does not hold up the others.
        std::size_t left = batch.size();
        net::steady_timer done(io, net::steady_timer::time_point::max());
        for (auto& c : batch) {
            net::co_spawn(io, sendOne(std::move(c)), [&left, &done](const std::exception_ptr& e) {
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        rt::log::warn("notification", "recording an attempt failed",
                                      {{"error", ex.what()}});
                    }
                }
                if (--left == 0) {
                    done.cancel();
                }
            });
        }
        while (left > 0) {
            boost::system::error_code ec;
            co_await done.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
        co_return batch.size();
    }

    rt::IoContext& io;
    rt::PgPool& pool;
    std::map<std::string, Route> routes;
    std::vector<std::string> channels;
    DispatchSettings settings;
    std::function<void()> wake;  // the loop's, set by Dispatcher: a new message is due now
    rt::PgListener listener;
    rt::Family<rt::Counter>& outcomes;
    rt::Family<rt::Histogram>& send_seconds;
};

Dispatcher::Dispatcher(rt::IoContext& io, rt::PgPool& pool, std::string conninfo,
                       std::map<std::string, Route> routes, DispatchSettings settings,
                       rt::MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(io, pool, std::move(conninfo), std::move(routes), settings,
                                   metrics)) {
    std::weak_ptr<Impl> weak = impl_;
    loop_ = std::make_unique<rt::PassLoop>(io, settings.poll, "notification",
                                           [weak]() -> rt::Task<bool> {
                                               auto self = weak.lock();
                                               if (!self) {
                                                   co_return false;
                                               }
                                               co_return co_await self->runOnce() > 0;
                                           });
    impl_->wake = [loop = loop_.get()] { loop->wake(); };
}

Dispatcher::~Dispatcher() {
    stop();
}

void Dispatcher::start() {
    if (loop_->running()) {
        return;
    }
    impl_->listener.start();
    loop_->start();
}

void Dispatcher::stop() {
    impl_->listener.stop();
    loop_->stop();
}

rt::Task<std::size_t> Dispatcher::runOnce() {
    return impl_->runOnce();
}

}  // namespace restinu::notification
