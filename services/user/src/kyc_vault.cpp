#include "kyc_vault.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "restinu/rt/digest.hpp"

namespace restinu::user {
namespace {

constexpr unsigned char kVersion = 0x01;
constexpr char kContext[crypto_kdf_CONTEXTBYTES] = {'r', 'i', 'u', 'k', 'y', 'c', '0', '1'};

void ensureSodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

}  // namespace

KycVault::KycVault(const std::array<unsigned char, kKeyBytes>& master_key) {
    static_assert(crypto_kdf_KEYBYTES == kKeyBytes && crypto_secretbox_KEYBYTES == kKeyBytes &&
                  crypto_auth_KEYBYTES == kKeyBytes);
    ensureSodium();
    crypto_kdf_derive_from_key(box_key_.data(), box_key_.size(), 1, kContext, master_key.data());
    crypto_kdf_derive_from_key(mac_key_.data(), mac_key_.size(), 2, kContext, master_key.data());
}

std::optional<KycVault> KycVault::fromBase64(std::string_view text, std::string* why) {
    ensureSodium();
    std::array<unsigned char, kKeyBytes> key{};
    std::size_t len = 0;
    if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), " \n", &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != kKeyBytes) {
        if (why != nullptr) {
            *why = "must be 32 random bytes in base64 (openssl rand -base64 32)";
        }
        return std::nullopt;
    }
    KycVault vault(key);
    sodium_memzero(key.data(), key.size());
    return vault;
}

std::string KycVault::generateKeyBase64() {
    ensureSodium();
    std::array<unsigned char, kKeyBytes> key{};
    randombytes_buf(key.data(), key.size());
    std::string out(sodium_base64_ENCODED_LEN(kKeyBytes, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), key.data(), key.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string KycVault::seal(std::string_view plain) const {
    std::string out(1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(),
                    '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());
    bytes[0] = kVersion;
    unsigned char* nonce = bytes + 1;
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce,
                          box_key_.data());
    return out;
}

std::optional<std::string> KycVault::open(std::string_view sealed) const {
    constexpr std::size_t kOverhead = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (sealed.size() < kOverhead || static_cast<unsigned char>(sealed[0]) != kVersion) {
        return std::nullopt;
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
    const unsigned char* nonce = bytes + 1;
    std::string plain(sealed.size() - kOverhead, '\0');
    if (crypto_secretbox_open_easy(
            reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
            sealed.size() - 1 - crypto_secretbox_NONCEBYTES, nonce, box_key_.data()) != 0) {
        return std::nullopt;
    }
    return plain;
}

std::string KycVault::fingerprintHex(std::string_view type, std::string_view number) const {
    std::string message(type);
    message += ':';
    message += number;
    unsigned char mac[crypto_auth_BYTES];
    crypto_auth(mac, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                mac_key_.data());
    return rt::toHex(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

}  // namespace restinu::user
