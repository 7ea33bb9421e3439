#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/http.hpp"

/// Who a request comes from, as the gateway tells the services. The gateway verifies the
/// caller's access token, strips every `X-Restinu-*` header the client sent, and adds the
/// identity headers below to every request it forwards, anonymous ones included (their user is
/// empty): the caller, the client's address as the gateway determined it, and an HMAC-SHA256
/// over them, the request's method, target, request id and body digest, and a timestamp, keyed
/// by a secret only the gateway and the services hold (`identity.secret`). Every service's
/// runtime checks that signature before any handler runs (see ADR 0005 and docs/security.md),
/// so a request that reaches a service directly cannot claim to be anyone or come from any
/// address, and a captured request cannot be sent again with another body; POST and PATCH
/// cannot be sent again at all within the window (ReplayCache).
namespace restinu::rt {

inline constexpr std::string_view kIdentityUserHeader = "X-Restinu-User-Id";
inline constexpr std::string_view kIdentityRolesHeader = "X-Restinu-Roles";  // a,b
inline constexpr std::string_view kIdentitySessionHeader = "X-Restinu-Session-Id";
inline constexpr std::string_view kIdentityClientIpHeader = "X-Restinu-Client-Ip";
inline constexpr std::string_view kIdentitySignatureHeader = "X-Restinu-Identity";  // t=..,v2=..

/// True for any header in the `X-Restinu-` namespace: the gateway drops them from clients.
bool isIdentityHeader(std::string_view name);

/// The parts of a forwarded request that the signature binds besides the caller.
struct SignedMessage {
    std::string_view method;
    std::string_view target;      ///< path and query as forwarded
    std::string_view request_id;  ///< the X-Request-Id sent with it
    std::string_view body;
    /// The body's SHA-256 (hex) when the body is not in memory (a spooled upload): then it
    /// stands for `body`, so both sides sign the same digest without reading the file again.
    std::string_view body_sha256 = {};
};

/// Appends the five identity headers (user, roles, session, client address, signature) for one
/// forwarded request to `out`. An empty `user_id` is an anonymous caller. `now_unix` is the
/// signing time.
void appendSignedIdentity(std::vector<std::pair<std::string, std::string>>& out,
                          std::string_view user_id, const std::vector<std::string>& roles,
                          std::string_view session_id, std::string_view client_ip,
                          const SignedMessage& message, std::string_view secret,
                          std::int64_t now_unix);

/// The same headers as a list; `who` null for an anonymous caller (tests, tools).
std::vector<std::pair<std::string, std::string>> signIdentity(const Identity* who,
                                                              std::string_view client_ip,
                                                              const SignedMessage& message,
                                                              std::string_view secret,
                                                              std::int64_t now_unix);

enum class IdentityCheck {
    Absent,   ///< no identity headers at all: a request that did not come through the gateway
    Valid,    ///< signed by the secret, fresh, for this method, target, request id and body
    Invalid,  ///< present but unsigned, badly signed, stale or for another request
};

/// What a valid signature vouches for.
struct VerifiedIdentity {
    std::optional<Identity> user;  ///< nullopt: an anonymous caller
    std::string client_ip;         ///< the client's address as the gateway saw it
    std::string mac;               ///< the signature (hex): unique per request, for ReplayCache
    std::int64_t signed_at = 0;    ///< unix seconds
};

/// Checks the identity headers of `req` (the request id is its X-Request-Id header). On Valid,
/// `*out` is what they vouch for; otherwise `*why` (if given) says what is wrong, for the log.
/// A signature older or newer than `max_age` is stale.
IdentityCheck verifyIdentity(const Request& req, std::string_view secret, std::int64_t now_unix,
                             std::chrono::seconds max_age, VerifiedIdentity* out,
                             std::string* why = nullptr);

/// Signatures seen within their validity window, process-wide (every loop thread of a service
/// shares one): a signed POST or PATCH is accepted once. Thread-safe; entries leave when their
/// window has passed, and at most `capacity` are kept (the oldest go first, so a flood beyond
/// it can at worst reopen the window for the oldest signatures, never fill memory).
class ReplayCache {
public:
    explicit ReplayCache(std::size_t capacity = 1'000'000);
    ~ReplayCache();
    ReplayCache(const ReplayCache&) = delete;
    ReplayCache& operator=(const ReplayCache&) = delete;

    /// True the first time `mac` is offered (it is then remembered until `expires_unix`).
    bool firstSeen(std::string_view mac, std::int64_t expires_unix, std::int64_t now_unix);
    std::size_t size() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace restinu::rt
