#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "restinu/rt/service_client.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::payment {

/// The purchase saga's calls to the property service: POST
/// /internal/v1/listings/{id}/purchase-steps, signed as the payment service (user
/// "service:payment", role "service") with the identity secret every service shares. Each
/// call is idempotent on the property side (keyed by purchase and action), so the saga
/// retries it freely. Instances are tried in turn when one cannot be reached.
class PropertyClient {
public:
    struct Reply {
        enum class Kind { Ok, Refused, Unavailable };
        Kind kind = Kind::Unavailable;
        std::string detail;  ///< why it was refused or could not be reached
    };

    PropertyClient(rt::HttpClient& http, std::vector<std::pair<std::string, std::uint16_t>> hosts,
                   std::string identity_secret, std::chrono::milliseconds timeout)
        : client_(http, "property", "payment", std::move(hosts), std::move(identity_secret),
                  timeout) {}

    rt::Task<Reply> step(std::string listing_id, std::string purchase_id, std::string action,
                         std::string buyer_id, int expected_version);

private:
    rt::ServiceClient client_;
};

}  // namespace restinu::payment
