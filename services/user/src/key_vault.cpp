#include "key_vault.hpp"

#include <sodium.h>

#include <cstring>
#include <iterator>
#include <stdexcept>

namespace restinu::user {
namespace {

constexpr std::string_view kPrefix = "v1.";

void ensureSodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

std::optional<KeyVault::Key> decodeKey(std::string_view text) {
    KeyVault::Key key{};
    std::size_t len = 0;
    if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), " \n", &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != KeyVault::kKeyBytes) {
        return std::nullopt;
    }
    return key;
}

std::string toBase64(const unsigned char* data, std::size_t n) {
    std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

}  // namespace

KeyVault::KeyVault(const Key& current, std::vector<Key> previous) {
    static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeyBytes);
    ensureSodium();
    keys_.reserve(1 + previous.size());
    keys_.push_back(current);
    keys_.insert(keys_.end(), std::make_move_iterator(previous.begin()),
                 std::make_move_iterator(previous.end()));
}

KeyVault::~KeyVault() {
    for (auto& k : keys_) {
        sodium_memzero(k.data(), k.size());
    }
}

std::optional<KeyVault> KeyVault::fromBase64(std::string_view current,
                                             const std::vector<std::string>& previous,
                                             std::string* why) {
    ensureSodium();
    auto set_why = [why](std::string text) {
        if (why != nullptr) {
            *why = std::move(text);
        }
    };
    auto key = decodeKey(current);
    if (!key) {
        set_why("must be 32 random bytes in base64 (openssl rand -base64 32)");
        return std::nullopt;
    }
    std::vector<Key> older;
    for (const auto& p : previous) {
        auto k = decodeKey(p);
        if (!k) {
            set_why("each previous key must be 32 random bytes in base64");
            return std::nullopt;
        }
        older.push_back(*k);
    }
    return KeyVault(*key, std::move(older));
}

bool KeyVault::isSealed(std::string_view stored) {
    return stored.substr(0, kPrefix.size()) == kPrefix;
}

std::string KeyVault::seal(std::string_view plain, std::string_view kid) const {
    constexpr auto kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    constexpr auto kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
    std::vector<unsigned char> buf(kNonce + plain.size() + kTag);
    randombytes_buf(buf.data(), kNonce);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        buf.data() + kNonce, &written, reinterpret_cast<const unsigned char*>(plain.data()),
        plain.size(), reinterpret_cast<const unsigned char*>(kid.data()), kid.size(), nullptr,
        buf.data(), keys_.front().data());
    auto out = std::string(kPrefix) + toBase64(buf.data(), kNonce + written);
    sodium_memzero(buf.data(), buf.size());
    return out;
}

std::optional<KeyVault::Opened> KeyVault::open(std::string_view sealed,
                                               std::string_view kid) const {
    constexpr auto kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    constexpr auto kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (!isSealed(sealed)) {
        return std::nullopt;
    }
    auto text = sealed.substr(kPrefix.size());
    std::vector<unsigned char> buf(text.size());
    std::size_t len = 0;
    if (sodium_base642bin(buf.data(), buf.size(), text.data(), text.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len < kNonce + kTag) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        std::string plain(len - kNonce - kTag, '\0');
        unsigned long long plain_len = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr,
                buf.data() + kNonce, len - kNonce,
                reinterpret_cast<const unsigned char*>(kid.data()), kid.size(), buf.data(),
                keys_[i].data()) == 0) {
            plain.resize(plain_len);
            return Opened{std::move(plain), i == 0};
        }
    }
    return std::nullopt;
}

}  // namespace restinu::user
