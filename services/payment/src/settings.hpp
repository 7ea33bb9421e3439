#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "handlers.hpp"
#include "saga.hpp"
#include "stripe_provider.hpp"

namespace restinu::rt {
class Config;
}

namespace restinu::payment {

/// Every payment.* key (docs/configuration.md), read and checked once.
struct PaymentSettings {
    StripeSettings provider;
    WebhookSettings webhooks;
    std::chrono::seconds search_lag{60};
    int fee_bps = 100;
    std::vector<std::pair<std::string, std::uint16_t>> property_hosts;
    std::chrono::milliseconds property_timeout{5'000};
    /// The blockchain service's instances: the deed step of a tokenized listing's purchase.
    std::vector<std::pair<std::string, std::uint16_t>> chain_hosts;
    std::chrono::milliseconds chain_timeout{5'000};
    OfferSettings offers;
    SagaSettings saga;
    bool saga_enabled = true;
};

PaymentSettings readPaymentSettings(rt::Config& c);

}  // namespace restinu::payment
