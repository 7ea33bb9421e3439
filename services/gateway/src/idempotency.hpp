#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/http.hpp"

/// Idempotency keys (draft-ietf-httpapi-idempotency-key-header, Stripe semantics; ADR 0005).
/// Redis holds one value per (caller, key): `L<fingerprint><owner>` while the first request
/// runs, `D<fingerprint><stored answer>` once it answered below 500.
namespace restinu::gateway {

/// The key of an `Idempotency-Key` header: a structured-field string ("...") or, as most
/// clients send it, the bare token. 1 to 255 printable ASCII characters; nullopt otherwise.
std::optional<std::string> parseIdempotencyKey(std::string_view header);

/// What the key is bound to: method, target and body (SHA-256, 64 hex characters). The same key
/// with another fingerprint is refused with 422.
std::string requestFingerprint(std::string_view method, std::string_view target,
                               std::string_view body);

/// The Redis key: scoped to the caller, so that two callers never see each other's answers.
std::string idempotencyRedisKey(std::string_view caller, std::string_view key);

struct StoredAnswer {
    int status = 0;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// Length-prefixed (binary-safe) encoding of a stored answer, and back (nullopt if malformed).
std::string encodeAnswer(const StoredAnswer& a);
std::optional<StoredAnswer> decodeAnswer(std::string_view text);

/// Lua: KEYS[1] the key; ARGV[1] the lock value, ARGV[2] its TTL in ms. Sets the lock if the key
/// is free and returns "" (run the request); otherwise returns the current value.
std::string_view idempotencyBeginScript();
/// Lua: KEYS[1]; ARGV[1] our lock value, ARGV[2] the new value ("" deletes), ARGV[3] TTL ms.
/// Replaces (or deletes) the value only while our lock is still there; returns 1 if it did.
std::string_view idempotencyFinishScript();

}  // namespace restinu::gateway
