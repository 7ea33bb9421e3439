#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "provider.hpp"
#include "restinu/rt/service_client.hpp"

namespace restinu::rt {
class HttpClient;
}

/// The Stripe-shaped HTTP adapter: PaymentIntents with manual capture, form-encoded bodies,
/// `Authorization: Bearer <secret key>`, an `Idempotency-Key` on every POST, and the
/// `Stripe-Signature` check of webhooks. Plain HTTP to `url`: for Stripe itself that is a local
/// TLS-originating egress proxy (ADR 0013); for `make run` and the tests, the sandbox.
namespace restinu::payment {

struct StripeSettings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8109;
    std::string secret_key;
    std::chrono::milliseconds timeout{10'000};
};

using rt::parseHttpUrl;

/// application/x-www-form-urlencoded of `fields`, in order.
std::string formEncode(const std::vector<std::pair<std::string, std::string>>& fields);

class StripeProvider final : public Provider {
public:
    StripeProvider(rt::HttpClient& http, StripeSettings settings)
        : http_(http), settings_(std::move(settings)) {}

    rt::Task<ProviderResult> authorise(const AuthoriseRequest& req, std::string key) override;
    rt::Task<ProviderResult> capture(std::string provider_id, std::int64_t amount,
                                     std::string key) override;
    rt::Task<ProviderResult> cancel(std::string provider_id, std::string key) override;
    rt::Task<ProviderResult> refund(std::string provider_id, std::int64_t amount,
                                    std::string key) override;
    rt::Task<std::optional<ProviderIntent>> find(std::string intent_id) override;
    rt::Task<ProviderIntent> retrieve(std::string provider_id) override;
    rt::Task<std::vector<ProviderIntent>> list() override;

private:
    /// A GET answered 200 with a JSON object; throws otherwise.
    rt::Task<boost::json::object> getJson(std::string target);
    rt::Task<ProviderResult> post(std::string target,
                                  std::vector<std::pair<std::string, std::string>> form,
                                  std::string key);
    rt::HttpClient& http_;
    StripeSettings settings_;
};

/// What a webhook's `Stripe-Signature` check found.
enum class SignatureCheck { Valid, Malformed, BadSignature, Stale };

/// Checks `header` ("t=<unix>,v1=<hex>[,v1=...]") for `payload`: some v1 must be
/// HMAC-SHA256(secret, "<t>.<payload>") and |now − t| within `tolerance_s` (Stripe's default
/// is 300 s).
SignatureCheck verifyStripeSignature(std::string_view header, std::string_view payload,
                                     std::string_view secret, std::int64_t now_unix,
                                     std::int64_t tolerance_s);

/// The header the sandbox sends: "t=<now>,v1=<hmac>".
std::string stripeSignature(std::string_view payload, std::string_view secret,
                            std::int64_t now_unix);

}  // namespace restinu::payment
