#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

/// The purchase aggregate (tables purchases and purchase_steps): the saga's state, its SQL and
/// its purchase.* events, each change in one transaction with the event.
namespace restinu::payment {

inline constexpr std::array<std::string_view, 8> kSteps = {
    "reserve",        "kyc",           "authorise", "agreement",
    "transfer_title", "transfer_deed", "capture",   "mark_sold"};

struct PurchaseRow {
    std::string id;
    std::string offer_id;
    std::string listing_id;
    int listing_version = 0;
    std::string buyer_id;
    std::string seller_id;
    std::int64_t price = 0;
    std::int64_t charge = 0;  ///< authorised and captured: the price, or the deposit
    std::string currency;
    std::string payment_method;
    std::string state;  ///< running, compensating, completed, failed
    std::string step;   ///< to run (running) or to compensate (compensating) next
    int attempts = 0;
    std::string intent_id;
    std::string agreement_sha256;
    std::string failure_reason;
    std::string created_at;
    std::string updated_at;
    std::string lease;  ///< the claim's token while an orchestrator holds it
};

struct StepRow {
    std::string step;
    std::string status;  ///< succeeded, failed, compensated
    int attempts = 0;
    std::string error;
    std::string finished_at;
};

/// What one run of a step (or of its compensation) came to.
struct StepOutcome {
    enum class Kind {
        Ok,     ///< done (or found done before)
        Retry,  ///< no answer: run it again after a backoff
        Fail,   ///< refused for good: compensate
        Wait,   ///< under way elsewhere (a chain transaction confirming): look again after
                ///< SagaSettings::wait, attempts not counted
    };
    Kind kind = Kind::Ok;
    std::string reason;
    std::string intent_id;  ///< authorise: the payment intent it made
};

struct Recorded {
    std::string state;  ///< the purchase's state after the record
    double age_seconds = 0;
    std::string step;    ///< the step to run (or compensate) next, when `held`
    bool held = false;   ///< the lease is still ours: go on with `step` now
    std::string reason;  ///< why it turned to compensation, when it just did
};

class PurchaseStore {
public:
    explicit PurchaseStore(rt::PgPool& pool) : pool_(pool) {}

    /// Due purchases (running or compensating, next_attempt_at passed, lease free or expired),
    /// leased to `owner` for `lease`.
    rt::Task<std::vector<PurchaseRow>> claimDue(const std::string& owner,
                                                std::chrono::milliseconds lease, std::size_t batch);
    /// Records a step's outcome if `owner` still holds the lease: the next step, completion
    /// (purchase.completed), a retry after `retry_in`, or the turn to compensation (after
    /// `max_attempts` retries or a refusal).
    /// A success or the turn to compensation keeps the lease (renewed for `lease`).
    rt::Task<Recorded> recordForward(const PurchaseRow& p, const StepOutcome& o,
                                     const std::string& owner, int max_attempts,
                                     std::chrono::milliseconds retry_in,
                                     std::chrono::milliseconds lease);
    /// Records a compensation's outcome: the step before, or the end (purchase.failed).
    rt::Task<Recorded> recordBackward(const PurchaseRow& p, const StepOutcome& o,
                                      const std::string& owner, std::chrono::milliseconds retry_in,
                                      std::chrono::milliseconds lease);
    /// Pending offers past their expiry become lapsed (offer.lapsed).
    rt::Task<std::size_t> lapseOffers();

    rt::Task<std::optional<PurchaseRow>> find(const std::string& id);
    rt::Task<std::vector<StepRow>> steps(const std::string& id);
    rt::Task<std::vector<PurchaseRow>> list(const std::string& state, std::size_t limit);
    rt::Task<std::optional<std::string>> agreement(const std::string& id);
    /// Keeps the agreement (once: a second call keeps the first).
    rt::Task<void> saveAgreement(const std::string& id, const std::string& pdf,
                                 const std::string& sha256);
    /// Operators: run the purchase's current step (or compensation) now, attempts reset. False
    /// when it ended, or a step of it is running now (its lease is held).
    rt::Task<bool> retryNow(const std::string& id);
    /// Operators: compensate a running purchase now, with `reason`. False when it ended, a step
    /// of it is running now, or it is past its capture (paid for: it only goes forward).
    rt::Task<bool> compensateNow(const std::string& id, const std::string& reason);

private:
    rt::PgPool& pool_;
};

}  // namespace restinu::payment
