#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "offer_store.hpp"
#include "purchase_store.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::payment {

struct OfferSettings {
    std::chrono::milliseconds expiry{std::chrono::hours(72)};
    int deposit_bps = 10'000;  ///< of the price authorised and captured; 10,000: all of it
};

struct WebhookSettings {
    std::string secret;
    std::int64_t tolerance_s = 300;
};

/// Offers, purchases and the provider's webhooks. Buyers offer (approved KYC); the offer's
/// seller (the listing's owner or agent) or an admin accepts or rejects; the buyer, the seller
/// and admins read a purchase and its agreement. Anyone else gets 404, as for a purchase that
/// does not exist.
class Handlers {
public:
    Handlers(rt::PgPool& pool, OfferSettings offers, WebhookSettings webhooks,
             std::function<void()> wake_saga)
        : pool_(pool),
          offers_(pool),
          purchases_(pool),
          offer_settings_(offers),
          webhooks_(std::move(webhooks)),
          wake_saga_(std::move(wake_saga)) {}

    rt::Task<rt::Response> makeOffer(rt::Request& req);    // POST /api/v1/offers
    rt::Task<rt::Response> getOffer(rt::Request& req);     // GET /api/v1/offers/{id}
    rt::Task<rt::Response> acceptOffer(rt::Request& req);  // POST /api/v1/offers/{id}/accept
    rt::Task<rt::Response> rejectOffer(rt::Request& req);  // POST /api/v1/offers/{id}/reject
    rt::Task<rt::Response> getPurchase(rt::Request& req);  // GET /api/v1/purchases/{id}
    rt::Task<rt::Response> agreement(rt::Request& req);    // GET .../{id}/agreement.pdf
    rt::Task<rt::Response> webhook(rt::Request& req);  // POST /api/v1/payments/webhooks/provider

private:
    /// The offer (purchase) in the path, if the caller is its buyer, its seller or an admin;
    /// else 404, as for one that does not exist.
    rt::Task<Offer> partyOffer(rt::Request& req);
    rt::Task<PurchaseRow> partyPurchase(rt::Request& req);

    rt::PgPool& pool_;
    OfferStore offers_;
    PurchaseStore purchases_;
    OfferSettings offer_settings_;
    WebhookSettings webhooks_;
    std::function<void()> wake_saga_;
};

}  // namespace restinu::payment
