#include "live_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <deque>
#include <unordered_map>
#include <vector>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/redis.hpp"
#include "restinu/rt/service.hpp"

namespace restinu::gateway {
namespace {

namespace net = boost::asio;
namespace json = boost::json;

/// The channel the notification service publishes on (its live.hpp names it too).
constexpr std::string_view kChannel = "live:notifications";

// One open stream: what waits to be sent, and the timer its body sleeps on.
struct Stream {
    explicit Stream(rt::IoContext& io) : wake(io) {}
    std::deque<std::string> pending;
    net::steady_timer wake;
    bool ended = false;  ///< the client went, or fell too far behind
};

}  // namespace

struct LiveStreams::Impl : std::enable_shared_from_this<Impl> {
    Impl(rt::Shard& sh, const Settings& st)
        : shard(sh),
          settings(st),
          open_streams(sh.metrics()
                           .gauge("restinu_gateway_live_streams",
                                  "Live notification streams open on this loop thread", {"thread"})
                           .labels({std::to_string(sh.index())})),
          messages(sh.metrics().counter(
              "restinu_gateway_live_messages_total",
              "Live notifications by outcome: delivered to a stream, or dropped (a stream too "
              "far behind is ended)",
              {"outcome"})) {}

    // An item published by the notification service: to each of its user's streams here.
    void deliver(std::string_view message) {
        json::error_code ec;
        auto v = json::parse(message, ec);
        if (ec || !v.is_object()) {
            return;
        }
        const auto& o = v.as_object();
        const auto* user = o.if_contains("user_id");
        const auto* item = o.if_contains("notification");
        if (user == nullptr || !user->is_string() || item == nullptr || !item->is_object()) {
            return;
        }
        auto it = by_user.find(std::string_view(user->as_string()));
        if (it == by_user.end()) {
            return;  // not connected to this thread
        }
        std::string frame = "event: notification\n";
        if (const auto* id = item->as_object().if_contains("id");
            id != nullptr && id->is_string()) {
            frame += "id: " + std::string(id->as_string()) + "\n";
        }
        frame += "data: " + json::serialize(*item) + "\n\n";  // one line: JSON escapes newlines
        for (auto* s : it->second) {
            if (s->pending.size() >= settings.live_max_pending) {
                s->ended = true;  // a client this far behind is not reading: let it reconnect
                messages.labels({"dropped"}).inc();
            } else {
                s->pending.push_back(frame);
                messages.labels({"delivered"}).inc();
            }
            s->wake.cancel();
        }
    }

    void add(const std::string& user, Stream* s) {
        by_user[user].push_back(s);
        ++count;
        open_streams.inc();
    }
    void remove(const std::string& user, Stream* s) {
        auto it = by_user.find(user);
        if (it != by_user.end()) {
            std::erase(it->second, s);
            if (it->second.empty()) {
                by_user.erase(it);
            }
        }
        --count;
        open_streams.dec();
    }

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };

    rt::Shard& shard;
    const Settings& settings;
    rt::Gauge& open_streams;
    rt::Family<rt::Counter>& messages;
    std::unordered_map<std::string, std::vector<Stream*>, Hash, std::equal_to<>> by_user;
    std::size_t count = 0;
    std::unique_ptr<rt::RedisSubscriber> subscriber;
};

LiveStreams::LiveStreams(rt::Shard& shard, const Settings& settings)
    : impl_(std::make_shared<Impl>(shard, settings)) {}

LiveStreams::~LiveStreams() {
    if (impl_->subscriber) {
        impl_->subscriber->stop();
    }
}

void LiveStreams::start() {
    if (impl_->subscriber) {
        return;
    }
    rt::RedisOptions o;
    o.host = impl_->shard.settings().redis_host;
    o.port = impl_->shard.settings().redis_port;
    o.name = "live";
    impl_->subscriber = std::make_unique<rt::RedisSubscriber>(impl_->shard.io(), o);
    std::weak_ptr<Impl> weak = impl_;
    impl_->subscriber->subscribe({std::string(kChannel)},
                                 [weak](std::string_view, std::string_view message) {
                                     if (auto impl = weak.lock()) {
                                         impl->deliver(message);
                                     }
                                 });
    impl_->subscriber->start();
}

std::size_t LiveStreams::streams() const {
    return impl_->count;
}

rt::Response LiveStreams::open(const rt::Request& req, const std::string& user_id,
                               std::int64_t expires_at) {
    if (impl_->count >= static_cast<std::size_t>(impl_->settings.live_max_streams)) {
        return rt::problemResponse({rt::problems::kUnavailable,
                                    "this gateway holds as many live streams as it may; retry",
                                    {},
                                    {{"Retry-After", "5"}}},
                                   req.path, req.request_id);
    }
    if (auto it = impl_->by_user.find(std::string_view(user_id));
        it != impl_->by_user.end() &&
        it->second.size() >= static_cast<std::size_t>(impl_->settings.live_max_per_user)) {
        return rt::problemResponse(
            {rt::problems::kRateLimited,
             "close one of your other live streams first (at most " +
                 std::to_string(impl_->settings.live_max_per_user) + " at once)",
             {},
             {{"Retry-After", "5"}}},
            req.path, req.request_id);
    }
    auto impl = impl_;
    auto body = [impl, user_id, expires_at](rt::StreamWriter& out) -> rt::Task<void> {
        Stream st(impl->shard.io());
        impl->add(user_id, &st);
        struct Leave {
            Impl& impl;
            const std::string& user;
            Stream* st;
            ~Leave() { impl.remove(user, st); }
        } leave{*impl, user_id, &st};
        out.on_close = [&st] {
            st.ended = true;
            st.wake.cancel();
        };
        // "retry": how long a browser's EventSource waits before it reconnects.
        if (!co_await out.write(": connected\nretry: 3000\n\n")) {
            co_return;
        }
        for (;;) {
            while (!st.pending.empty() && !st.ended) {
                auto frame = std::move(st.pending.front());
                st.pending.pop_front();
                if (!co_await out.write(frame)) {
                    co_return;
                }
            }
            if (st.ended || !out.open()) {
                co_return;
            }
            const auto left = expires_at - rt::unixSeconds();
            if (left <= 0) {
                co_await out.write("event: expired\ndata: {}\n\n");  // reconnect, new token
                co_return;
            }
            st.wake.expires_after(std::min<std::chrono::milliseconds>(impl->settings.live_heartbeat,
                                                                      std::chrono::seconds(left)));
            auto [ec] = co_await st.wake.async_wait(net::as_tuple(net::use_awaitable));
            if (!ec) {  // nothing came: a comment keeps proxies and the client's timer content
                const bool sent = co_await out.write(": ping\n\n");
                if (!sent) {
                    co_return;
                }
            }
        }
    };
    rt::Response res{200, "text/event-stream; charset=utf-8", ""};
    res.header("Cache-Control", "no-store").header("X-Accel-Buffering", "no");
    res.stream = std::make_shared<rt::StreamBody>(std::move(body));
    return res;
}

}  // namespace restinu::gateway
