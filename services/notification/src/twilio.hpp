#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "channel.hpp"

namespace restinu::rt {
class Curl;
}

/// SMS through Twilio's Programmable Messaging API: one form-encoded POST to the account's
/// Messages resource, HTTP Basic with the account SID and auth token.
namespace restinu::notification {

struct TwilioSettings {
    std::string url = "https://api.twilio.com";  ///< no trailing slash; tests use a stand-in
    std::string account_sid;                     ///< "AC..."
    std::string auth_token;                      ///< secret, never logged
    std::string from;                            ///< our number (E.164) or sender id
    std::chrono::milliseconds timeout{10'000};
};

class TwilioChannel final : public Channel {
public:
    TwilioChannel(rt::Curl& curl, TwilioSettings settings);

    std::string_view name() const override { return "sms"; }
    std::string_view provider() const override { return "twilio"; }
    /// 201 is Sent (provider_id is the message's "sid"); 429, 5xx and transient transport
    /// failures are Retry; an invalid number (21211, 21614) and any other 4xx are Permanent.
    rt::Task<SendResult> send(const Outgoing& message) override;

private:
    rt::Curl& curl_;
    TwilioSettings settings_;
    std::string authorization_;  ///< the whole "Authorization: Basic ..." line, made once
};

}  // namespace restinu::notification
