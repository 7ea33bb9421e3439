#include "eth_key.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include <stdexcept>

#include "eth_bytes.hpp"
#include "keccak.hpp"

namespace restinu::blockchain::eth {
namespace {

// One context for the process, randomised once against side channels; after that libsecp256k1
// only reads it, so every thread may sign and verify with it at once.
const secp256k1_context* context() {
    static const secp256k1_context* ctx = [] {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium failed to start");
        }
        secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        unsigned char seed[32];
        randombytes_buf(seed, sizeof seed);
        if (secp256k1_context_randomize(c, seed) != 1) {
            throw std::runtime_error("secp256k1_context_randomize failed");
        }
        sodium_memzero(seed, sizeof seed);
        return c;
    }();
    return ctx;
}

std::optional<Address> addressOf(const secp256k1_pubkey& pub) {
    unsigned char out[65];
    std::size_t len = sizeof out;
    secp256k1_ec_pubkey_serialize(context(), out, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
    // The address is the last 20 bytes of the Keccak-256 of the 64-byte point (no 0x04 tag).
    const auto h = keccak256(std::string_view(reinterpret_cast<const char*>(out) + 1, 64));
    return Address::fromBytes(std::string_view(h).substr(12));
}

bool isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::optional<Address> Address::fromBytes(std::string_view b) {
    if (b.size() != 20) {
        return std::nullopt;
    }
    Address a;
    std::copy(b.begin(), b.end(), a.bytes_.begin());
    return a;
}

std::optional<Address> Address::parse(std::string_view text) {
    if (text.size() != 42 || text[0] != '0' || text[1] != 'x') {
        return std::nullopt;
    }
    const auto digits = text.substr(2);
    bool lower = false;
    bool upper = false;
    for (char c : digits) {
        if (!isHex(c)) {
            return std::nullopt;
        }
        lower |= c >= 'a' && c <= 'f';
        upper |= c >= 'A' && c <= 'F';
    }
    auto raw = unhex(digits);
    auto a = raw ? fromBytes(*raw) : std::nullopt;
    if (a && lower && upper && a->checksummed() != text) {
        return std::nullopt;  // mixed case that is not the checksum: a typo
    }
    return a;
}

std::string Address::lower() const {
    return hex(std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
}

std::string Address::checksummed() const {
    std::string text = lower();
    // EIP-55: a letter is upper case where the matching nibble of keccak256(lower hex) is >= 8.
    const auto h = keccak256(std::string_view(text).substr(2));
    for (std::size_t i = 0; i < 40; ++i) {
        const auto byte = static_cast<unsigned char>(h[i / 2]);
        const unsigned nib = i % 2 == 0 ? byte >> 4 : byte & 0x0f;
        char& c = text[2 + i];
        if (c >= 'a' && c <= 'f' && nib >= 8) {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return text;
}

std::string Signature::rsv() const {
    return r + s + static_cast<char>(27 + recovery_id);
}

std::optional<Signature> Signature::fromRsv(std::string_view b) {
    if (b.size() != 65) {
        return std::nullopt;
    }
    int v = static_cast<unsigned char>(b[64]);
    v = v >= 27 ? v - 27 : v;
    if (v != 0 && v != 1) {
        return std::nullopt;
    }
    return Signature{std::string(b.substr(0, 32)), std::string(b.substr(32, 32)), v};
}

std::optional<PrivateKey> PrivateKey::fromBytes(std::string_view secret) {
    if (secret.size() != 32) {
        return std::nullopt;
    }
    PrivateKey k;
    std::copy(secret.begin(), secret.end(), k.secret_.begin());
    secp256k1_pubkey pub;
    if (secp256k1_ec_seckey_verify(context(), k.secret_.data()) != 1 ||
        secp256k1_ec_pubkey_create(context(), &pub, k.secret_.data()) != 1) {
        return std::nullopt;
    }
    k.address_ = *addressOf(pub);
    return k;
}

std::optional<PrivateKey> PrivateKey::parse(std::string_view hex_text) {
    auto raw = unhex(hex_text);
    if (!raw || raw->size() != 32) {
        return std::nullopt;
    }
    auto k = fromBytes(*raw);
    sodium_memzero(raw->data(), raw->size());
    return k;
}

PrivateKey PrivateKey::generate() {
    context();  // starts libsodium
    for (;;) {
        std::string secret(32, '\0');
        randombytes_buf(secret.data(), secret.size());
        auto k = fromBytes(secret);
        sodium_memzero(secret.data(), secret.size());
        if (k) {
            return *k;
        }
    }
}

PrivateKey::PrivateKey(const PrivateKey&) = default;
PrivateKey& PrivateKey::operator=(const PrivateKey&) = default;

PrivateKey::~PrivateKey() {
    sodium_memzero(secret_.data(), secret_.size());
}

Signature PrivateKey::sign(std::string_view digest32) const {
    if (digest32.size() != 32) {
        throw std::invalid_argument("sign: the digest must be 32 bytes");
    }
    secp256k1_ecdsa_recoverable_signature sig;
    if (secp256k1_ecdsa_sign_recoverable(context(), &sig,
                                         reinterpret_cast<const unsigned char*>(digest32.data()),
                                         secret_.data(), nullptr, nullptr) != 1) {
        throw std::runtime_error("secp256k1_ecdsa_sign_recoverable failed");
    }
    unsigned char compact[64];
    int recid = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), compact, &recid, &sig);
    const auto* c = reinterpret_cast<const char*>(compact);
    return Signature{std::string(c, 32), std::string(c + 32, 32), recid};
}

std::string PrivateKey::exportSecret() const {
    return {secret_.begin(), secret_.end()};
}

std::optional<Address> recoverSigner(std::string_view digest32, const Signature& sig) {
    if (digest32.size() != 32 || sig.r.size() != 32 || sig.s.size() != 32 ||
        (sig.recovery_id != 0 && sig.recovery_id != 1)) {
        return std::nullopt;
    }
    unsigned char compact[64];
    std::copy(sig.r.begin(), sig.r.end(), compact);
    std::copy(sig.s.begin(), sig.s.end(), compact + 32);
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey pub;
    if (secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &rs, compact,
                                                            sig.recovery_id) != 1 ||
        secp256k1_ecdsa_recover(context(), &pub, &rs,
                                reinterpret_cast<const unsigned char*>(digest32.data())) != 1) {
        return std::nullopt;
    }
    // EIP-2: a high s is the same signature's twin; refuse it so each signature has one form.
    secp256k1_ecdsa_signature plain;
    secp256k1_ecdsa_recoverable_signature_convert(context(), &plain, &rs);
    if (secp256k1_ecdsa_signature_normalize(context(), nullptr, &plain) == 1) {
        return std::nullopt;
    }
    return addressOf(pub);
}

std::string personalMessageDigest(std::string_view message) {
    std::string data =
        "\x19"
        "Ethereum Signed Message:\n" +
        std::to_string(message.size());
    data += message;
    return keccak256(data);
}

}  // namespace restinu::blockchain::eth
