#include "restinu/rt/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>

namespace restinu::rt {
namespace {

struct MacFree {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// The HMAC algorithm, fetched once: fetching takes a lock and searches the provider tables.
EVP_MAC* hmacAlgorithm() {
    static EVP_MAC* const mac = [] {
        EVP_MAC* m = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
        if (m == nullptr) {
            throw std::runtime_error("OpenSSL has no HMAC");
        }
        return m;
    }();
    return mac;
}

// A context keyed once and reset for each message. Keying hashes two blocks (the inner and
// outer pads) and, with the algorithm fetch, costs five times the MAC of a short message; the
// gateway signs and every service checks one such message per request.
struct KeyedHmac {
    std::string key;
    std::unique_ptr<EVP_MAC_CTX, MacFree> ctx;

    void rekey(std::string_view k) {
        ctx.reset(EVP_MAC_CTX_new(hmacAlgorithm()));
        char digest[] = "SHA256";
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
        if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(k.data()),
                                 k.size(), params) != 1) {
            ctx.reset();
            throw std::runtime_error("HMAC-SHA-256 could not be keyed");
        }
        key.assign(k);
    }
};

// Both hex digits of every byte value, so that a byte costs one lookup.
constexpr std::array<char, 512> kHexPairs = [] {
    constexpr char kHex[] = "0123456789abcdef";
    std::array<char, 512> t{};
    for (std::size_t b = 0; b < 256; ++b) {
        t[2 * b] = kHex[b >> 4];
        t[2 * b + 1] = kHex[b & 0xf];
    }
    return t;
}();

void hexInto(char* out, const unsigned char* bytes, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::memcpy(out + 2 * i, &kHexPairs[2 * std::size_t{bytes[i]}], 2);
    }
}

}  // namespace

std::string toHex(std::string_view bytes) {
    std::string out(bytes.size() * 2, '\0');
    hexInto(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return out;
}

void appendRandomHex(std::string& out, std::size_t chars) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto at = out.size();
    out.resize(at + chars);
    char* p = out.data() + at;
    while (chars > 0) {
        auto v = rng();
        unsigned char bytes[8];
        std::memcpy(bytes, &v, sizeof bytes);
        char hex[16];
        hexInto(hex, bytes, sizeof bytes);
        auto k = std::min<std::size_t>(chars, sizeof hex);
        std::memcpy(p, hex, k);
        p += k;
        chars -= k;
    }
}

std::string sha256Hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return toHex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

void appendHmacSha256Hex(std::string& out, std::string_view key, std::string_view data) {
    // One context per thread, kept for the last key used (a service has one secret).
    thread_local KeyedHmac cached;
    if (!cached.ctx || cached.key != key) {
        cached.rekey(key);
    } else if (EVP_MAC_init(cached.ctx.get(), nullptr, 0, nullptr) != 1) {
        cached.ctx.reset();
        throw std::runtime_error("HMAC-SHA-256 could not be reset");
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    if (EVP_MAC_update(cached.ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1 ||
        EVP_MAC_final(cached.ctx.get(), mac, &len, sizeof mac) != 1) {
        cached.ctx.reset();
        throw std::runtime_error("HMAC-SHA-256 failed");
    }
    auto at = out.size();
    out.resize(at + 2 * len);
    hexInto(out.data() + at, mac, len);
}

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
    std::string out;
    appendHmacSha256Hex(out, key, data);
    return out;
}

}  // namespace restinu::rt
