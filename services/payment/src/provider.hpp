#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"

/// The card provider behind one interface (ADR 0013). The only implementation is the
/// Stripe-shaped HTTP adapter (stripe_provider.hpp), pointed at Stripe or at the sandbox.
namespace restinu::payment {

/// A payment intent as the provider records it.
struct ProviderIntent {
    std::string id;      ///< the provider's (pi_...)
    std::string status;  ///< requires_capture, succeeded, canceled, requires_payment_method
    std::int64_t amount = 0;
    std::int64_t amount_received = 0;  ///< captured
    std::int64_t amount_refunded = 0;
    std::string currency;        ///< upper case
    std::string restinu_intent;  ///< our intent id (metadata)
};

struct ProviderResult {
    enum class Outcome {
        Ok,           ///< done; `intent` is the provider's record after it
        Declined,     ///< the card or the request was refused for good (`code`)
        Unavailable,  ///< no answer we can trust (5xx, timeout, refused): try again later
    };
    Outcome outcome = Outcome::Unavailable;
    ProviderIntent intent;
    std::string code;     ///< the provider's error code, e.g. card_declined
    std::string message;  ///< for logs and the saga's reason, never for the client verbatim
};

struct AuthoriseRequest {
    std::string intent_id;  ///< ours, sent as metadata so the intent can be found again
    std::string purchase_id;
    std::int64_t amount = 0;
    std::string currency;
    std::string payment_method;
};

class Provider {
public:
    virtual ~Provider() = default;
    /// Creates and confirms an intent with manual capture (a hold). `key` is the
    /// Idempotency-Key: the same key always means the same hold.
    virtual rt::Task<ProviderResult> authorise(const AuthoriseRequest& req, std::string key) = 0;
    virtual rt::Task<ProviderResult> capture(std::string provider_id, std::int64_t amount,
                                             std::string key) = 0;
    virtual rt::Task<ProviderResult> cancel(std::string provider_id, std::string key) = 0;
    virtual rt::Task<ProviderResult> refund(std::string provider_id, std::int64_t amount,
                                            std::string key) = 0;
    /// The provider's intent made for our intent `intent_id`, if any (its search by metadata):
    /// what an authorisation whose answer never came did. Throws when the provider is down.
    virtual rt::Task<std::optional<ProviderIntent>> find(std::string intent_id) = 0;
    /// The provider's intent by its id (read-after-write consistent). Throws when the
    /// provider is down or does not know it.
    virtual rt::Task<ProviderIntent> retrieve(std::string provider_id) = 0;
    /// Every intent the provider has (paged through), for reconciliation.
    virtual rt::Task<std::vector<ProviderIntent>> list() = 0;
};

}  // namespace restinu::payment
