#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <fstream>
#include <set>
#include <string>

#include "commands.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/router.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::app {
namespace {

// Every route each service serves, with who may call it: wired as the service wires itself,
// then listed. A new route shows up here (and must be given its rule, which Router::add needs);
// a changed rule is a visible change to this table.
std::set<std::string> routesOf(std::string_view name) {
    auto spec = specFor(name);
    auto config = rt::Config::fromText(
        "", {"RESTINU_PG__URL=host=127.0.0.1 port=1",
             "RESTINU_IDENTITY__SECRET=" + std::string(40, 's'),
             "RESTINU_KYC__ENCRYPTION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
             "RESTINU_AUTH__KEY_ENCRYPTION_KEY=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="});
    auto settings = rt::readRuntimeSettings(config, spec);
    auto wire = spec.configure ? spec.configure(config) : rt::WireFn{};
    config.check();
    boost::asio::io_context io;
    rt::MetricsRegistry metrics;
    rt::WorkerPool workers(1);
    std::set<std::string> out;
    {
        rt::Shard shard(io, 1, settings, metrics, workers);  // not the first: no consumers
        if (wire) {
            wire(shard);
        }
        for (const auto& r : shard.router().routes()) {
            out.insert(std::string(rt::methodName(r.method)) + " " + r.pattern + " " +
                       r.access.describe());
        }
    }
    return out;
}

TEST(RouteAccess, TheUserServicesRoutesAndTheirRules) {
    EXPECT_EQ(routesOf("user"), (std::set<std::string>{
                                    "POST /api/v1/auth/register none",
                                    "POST /api/v1/auth/login none",
                                    "POST /api/v1/auth/refresh none",
                                    "POST /api/v1/auth/logout none",
                                    "GET /api/v1/users/me authenticated",
                                    "PATCH /api/v1/users/me authenticated",
                                    "GET /api/v1/users/me/sessions authenticated",
                                    "DELETE /api/v1/users/me/sessions/{id} authenticated",
                                    "GET /api/v1/users/me/kyc authenticated",
                                    "POST /api/v1/users/me/kyc authenticated",
                                    // agents' public profile: the handler answers agents only
                                    "GET /api/v1/users/{id}/profile none",
                                    "GET /api/v1/admin/users role:admin",
                                    "PATCH /api/v1/admin/users/{id} role:admin",
                                    "GET /api/v1/admin/kyc role:admin",
                                    "POST /api/v1/admin/kyc/{user_id}/approve role:admin",
                                    "POST /api/v1/admin/kyc/{user_id}/reject role:admin",
                                    "GET /.well-known/jwks.json none",
                                }));
}

TEST(RouteAccess, ThePropertyServicesRoutesAndTheirRules) {
    EXPECT_EQ(routesOf("property"), (std::set<std::string>{
                                        "POST /api/v1/properties role:agent|admin",
                                        "GET /api/v1/properties none",
                                        "GET /api/v1/properties/{id} none",
                                        "PATCH /api/v1/properties/{id} authenticated",
                                        "DELETE /api/v1/properties/{id} authenticated",
                                        // the caller's own listings (never another's)
                                        "GET /api/v1/users/me/listings authenticated",
                                        // photos: the handler checks owner or admin
                                        "POST /api/v1/properties/{id}/images authenticated",
                                        "PATCH /api/v1/properties/{id}/images authenticated",
                                        "DELETE /api/v1/properties/{id}/images/{image_id} "
                                        "authenticated",
                                        "GET /api/v1/images/{name} none",
                                        // Vastu: the handler checks owner or admin
                                        "POST /api/v1/properties/{id}/vastu authenticated",
                                        "GET /api/v1/vastu/certificates/{id} none",
                                        "GET /api/v1/vastu/public-key none",
                                        // internal: the payment service's purchase saga only
                                        "POST /internal/v1/listings/{id}/purchase-steps "
                                        "role:service",
                                    }));
}

TEST(RouteAccess, ThePaymentServicesRoutesAndTheirRules) {
    EXPECT_EQ(routesOf("payment"),
              (std::set<std::string>{
                  "POST /api/v1/offers authenticated",
                  "GET /api/v1/offers/{id} authenticated",
                  "POST /api/v1/offers/{id}/accept authenticated",
                  "POST /api/v1/offers/{id}/reject authenticated",
                  "GET /api/v1/purchases/{id} authenticated",
                  "GET /api/v1/purchases/{id}/agreement.pdf authenticated",
                  // the provider's webhooks: their Stripe-Signature is the check
                  "POST /api/v1/payments/webhooks/provider none",
                  // internal: holds for the blockchain service's share purchases
                  "POST /internal/v1/holds role:service",
                  "POST /internal/v1/holds/capture role:service",
                  "POST /internal/v1/holds/void role:service",
              }));
}

TEST(RouteAccess, TheNotificationServicesRoutesAndTheirRules) {
    EXPECT_EQ(routesOf("notification"),
              (std::set<std::string>{
                  "GET /api/v1/notifications authenticated",
                  "POST /api/v1/notifications/{id}/read authenticated",
                  "POST /api/v1/notifications/read-all authenticated",
                  "GET /api/v1/users/me/notification-preferences authenticated",
                  "PUT /api/v1/users/me/notification-preferences authenticated",
                  "POST /api/v1/users/me/push-devices authenticated",
                  "DELETE /api/v1/users/me/push-devices/{token} authenticated",
                  "POST /api/v1/saved-searches authenticated",
                  "GET /api/v1/saved-searches authenticated",
                  "DELETE /api/v1/saved-searches/{id} authenticated",
                  // followed from an e-mail: the signed token is the check
                  "GET /api/v1/notifications/verify-email none",
                  "GET /api/v1/notifications/unsubscribe none",
                  "POST /api/v1/notifications/unsubscribe none",
              }));
}

TEST(RouteAccess, TheBlockchainServicesRoutesAndTheirRules) {
    EXPECT_EQ(routesOf("blockchain"),
              (std::set<std::string>{
                  "POST /api/v1/properties/{id}/tokenize role:admin",
                  // a tokenization is public, as the chain it describes
                  "GET /api/v1/properties/{id}/tokenize none",
                  "POST /api/v1/wallets/challenge authenticated",
                  "POST /api/v1/wallets/link authenticated",
                  "POST /api/v1/wallets/custodial authenticated",
                  "GET /api/v1/users/me/wallet authenticated",
                  "GET /api/v1/users/me/portfolio authenticated",
                  // the owner or an admin: the handler checks the listing's owner
                  "POST /api/v1/properties/{id}/rent authenticated",
                  "POST /api/v1/users/me/dividends/claim authenticated",
                  // the handlers show a caller only their own purchases (an admin any)
                  "POST /api/v1/investments authenticated",
                  "GET /api/v1/investments authenticated",
                  "GET /api/v1/investments/{id} authenticated",
                  // internal: the payment service's purchase saga only
                  "POST /internal/v1/deeds/{id}/transfers role:service",
              }));
}

// The sandbox is a test peer speaking the provider's API, never behind the gateway.
TEST(RouteAccess, TheSandboxSpeaksTheProvidersApi) {
    EXPECT_EQ(routesOf("sandbox"), (std::set<std::string>{
                                       "POST /v1/payment_intents none",
                                       "GET /v1/payment_intents none",
                                       "GET /v1/payment_intents/search none",
                                       "GET /v1/payment_intents/{id} none",
                                       "POST /v1/payment_intents/{id}/capture none",
                                       "POST /v1/payment_intents/{id}/cancel none",
                                       "POST /v1/refunds none",
                                       "POST /sandbox/redeliver none",
                                   }));
}

// The gateway forwards every method of each public prefix and leaves the rules to the
// services (it checks tokens and limits itself); the stub services serve no routes of their own
// yet. Any other service must have its table above.
TEST(RouteAccess, EveryOtherServiceIsKnownHere) {
    for (const auto& row : registry::services()) {
        if (row.name == "user" || row.name == "property" || row.name == "payment" ||
            row.name == "sandbox" || row.name == "notification" || row.name == "blockchain") {
            continue;
        }
        auto routes = routesOf(row.name);
        if (row.name == "gateway") {
            std::size_t prefixes = 0;  // a "*" prefix lives under a plain one's routes
            for (const auto& svc : registry::services()) {
                for (auto p : svc.prefixes) {
                    prefixes += p.find('*') == std::string_view::npos ? 1 : 0;
                }
            }
            EXPECT_EQ(routes.size(), 7 * prefixes);
            for (const auto& r : routes) {
                EXPECT_TRUE(r.ends_with(" none")) << r;
            }
        } else {
            EXPECT_TRUE(routes.empty()) << row.name << " serves routes: list them with their rules";
        }
    }
}

// The API document (api/openapi.yaml) lists exactly the routes the services serve: every
// service route has its operation, and every operation of the public API is served.
TEST(RouteAccess, TheApiDocumentHasEveryRouteAndNothingElse) {
    std::ifstream in(std::string(RESTINU_SOURCE_DIR) + "/api/openapi.yaml");
    ASSERT_TRUE(in) << "api/openapi.yaml";
    std::set<std::string> documented;
    std::string line;
    std::string path;
    bool in_paths = false;
    while (std::getline(in, line)) {
        if (line == "paths:") {
            in_paths = true;
            continue;
        }
        if (!line.empty() && line[0] != ' ' && line[0] != '#') {
            in_paths = false;  // the next top-level key
        }
        if (!in_paths) {
            continue;
        }
        if (line.size() > 3 && line.rfind("  /", 0) == 0 && line.back() == ':') {
            path = line.substr(2, line.size() - 3);
            continue;
        }
        for (std::string m : {"get", "post", "put", "patch", "delete"}) {
            if (line == "    " + m + ":") {
                std::transform(m.begin(), m.end(), m.begin(), ::toupper);
                documented.insert(m + " " + path);
            }
        }
    }
    std::set<std::string> served{"GET /healthz", "GET /readyz",        // the runtime's own
                                 "GET /api/v1/notifications/stream"};  // the gateway's own
    for (const auto& row : registry::services()) {
        if (row.name == "gateway" || row.name == "sandbox") {
            continue;  // the sandbox is not the platform's API
        }
        for (const auto& r : routesOf(row.name)) {
            if (r.find(" /internal/") == std::string::npos) {  // never through the gateway
                served.insert(r.substr(0, r.rfind(' ')));      // without the rule
            }
        }
    }
    EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace restinu::app
