#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "restinu/rt/task.hpp"

/// One way of reaching a person (e-mail, push, SMS, in-app), behind one interface; each
/// provider is an implementation chosen at wiring from the configuration (docs/notifications.md).
namespace restinu::notification {

/// One message to one recipient on one channel, as rendered from its template.
struct Outgoing {
    std::string message_id;  ///< ours (a UUID), the same on every attempt: providers' idempotency
    std::string user_id;     ///< the recipient
    std::string to;          ///< e-mail address, phone number (E.164) or device token
    std::string to_name;
    std::string subject;      ///< e-mail subject, push title
    std::string text;         ///< plain text: the e-mail's text part, the push or SMS body
    std::string html;         ///< e-mail only: the HTML part
    std::string category;     ///< security, account, listing, saved_search, marketing, ...
    std::string unsubscribe;  ///< marketing e-mail only: the one-click unsubscribe URL
    std::string data_json;    ///< push and in-app: a JSON object the client receives
};

/// What became of one attempt.
struct SendResult {
    enum class Outcome {
        Sent,       ///< the provider took it
        Retry,      ///< a failure that may pass (connection, timeout, 429, 5xx): try again later
        Permanent,  ///< the provider refused it for good (bad address, 4xx): dead at once
    };
    Outcome outcome = Outcome::Sent;
    std::string detail;       ///< the reason of a failure, or the provider's reply
    std::string provider_id;  ///< the provider's id for the message, when it gives one

    static SendResult sent(std::string provider_id = {}) {
        return {Outcome::Sent, {}, std::move(provider_id)};
    }
    static SendResult retry(std::string why) { return {Outcome::Retry, std::move(why), {}}; }
    static SendResult permanent(std::string why) {
        return {Outcome::Permanent, std::move(why), {}};
    }
};

/// How often and how long a channel retries: attempt n (from 1) waits base·2^(n-1), at most
/// `max`, with ±20% jitter; after `max_attempts` the message is dead.
struct RetryPolicy {
    int max_attempts = 8;
    std::chrono::milliseconds base{std::chrono::seconds(30)};
    std::chrono::milliseconds max{std::chrono::hours(1)};
};

/// A provider of one channel. Implementations never throw for a failed delivery: they map it
/// to Retry or Permanent with the reason.
class Channel {
public:
    virtual ~Channel() = default;
    /// "email", "push", "sms" or "in_app".
    virtual std::string_view name() const = 0;
    /// The provider behind it ("smtp", "sendgrid", "fcm", "twilio", "redis"), for the log.
    virtual std::string_view provider() const = 0;
    virtual rt::Task<SendResult> send(const Outgoing& message) = 0;
};

}  // namespace restinu::notification
