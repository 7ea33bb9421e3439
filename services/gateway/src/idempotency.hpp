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

/// The caller's index of its keys (a sorted set, score = expiry in unix ms), which bounds how
/// many keys one caller holds; same hash tag as its keys.
std::string idempotencyIndexKey(std::string_view caller);

/// Lua: KEYS[1] the key, KEYS[2] the caller's index; ARGV[1] the lock value, ARGV[2] its TTL in
/// ms, ARGV[3] now (unix ms), ARGV[4] the most keys a caller may hold. Sets the lock if the key
/// is free and the caller holds fewer than ARGV[4] live keys, and returns "" (run the request);
/// "X" when the caller holds too many; otherwise the current value (which starts with L or D).
std::string_view idempotencyBeginScript();
/// Lua: KEYS[1], KEYS[2] as above; ARGV[1] our lock value, ARGV[2] the new value ("" deletes),
/// ARGV[3] TTL ms, ARGV[4] now (unix ms). Replaces (or deletes) the value only while our lock
/// is still there, and keeps the index in step; returns 1 if it did.
std::string_view idempotencyFinishScript();

/// Whether a stored answer may be replayed later: not one its server marked `no-store` (a
/// token, a secret), and not a 5xx (the key is released for a retry instead).
bool answerMayBeStored(int status, const std::vector<std::pair<std::string, std::string>>& headers);

/// The value held while the first request with a key runs: `L<fingerprint><owner>`, where the
/// owner is random, so that only this request's finish replaces it.
std::string lockValue(std::string_view fingerprint, std::string_view owner);

/// The value that replays `a` to a later request with the same fingerprint.
std::string storedValue(std::string_view fingerprint, const StoredAnswer& a);

/// What the begin script's reply means for a request whose fingerprint is `fingerprint`.
struct BeginReply {
    enum class Kind {
        Run,          ///< the key was free and is now ours: run the request
        TooManyKeys,  ///< the caller holds idempotency_max_keys keys already
        Reused,       ///< the key was used with another request (another fingerprint)
        InUse,        ///< the first request with this key is still running
        Replay,       ///< it answered: `answer` is what it answered
        Unreadable,   ///< the stored value is malformed
    };
    Kind kind = Kind::Run;
    StoredAnswer answer;
};
BeginReply readBeginReply(std::string_view value, std::string_view fingerprint);

}  // namespace restinu::gateway
