#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace restinu::user {

/// Seals the access-token signing keys at rest (table signing_keys) under a key-encryption key
/// from config (`auth.key_encryption_key`), so that a dump of users_db cannot mint tokens.
/// XChaCha20-Poly1305 (libsodium AEAD) with the key's kid as associated data: a sealed key moved
/// to another row does not open. Rotation: the new KEK goes in `auth.key_encryption_key` and the
/// old ones in `auth.previous_key_encryption_keys`; a key opened with an old one is sealed again
/// under the new one when the ring loads (docs/security.md).
class KeyVault {
public:
    static constexpr std::size_t kKeyBytes = 32;
    using Key = std::array<unsigned char, kKeyBytes>;

    /// `current` seals; `current` and then each of `previous` open.
    explicit KeyVault(const Key& current, std::vector<Key> previous = {});
    ~KeyVault();
    KeyVault(const KeyVault&) = default;
    KeyVault& operator=(const KeyVault&) = default;

    /// From base64 texts (32 bytes each); nullopt (and `*why`) otherwise.
    static std::optional<KeyVault> fromBase64(std::string_view current,
                                              const std::vector<std::string>& previous,
                                              std::string* why);

    /// "v1." + base64(nonce || ciphertext || tag): text, so it fits the existing column.
    std::string seal(std::string_view plain, std::string_view kid) const;

    struct Opened {
        std::string plain;
        bool with_current = true;  ///< false: opened with a previous key, seal it again
    };
    /// nullopt when no configured key opens it (wrong KEK, altered, or another kid's row).
    std::optional<Opened> open(std::string_view sealed, std::string_view kid) const;

    /// Whether `stored` is sealed text (legacy rows hold a plain PEM).
    static bool isSealed(std::string_view stored);

private:
    std::vector<Key> keys_;  ///< current first
};

}  // namespace restinu::user
