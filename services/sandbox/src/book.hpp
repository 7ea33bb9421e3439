#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The sandbox's record of payment intents, its idempotency keys and the webhook events it
/// sent: plain data behind a mutex (every loop thread of the process shares it). No I/O.
///
/// What a payment method makes it do (Stripe's test cards, and ours):
///   pm_card_visa (any other pm_card_*)  authorises
///   pm_card_chargeDeclined              402 card_declined (kept under the key, as Stripe does)
///   pm_sandbox_error_500                every request about it answers 500, nothing recorded
///   pm_sandbox_timeout                  authorises, but the answer comes after `slow_delay`
///   pm_sandbox_slow                     authorises, answering after 200 ms
///   pm_sandbox_capture_500              authorises; every capture answers 500
namespace restinu::sandbox {

struct Intent {
    std::string id;
    std::int64_t amount = 0;
    std::string currency;  ///< lower case, as Stripe
    std::string status;    ///< requires_capture, succeeded, canceled, requires_payment_method
    std::string payment_method;
    std::int64_t amount_received = 0;
    std::int64_t amount_refunded = 0;
    std::map<std::string, std::string> metadata;
    std::int64_t created = 0;
    std::int64_t seq = 0;  ///< creation order, for listing
};

/// An answer as the sandbox sends it: status and JSON body, and how long to wait first.
struct Answer {
    int status = 200;
    std::string body;
    std::chrono::milliseconds delay{0};
};

struct Webhook {
    std::string id;
    std::string payload;  ///< the event JSON as sent
};

class Book {
public:
    explicit Book(std::chrono::milliseconds slow_delay) : slow_delay_(slow_delay) {}

    /// The request under an Idempotency-Key: the first answer again for the same request, 400
    /// idempotency_error for another; nullopt when the key is new (or empty).
    std::optional<Answer> replay(const std::string& key, const std::string& fingerprint);
    void remember(const std::string& key, const std::string& fingerprint, const Answer& a);

    /// POST /v1/payment_intents with capture_method=manual&confirm=true.
    Answer create(const std::map<std::string, std::string>& form, std::vector<Webhook>& sent);
    Answer capture(const std::string& id, const std::map<std::string, std::string>& form,
                   std::vector<Webhook>& sent);
    Answer cancel(const std::string& id, std::vector<Webhook>& sent);
    Answer refund(const std::map<std::string, std::string>& form, std::vector<Webhook>& sent);
    Answer get(const std::string& id);
    Answer list(std::size_t limit, const std::string& starting_after);
    /// Stripe's search, for the one query we use: metadata['restinu_intent']:'<id>'.
    Answer search(const std::string& query);
    /// Every webhook sent so far, oldest first (for redelivery).
    std::vector<Webhook> webhooks();

private:
    std::string json(const Intent& i) const;
    Webhook event(std::string_view type, const Intent& i);

    std::mutex mu_;
    std::chrono::milliseconds slow_delay_;
    std::map<std::string, Intent> intents_;
    std::map<std::string, std::pair<std::string, Answer>> keys_;
    std::vector<Webhook> webhooks_;
    std::int64_t seq_ = 0;
};

/// "a=1&b%5Bc%5D=2" → {a: 1, b[c]: 2}; nullopt when an escape is malformed.
std::optional<std::map<std::string, std::string>> parseForm(std::string_view body);

}  // namespace restinu::sandbox
