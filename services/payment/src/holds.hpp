#pragma once

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

/// Payment holds for the other services' sagas (the blockchain service's share purchases):
/// internal routes, callable only by a service identity, each keyed by the caller's
/// idempotency key so that a retried call never holds, captures or voids twice.
///
///   POST /internal/v1/holds          {key, payer_id, payee_id, amount, payment_method}
///   POST /internal/v1/holds/capture  {hold_key, key, amount}
///   POST /internal/v1/holds/void     {hold_key, key}
///
/// A hold is named by the key that made it (`hold_key`): the caller never needs to have seen
/// the answer of the call that made it. 200 with the intent when it took effect, 402
/// `payment-declined` when refused for good, 503 when the provider did not answer (ask again
/// with the same key).
namespace restinu::payment {

class Payments;

class Holds {
public:
    explicit Holds(Payments& payments) : payments_(payments) {}

    rt::Task<rt::Response> authorise(rt::Request& req);
    rt::Task<rt::Response> capture(rt::Request& req);
    rt::Task<rt::Response> release(rt::Request& req);

private:
    Payments& payments_;
};

}  // namespace restinu::payment
