#pragma once

#include <string>
#include <string_view>

namespace restinu::rt {

/// SHA-256 of `data` as 64 lowercase hex characters (OpenSSL).
std::string sha256Hex(std::string_view data);

/// Bytes as lowercase hex ("\x00\xab" → "00ab").
std::string toHex(std::string_view bytes);

/// Appends `chars` lowercase hex characters from a per-thread PRNG (std::mt19937_64 seeded
/// from std::random_device), 16 per draw: unique ids for requests and traces, not secrets.
void appendRandomHex(std::string& out, std::size_t chars);

/// HMAC-SHA-256 of `data` under `key`, as 64 lowercase hex characters (OpenSSL).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

/// The same, appended to `out` (no string of its own: for a caller building a header).
void appendHmacSha256Hex(std::string& out, std::string_view key, std::string_view data);

}  // namespace restinu::rt
