#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace restinu::rt {

/// FNV-1a, 64 bits: a fast change detector and name for text (statement names, ETags of
/// cached pages); not a MAC and not collision-proof against someone choosing the input.
inline std::uint64_t fnv1a64(std::string_view data) {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : data) {
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

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
