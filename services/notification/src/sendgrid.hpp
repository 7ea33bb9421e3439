#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "channel.hpp"

namespace restinu::rt {
class Curl;
}

/// E-mail through SendGrid's v3 Mail Send API: one JSON POST per message, the text and HTML
/// parts, our message id in `custom_args` (it comes back on every event webhook), and the
/// one-click unsubscribe headers of RFC 8058 on marketing mail.
namespace restinu::notification {

struct SendGridSettings {
    std::string url = "https://api.sendgrid.com";  ///< no trailing slash; tests use a stand-in
    std::string api_key;                           ///< secret, never logged
    std::string from_email;
    std::string from_name;  ///< "" sends the address alone
    std::chrono::milliseconds timeout{10'000};
};

class SendGridChannel final : public Channel {
public:
    SendGridChannel(rt::Curl& curl, SendGridSettings settings)
        : curl_(curl), settings_(std::move(settings)) {}

    std::string_view name() const override { return "email"; }
    std::string_view provider() const override { return "sendgrid"; }
    /// 202 is Sent (provider_id from `X-Message-Id`); 429, 5xx and transient transport
    /// failures are Retry; any other answer is Permanent.
    rt::Task<SendResult> send(const Outgoing& message) override;

private:
    rt::Curl& curl_;
    SendGridSettings settings_;
};

}  // namespace restinu::notification
