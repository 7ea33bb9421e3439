#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/http.hpp"

/// Who a request comes from, as the gateway tells the services. The gateway verifies the
/// caller's access token, strips every `X-Restinu-*` header the client sent, and adds the
/// identity headers below with an HMAC-SHA256 over them, the request's method and target and
/// a timestamp, keyed by a secret only the gateway and the services hold (`identity.secret`).
/// Every service's runtime checks that signature before any handler runs (see ADR 0005), so a
/// request that reaches a service directly cannot claim to be anyone.
namespace restinu::rt {

inline constexpr std::string_view kIdentityUserHeader = "X-Restinu-User-Id";
inline constexpr std::string_view kIdentityRolesHeader = "X-Restinu-Roles";  // a,b
inline constexpr std::string_view kIdentitySessionHeader = "X-Restinu-Session-Id";
inline constexpr std::string_view kIdentitySignatureHeader = "X-Restinu-Identity";  // t=..,v1=..

/// True for any header in the `X-Restinu-` namespace: the gateway drops them from clients.
bool isIdentityHeader(std::string_view name);

/// The identity headers (user, roles, session, signature) for one forwarded request.
/// `target` is the path and query as forwarded; `now_unix` the signing time.
std::vector<std::pair<std::string, std::string>> signIdentity(const Identity& who,
                                                              std::string_view method,
                                                              std::string_view target,
                                                              std::string_view secret,
                                                              std::int64_t now_unix);

/// The same four headers, appended to `out` (the gateway's forwarded headers).
void appendSignedIdentity(std::vector<std::pair<std::string, std::string>>& out,
                          std::string_view user_id, const std::vector<std::string>& roles,
                          std::string_view session_id, std::string_view method,
                          std::string_view target, std::string_view secret, std::int64_t now_unix);

enum class IdentityCheck {
    Absent,   ///< no identity headers at all: an anonymous request
    Valid,    ///< signed by the secret, fresh, for this method and target
    Invalid,  ///< present but unsigned, badly signed, stale or for another request
};

/// Checks the identity headers of `req`. On Valid, `*out` is the caller; otherwise `*why` (if
/// given) says what is wrong, for the log. A signature older or newer than `max_age` is stale.
IdentityCheck verifyIdentity(const Request& req, std::string_view secret, std::int64_t now_unix,
                             std::chrono::seconds max_age, Identity* out,
                             std::string* why = nullptr);

}  // namespace restinu::rt
