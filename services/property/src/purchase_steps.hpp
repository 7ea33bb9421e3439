#pragma once

#include "restinu/rt/cache.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::property {

/// What the purchase saga (payment service) asks of a listing, over an internal route the
/// gateway never forwards and only the payment service's signed identity may call:
///   POST /internal/v1/listings/{id}/purchase-steps {purchase_id, action, buyer_id,
///   expected_version}
/// with action reserve (active, at the version the offer saw → reserved by this purchase),
/// release, transfer (the buyer becomes the owner), revert_transfer, mark_sold. Each
/// (purchase, action) happens once: a retry answers the listing as it is and changes nothing.
/// Compensations (release, revert_transfer) of something never done are no-ops, so the saga
/// can always run them. A step the listing's state forbids is 409 `listing-unavailable`.
class PurchaseSteps {
public:
    PurchaseSteps(rt::PgPool& primary, rt::Cache& cache) : primary_(primary), cache_(cache) {}

    rt::Task<rt::Response> apply(rt::Request& req);

private:
    rt::PgPool& primary_;
    rt::Cache& cache_;
};

/// The identity the payment service signs its calls with (user id; its role is "service").
inline constexpr std::string_view kPaymentServiceCaller = "service:payment";

}  // namespace restinu::property
