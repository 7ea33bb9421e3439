#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "restinu/rt/http.hpp"
#include "settings.hpp"

namespace restinu::rt {
class Shard;
}

/// GET /api/v1/notifications/stream: a signed-in user's in-app notifications as Server-Sent
/// Events, held by the gateway itself (docs/notifications.md, "Live stream").
///
/// The notification service PUBLISHes each in-app item on the Redis channel
/// live:notifications; every loop thread of every gateway instance subscribes once and hands
/// each item to the open streams of its user on that thread. An idle stream costs a socket and
/// a small record here, and nothing upstream. Pub/sub is at most once: a client lists
/// GET /api/v1/notifications when it (re)connects. A stream ends when its token expires (the
/// client reconnects with a fresh one), when the client goes, or when it falls
/// `live.max_pending` messages behind.
namespace restinu::gateway {

inline constexpr std::string_view kLiveStreamPath = "/api/v1/notifications/stream";

class LiveStreams {
public:
    LiveStreams(rt::Shard& shard, const Settings& settings);
    ~LiveStreams();
    LiveStreams(const LiveStreams&) = delete;
    LiveStreams& operator=(const LiveStreams&) = delete;

    /// Subscribes (on the first call); streams opened before then receive nothing yet.
    void start();

    /// The answer for `user_id` (a verified token that expires at `expires_at`, unix seconds):
    /// a 200 event stream, or a problem (429 too many streams for the user, 503 for the
    /// thread).
    rt::Response open(const rt::Request& req, const std::string& user_id, std::int64_t expires_at);

    std::size_t streams() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace restinu::gateway
