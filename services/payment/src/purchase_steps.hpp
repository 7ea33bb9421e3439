#pragma once

#include "purchase_store.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
class ServiceClient;
class WorkerPool;
}  // namespace restinu::rt

namespace restinu::payment {

class Payments;
class PropertyClient;

/// What each saga step does, and its compensation (docs/payments.md has the table). Every one
/// is idempotent, keyed by the purchase id and the step: the property service keeps
/// (purchase, action), the payments keep "purchase:<id>:<operation>" idempotency keys, the
/// agreement is written once.
class StepRunner {
public:
    StepRunner(rt::PgPool& pool, Payments& payments, PropertyClient& property,
               rt::ServiceClient& chain, rt::WorkerPool& workers)
        : pool_(&pool),
          payments_(&payments),
          property_(&property),
          chain_(&chain),
          workers_(&workers) {}

    rt::Task<StepOutcome> forward(const PurchaseRow& p);
    rt::Task<StepOutcome> backward(const PurchaseRow& p);

    /// The idempotency key of a purchase's payment operation ("purchase:<id>:authorise").
    static std::string keyOf(const PurchaseRow& p, std::string_view operation);

private:
    rt::Task<StepOutcome> property(const PurchaseRow& p, const char* action, bool compensating);
    rt::Task<StepOutcome> agreement(const PurchaseRow& p);
    /// The deed of a tokenized listing, moved on chain by the blockchain service ("forward")
    /// or back ("back"); nothing for a listing that is not tokenized.
    rt::Task<StepOutcome> deed(const PurchaseRow& p, const char* direction, bool compensating);
    rt::Task<StepOutcome> voidHold(const PurchaseRow& p);
    rt::Task<StepOutcome> refundCapture(const PurchaseRow& p);

    rt::PgPool* pool_;
    Payments* payments_;
    PropertyClient* property_;
    rt::ServiceClient* chain_;
    rt::WorkerPool* workers_;
};

}  // namespace restinu::payment
