#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "provider.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
class PgResult;
}  // namespace restinu::rt

/// Payment intents on the ledger (docs/payments.md): authorise (a hold), capture, cancel and
/// refund, each keyed by the caller's idempotency key kept in this database.
///
/// Every operation runs in three phases: record the key (and, for a new intent, the intent) →
/// ask the provider with the same key as its Idempotency-Key → record the provider's answer,
/// the intent's new state and its journal entry in one transaction. A crash or a timeout
/// between them leaves the key without a result; the next call with that key re-drives the
/// operation (the provider answers the same key with the same effect), so no retry ever holds,
/// captures or refunds twice. The same key with another request is 422
/// `idempotency-key-reused`.
namespace restinu::payment {

struct IntentRecord {
    std::string id;
    std::string purchase_id;
    std::string buyer_id;
    std::string seller_id;
    std::int64_t amount = 0;
    std::string currency;
    std::string payment_method;
    std::string status;  ///< authorising, authorised, declined, canceled, captured
    std::string provider_intent_id;
    std::int64_t amount_captured = 0;
    std::int64_t amount_refunded = 0;
    std::int64_t fee = 0;
    std::string decline_code;
    std::int64_t age_seconds = 0;  ///< since it was made
};

struct PaymentOutcome {
    enum class Kind {
        Done,         ///< the operation took effect (now or the first time)
        Declined,     ///< refused for good; `reason` says why
        Unavailable,  ///< the provider gave no answer: call again with the same key
    };
    Kind kind = Kind::Unavailable;
    IntentRecord intent;
    std::string reason;
    bool replayed = false;  ///< the key's first result, returned again
};

struct NewIntent {
    std::string purchase_id;
    std::string buyer_id;
    std::string seller_id;
    std::int64_t amount = 0;
    std::string currency;
    std::string payment_method;
};

class Payments {
public:
    /// `search_lag`: how long the provider's search may take to show a new intent (Stripe:
    /// up to a minute); an intent younger than that is not believed absent when search misses it.
    Payments(rt::PgPool& pool, Provider& provider, int fee_bps,
             std::chrono::seconds search_lag = std::chrono::seconds(60))
        : pool_(pool), provider_(provider), fee_bps_(fee_bps), search_lag_(search_lag) {}

    rt::Task<PaymentOutcome> authorise(std::string key, NewIntent req);
    /// Captures `amount` (≤ the hold) of an authorised intent.
    rt::Task<PaymentOutcome> capture(std::string key, std::string intent_id, std::int64_t amount);
    /// Releases the hold. An intent whose authorisation never answered is first looked up at
    /// the provider (and cancelled there if it holds); one never authorised just ends.
    rt::Task<PaymentOutcome> cancel(std::string key, std::string intent_id);
    /// Refunds `amount` of what was captured and not yet refunded.
    rt::Task<PaymentOutcome> refund(std::string key, std::string intent_id, std::int64_t amount);

    /// The intent an idempotency key made or acted on, if the key was ever used.
    rt::Task<std::optional<std::string>> intentOfKey(const std::string& key);
    /// Whether the capture under `key` took effect, finding out from the provider when its
    /// answer never came: Done (captured, recorded now if it was not), Declined (nothing was
    /// captured, and the key is closed so it never will be), Unavailable (ask again).
    rt::Task<PaymentOutcome> settleCapture(std::string key, std::string intent_id,
                                           std::int64_t amount);

private:
    struct Begun;
    using Finish = std::function<rt::Task<void>(rt::PgConn&, PaymentOutcome&)>;
    rt::Task<Begun> begin(const std::string& key, std::string_view operation,
                          const std::string& fingerprint, const std::string& intent_id,
                          const NewIntent* creating);
    rt::Task<PaymentOutcome> finish(const std::string& key, PaymentOutcome outcome, Finish effect);
    rt::Task<PaymentOutcome> cancelAuthorised(const std::string& key, IntentRecord intent);
    /// What an authorisation whose answer never came holds at the provider: the intent if it
    /// holds, none if it does not, or `unknown` (ask again later).
    struct Held {
        std::optional<ProviderIntent> intent;
        bool unknown = false;
        std::string why;
    };
    rt::Task<Held> heldAtProvider(const IntentRecord& intent);
    rt::Task<void> recordHold(rt::PgConn& tx, IntentRecord& intent, const ProviderIntent& pi);

    rt::PgPool& pool_;
    Provider& provider_;
    int fee_bps_;
    std::chrono::seconds search_lag_;
};

/// The row of `payment_intents` with this id, in `tx` (locked when `lock`); intentIn() reads it.
rt::Task<rt::PgResult> selectIntent(rt::PgConn& tx, const std::string& id, bool lock);
std::optional<IntentRecord> intentIn(const rt::PgResult& r);

}  // namespace restinu::payment
