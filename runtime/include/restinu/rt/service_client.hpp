#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {

class Config;
class HttpClient;

/// "http://host:port" → host and port; throws std::invalid_argument for anything else.
std::pair<std::string, std::uint16_t> parseHttpUrl(std::string_view url);

/// The list of http://host:port URLs at `key` (one per instance of the callee), `fallback`
/// when unset; a bad one is rejected into the config's problems (the service then refuses to
/// start).
std::vector<std::pair<std::string, std::uint16_t>> serviceHosts(Config& c, const std::string& key,
                                                                const std::string& fallback);

/// Calls from one service to another's /internal/v1 routes (docs/architecture.md, "Service to
/// service"): signed as `service:<caller>` with the role "service" by the identity secret every
/// service shares, so the callee's Access::anyRole({"service"}) admits it and nobody else.
/// The callee's instances are tried in turn when one cannot be reached; a call that reached
/// one and got no answer is not sent to another at once (it may have acted: the caller asks
/// again later with the same idempotency key). Every internal route is idempotent.
class ServiceClient {
public:
    struct Reply {
        enum class Kind {
            Ok,           ///< 2xx: `status` and `body` hold the answer
            Refused,      ///< 4xx (not 408/429): asking again changes nothing
            Unavailable,  ///< no answer, 5xx, 408 or 429: ask again later
        };
        Kind kind = Kind::Unavailable;
        int status = 0;
        std::string body;
        std::string type;    ///< the problem's type when refused ("" when it had none)
        std::string detail;  ///< why it was refused or could not be reached
    };

    ServiceClient(HttpClient& http, std::string callee, std::string caller,
                  std::vector<std::pair<std::string, std::uint16_t>> hosts,
                  std::string identity_secret, std::chrono::milliseconds timeout)
        : http_(http),
          callee_(std::move(callee)),
          caller_(std::move(caller)),
          hosts_(std::move(hosts)),
          secret_(std::move(identity_secret)),
          timeout_(timeout) {}

    /// POSTs `body` (JSON) to `target` on one of the callee's instances.
    Task<Reply> post(std::string target, std::string body);

private:
    HttpClient& http_;
    std::string callee_;
    std::string caller_;
    std::vector<std::pair<std::string, std::uint16_t>> hosts_;
    std::string secret_;
    std::chrono::milliseconds timeout_;
    std::size_t next_ = 0;
};

}  // namespace restinu::rt
