#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "restinu/rt/jwt.hpp"

/// Access-token checks at the edge (ADR 0005): the bearer token of a request is verified against
/// the user service's JWKS; a verified token is remembered until it expires, as Envoy's JWT
/// filter does, so that the signature check (≈100 µs of ECDSA) runs once per token, not once per
/// request.
namespace restinu::gateway {

/// The token of `Authorization: Bearer <token>`; nullopt when the header is absent, empty when it
/// is present but not a bearer token (which is refused like a bad token).
std::optional<std::string_view> bearerToken(std::string_view authorization_header);

/// Verified tokens of one loop thread, until their `exp`. Bounded: when full, expired entries are
/// dropped, and if that frees nothing the whole cache is (a new token costs one verification).
/// Claims are shared, not copied: a request holds its caller's claims while it runs, even if
/// the entry is dropped meanwhile.
class TokenCache {
public:
    using Claims = std::shared_ptr<const rt::AccessClaims>;

    explicit TokenCache(std::size_t max_entries = 10'000) : max_(max_entries) {}

    /// The claims of `token` if it was verified before and has not expired at `now_unix`.
    Claims find(std::string_view token, std::int64_t now_unix);
    Claims put(std::string_view token, rt::AccessClaims claims, std::int64_t now_unix);
    std::size_t size() const { return entries_.size(); }

private:
    // Looked up by the header's view, without copying the token. Hashes the signature (after
    // the last '.'), a sixth of an ES256 token: only verified tokens are stored, so a caller
    // cannot fill a bucket with tokens crafted to collide.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            auto dot = s.rfind('.');
            return std::hash<std::string_view>{}(dot == std::string_view::npos ? s : s.substr(dot));
        }
    };
    std::size_t max_;
    std::unordered_map<std::string, Claims, Hash, std::equal_to<>> entries_;
};

/// Rate-limits JWKS fetches across every loop thread: a token signed with an unknown key triggers
/// at most one fetch per `min_interval` (so a flood of forged kids cannot make the gateway hammer
/// the user service); periodic refreshes follow key rotation anyway.
class RefreshGate {
public:
    explicit RefreshGate(std::chrono::milliseconds min_interval) : min_interval_(min_interval) {}

    /// True (and the gate closes until now + min_interval) if a fetch may start at `now_ms`.
    bool tryAcquire(std::int64_t now_ms);

private:
    std::chrono::milliseconds min_interval_;
    std::atomic<std::int64_t> next_allowed_ms_{0};
};

}  // namespace restinu::gateway
