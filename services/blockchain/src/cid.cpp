#include "cid.hpp"

#include <openssl/sha.h>

namespace restinu::blockchain::cid {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
// CID v1, codec raw (0x55), multihash sha2-256 (0x12) of 32 bytes (0x20): each one-byte varints.
constexpr std::string_view kPrefix = "\x01\x55\x12\x20";

}  // namespace

std::string base32(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 5) {
            out += kAlphabet[(buffer >> (bits - 5)) & 0x1f];
            bits -= 5;
        }
    }
    if (bits > 0) {
        out += kAlphabet[(buffer << (5 - bits)) & 0x1f];
    }
    return out;
}

std::string ofBytes(std::string_view bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    std::string raw(kPrefix);
    raw.append(reinterpret_cast<const char*>(digest), sizeof digest);
    return "b" + base32(raw);
}

std::optional<std::string> digestOf(std::string_view text) {
    // 36 bytes are 58 base32 characters (the last carrying 4 bits), after the "b".
    if (text.size() != 59 || text[0] != 'b') {
        return std::nullopt;
    }
    std::string raw;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text.substr(1)) {
        const auto at = kAlphabet.find(c);
        if (at == std::string_view::npos) {
            return std::nullopt;
        }
        buffer = (buffer << 5) | static_cast<unsigned>(at);
        bits += 5;
        if (bits >= 8) {
            raw += static_cast<char>((buffer >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    if ((buffer & ((1U << bits) - 1)) != 0 || raw.size() != 36 ||
        std::string_view(raw).substr(0, 4) != kPrefix) {
        return std::nullopt;
    }
    return raw.substr(4);
}

}  // namespace restinu::blockchain::cid
