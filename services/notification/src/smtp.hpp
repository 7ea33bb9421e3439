#pragma once

#include <chrono>
#include <string>

#include "channel.hpp"

namespace restinu::rt {
class Curl;
}

/// E-mail over SMTP with libcurl: STARTTLS whenever the server offers it (required with
/// `require_tls`), AUTH when a user is configured, a multipart/alternative message with the
/// text and HTML parts.
namespace restinu::notification {

struct SmtpSettings {
    std::string url = "smtp://127.0.0.1:2525";  ///< smtp:// (STARTTLS) or smtps:// (TLS)
    std::string username;
    std::string password;
    bool require_tls = false;  ///< refuse to send in clear when the server has no STARTTLS
    std::string from_address = "no-reply@restinu.local";
    std::string from_name = "REST-iN-U";
    std::chrono::milliseconds timeout{30'000};
};

/// The RFC 5322 message for `m` (CRLF line ends, base64 bodies, RFC 2047 for non-ASCII
/// headers, Message-ID from our id, List-Unsubscribe with one-click when it has a link).
/// `date` is the Date header's value.
std::string buildMime(const Outgoing& m, const SmtpSettings& s, const std::string& date);

/// Standard base64 (RFC 4648 §4) with padding, lines of 76 characters joined by CRLF.
std::string base64Lines(std::string_view bytes);

class SmtpChannel : public Channel {
public:
    SmtpChannel(rt::Curl& curl, SmtpSettings settings);
    std::string_view name() const override { return "email"; }
    std::string_view provider() const override { return "smtp"; }
    rt::Task<SendResult> send(const Outgoing& m) override;

private:
    rt::Curl& curl_;
    SmtpSettings s_;
};

}  // namespace restinu::notification
