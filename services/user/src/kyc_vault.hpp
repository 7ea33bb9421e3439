#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace restinu::user {

/// Encrypts KYC document numbers at rest with libsodium's secretbox (XSalsa20-Poly1305), keyed
/// by `kyc.encryption_key` (32 random bytes, base64). Two subkeys are derived from it with
/// crypto_kdf: one encrypts, one makes a keyed fingerprint (HMAC-SHA-512/256) of the number, so
/// the database can refuse the same document on two accounts without ever holding it in clear.
class KycVault {
public:
    static constexpr std::size_t kKeyBytes = 32;

    explicit KycVault(const std::array<unsigned char, kKeyBytes>& master_key);

    /// From the config's base64 text; nullopt (and `*why`) unless it decodes to 32 bytes.
    static std::optional<KycVault> fromBase64(std::string_view text, std::string* why);

    /// A fresh random key, base64, for `make run` and tests.
    static std::string generateKeyBase64();

    /// version (1 byte, 0x01) || nonce (24) || secretbox(plain) (16 + plain).
    std::string seal(std::string_view plain) const;
    /// The plain text, or nullopt if `sealed` was not made with this key or was altered.
    std::optional<std::string> open(std::string_view sealed) const;

    /// 64 hex characters; equal for equal (type, number), unguessable without the key.
    std::string fingerprintHex(std::string_view type, std::string_view number) const;

private:
    std::array<unsigned char, kKeyBytes> box_key_{};
    std::array<unsigned char, kKeyBytes> mac_key_{};
};

}  // namespace restinu::user
