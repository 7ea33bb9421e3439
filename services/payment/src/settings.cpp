#include "settings.hpp"

#include "restinu/rt/config.hpp"
#include "restinu/rt/service_client.hpp"

namespace restinu::payment {

PaymentSettings readPaymentSettings(rt::Config& c) {
    PaymentSettings s;
    const auto url = c.str("payment.provider.url", "http://127.0.0.1:8109");
    try {
        std::tie(s.provider.host, s.provider.port) = parseHttpUrl(url);
    } catch (const std::exception& e) {
        c.reject("payment.provider.url", e.what());
    }
    s.provider.secret_key = c.str("payment.provider.secret_key", "sk_test_sandbox");
    s.provider.timeout = c.duration("payment.provider.timeout", std::chrono::seconds(10));
    s.webhooks.secret = c.str("payment.provider.webhook_secret", "whsec_sandbox");
    s.webhooks.tolerance_s = c.integer("payment.provider.webhook_tolerance_s", 300, 1, 3600);
    s.search_lag = std::chrono::duration_cast<std::chrono::seconds>(
        c.duration("payment.provider.search_lag", std::chrono::seconds(60)));
    s.fee_bps = static_cast<int>(c.integer("payment.fee_bps", 100, 0, 10'000));
    s.property_hosts = rt::serviceHosts(c, "payment.property_urls", "http://127.0.0.1:8102");
    s.property_timeout = c.duration("payment.property_timeout", std::chrono::seconds(5));
    s.offers.expiry = c.duration("payment.offers.expiry", std::chrono::hours(72));
    s.offers.deposit_bps =
        static_cast<int>(c.integer("payment.purchase.deposit_bps", 10'000, 1, 10'000));
    s.saga.max_attempts = static_cast<int>(c.integer("payment.saga.max_attempts", 5, 1, 100));
    s.saga.backoff_base = c.duration("payment.saga.backoff_base", std::chrono::milliseconds(200));
    s.saga.backoff_max = c.duration("payment.saga.backoff_max", std::chrono::seconds(10));
    s.saga.lease = c.duration("payment.saga.lease", std::chrono::seconds(60));
    s.saga.poll = c.duration("payment.saga.poll", std::chrono::milliseconds(250));
    s.saga.wait = c.duration("payment.saga.wait", std::chrono::seconds(1));
    s.chain_hosts = rt::serviceHosts(c, "payment.chain_urls", "http://127.0.0.1:8105");
    s.chain_timeout = c.duration("payment.chain_timeout", std::chrono::seconds(5));
    s.saga.batch = static_cast<std::size_t>(c.integer("payment.saga.batch", 16, 1, 1000));
    s.saga.crash_at = c.str("payment.saga.crash_at", "");
    s.saga_enabled = c.boolean("payment.saga.enabled", true);
    return s;
}

}  // namespace restinu::payment
