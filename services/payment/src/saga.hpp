#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "purchase_steps.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
class WorkerPool;
class MetricsRegistry;
}  // namespace restinu::rt

/// The purchase saga's orchestrator (docs/payments.md, ADR 0013). A purchase's whole state is
/// its row in `purchases`; the orchestrator claims due rows with a lease (FOR UPDATE SKIP
/// LOCKED, so any number of instances share the work and a crashed one's purchases are taken
/// over when its lease ends), runs the row's step, and records the outcome in one transaction
/// that checks it still holds the lease.
///
///   reserve → kyc → authorise → agreement → transfer_title → transfer_deed → capture → mark_sold
///   → completed
///
/// A step that refuses (declined, reserved by another purchase, KYC not approved) or does not
/// answer after `max_attempts` (retried with exponential backoff and jitter) turns the saga to
/// compensation, which walks back from that step to the first: release the reservation, void
/// the hold, give the title back, return the deed, refund a capture. Compensations are retried
/// until they succeed. Every step and compensation is idempotent (purchase id + step), so running
/// one again after a crash changes nothing.
namespace restinu::payment {

struct SagaSettings {
    int max_attempts = 5;
    std::chrono::milliseconds backoff_base{200};
    std::chrono::milliseconds backoff_max{10'000};
    /// Longer than any one step can take (its calls' timeouts together).
    std::chrono::milliseconds lease{60'000};
    std::chrono::milliseconds poll{250};
    /// How soon a step under way elsewhere (the deed's chain transaction) is looked at again.
    std::chrono::milliseconds wait{1'000};
    std::size_t batch = 16;
    /// Fault injection for the crash tests: "before:<step>", "after:<step>",
    /// "before:compensate:<step>" or "after:compensate:<step>" kills this process (SIGKILL)
    /// at that point. Empty in production.
    std::string crash_at;
};

class Saga {
public:
    Saga(rt::IoContext& io, rt::PgPool& pool, StepRunner runner, SagaSettings settings,
         rt::MetricsRegistry& metrics);
    ~Saga();
    Saga(const Saga&) = delete;
    Saga& operator=(const Saga&) = delete;

    /// Runs the loop: due purchases as they come (woken at once by wake()), lapsed offers.
    void start();
    void stop();
    /// A purchase became due (accepted, retried by an operator): look now, not at the next poll.
    void wake();
    /// One pass: claims the due purchases and runs one step of each. Returns how many.
    rt::Task<std::size_t> runDue();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace restinu::payment
