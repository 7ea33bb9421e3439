#include "restinu/payment/service.hpp"

#include <memory>

#include "commands.hpp"
#include "handlers.hpp"
#include "holds.hpp"
#include "payments.hpp"
#include "property_client.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/service_client.hpp"
#include "saga.hpp"
#include "settings.hpp"
#include "views.hpp"

namespace restinu::payment {

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "payment";
    s.commands = operatorCommands();
    s.configure = [](rt::Config& c) {
        auto settings = std::make_shared<PaymentSettings>(readPaymentSettings(c));
        return rt::WireFn{[settings](rt::Shard& shard) {
            auto& provider =
                shard.keep(std::make_unique<StripeProvider>(shard.http(), settings->provider));
            auto& payments = shard.keep(std::make_unique<Payments>(
                shard.pg(), provider, settings->fee_bps, settings->search_lag));
            auto& property = shard.keep(std::make_unique<PropertyClient>(
                shard.http(), settings->property_hosts, shard.settings().identity_secret,
                settings->property_timeout));
            auto& chain = shard.keep(std::make_unique<rt::ServiceClient>(
                shard.http(), "blockchain", "payment", settings->chain_hosts,
                shard.settings().identity_secret, settings->chain_timeout));
            auto& saga = shard.keep(std::make_unique<Saga>(
                shard.io(), shard.pg(),
                StepRunner(shard.pg(), payments, property, chain, shard.workers()), settings->saga,
                shard.metrics()));
            if (settings->saga_enabled) {
                saga.start();
            }
            auto& h = shard.keep(std::make_unique<Handlers>(
                shard.pg(), settings->offers, settings->webhooks, [&saga] { saga.wake(); }));
            auto& r = shard.router();
            const auto signed_in = rt::Access::authenticated();
            r.post("/api/v1/offers", signed_in, [&h](rt::Request& q) { return h.makeOffer(q); });
            r.get("/api/v1/offers/{id}", signed_in, [&h](rt::Request& q) { return h.getOffer(q); });
            r.post("/api/v1/offers/{id}/accept", signed_in,
                   [&h](rt::Request& q) { return h.acceptOffer(q); });
            r.post("/api/v1/offers/{id}/reject", signed_in,
                   [&h](rt::Request& q) { return h.rejectOffer(q); });
            r.get("/api/v1/purchases/{id}", signed_in,
                  [&h](rt::Request& q) { return h.getPurchase(q); });
            r.get("/api/v1/purchases/{id}/agreement.pdf", signed_in,
                  [&h](rt::Request& q) { return h.agreement(q); });
            // The provider calls this; its signature is the check.
            r.post("/api/v1/payments/webhooks/provider", rt::Access::none(),
                   [&h](rt::Request& q) { return h.webhook(q); });
            // Holds for the other services' sagas (the blockchain service's share purchases).
            auto& holds = shard.keep(std::make_unique<Holds>(payments));
            const auto services = rt::Access::anyRole({"service"});
            r.post("/internal/v1/holds", services,
                   [&holds](rt::Request& q) { return holds.authorise(q); });
            r.post("/internal/v1/holds/capture", services,
                   [&holds](rt::Request& q) { return holds.capture(q); });
            r.post("/internal/v1/holds/void", services,
                   [&holds](rt::Request& q) { return holds.release(q); });
            // Read models of other services' data, from their events.
            shard.consume("payment-listings", {"property"}, &applyListingEvent);
            shard.consume("payment-kyc", {"user"}, &applyKycEvent);
        }};
    };
    return s;
}

}  // namespace restinu::payment
