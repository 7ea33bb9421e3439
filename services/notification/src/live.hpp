#pragma once

#include <string>

#include "channel.hpp"

namespace restinu::rt {
class Redis;
}

/// In-app, live: the item is already in the inbox (the planner stored it); sending it is one
/// PUBLISH on the live channel, which every gateway instance reads and hands to that user's
/// open streams (docs/notifications.md, "Live stream"). At most once, like pub/sub: a client
/// that was not connected lists its inbox when it connects.
namespace restinu::notification {

/// The Redis channel the gateway subscribes to. A message is
/// {"user_id": "...", "notification": {the inbox item}}.
inline constexpr std::string_view kLiveChannel = "live:notifications";

class LiveChannel : public Channel {
public:
    explicit LiveChannel(rt::Redis& redis) : redis_(redis) {}
    std::string_view name() const override { return "in_app"; }
    std::string_view provider() const override { return "redis"; }
    rt::Task<SendResult> send(const Outgoing& m) override;

private:
    rt::Redis& redis_;
};

}  // namespace restinu::notification
