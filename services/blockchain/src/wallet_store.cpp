#include "wallet_store.hpp"

#include <sodium.h>

#include <array>
#include <cstring>
#include <stdexcept>

#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::blockchain {
namespace {

constexpr std::string_view kWalletColumns =
    "user_id::text AS user_id, address, kind, sealed_key, restinu_iso(created_at) AS created_at";

std::optional<Wallet> readWallet(const rt::PgResult& r) {
    if (r.rows() == 0) {
        return std::nullopt;
    }
    static constexpr std::array<std::string_view, 5> kNames = {"user_id", "address", "kind",
                                                               "sealed_key", "created_at"};
    const auto c = rt::requireColumns(r, kNames);
    Wallet w{std::string(r.get(0, c[0])), std::string(r.get(0, c[1])), std::string(r.get(0, c[2])),
             std::nullopt, std::string(r.get(0, c[4]))};
    if (auto sealed = r.opt(0, c[3])) {
        w.sealed_key = std::string(*sealed);
    }
    return w;
}

void ensureSodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

const unsigned char* bytesOf(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// What a sealed key is bound to: a sealed key moved to another row (another user or address)
// does not open.
std::string associatedData(std::string_view user_id, std::string_view address) {
    std::string ad = "restinu custodial wallet v1\n";
    for (char ch : user_id) {
        ad += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    }
    ad += '\n';
    ad += address;
    return ad;
}

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSealedBytes =
    kNonceBytes + kSecretBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);

}  // namespace

std::optional<std::string> decodeSealKey(std::string_view text) {
    ensureSodium();
    std::array<unsigned char, 32> key{};
    for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
        std::size_t len = 0;
        const char* end = nullptr;
        if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, &end,
                              variant) == 0 &&
            len == key.size() && end == text.data() + text.size()) {
            std::string out(key.begin(), key.end());
            sodium_memzero(key.data(), key.size());
            return out;
        }
    }
    return std::nullopt;
}

std::string sealCustodialKey(std::string_view seal_key, std::string_view user_id,
                             std::string_view address, const eth::PrivateKey& key) {
    ensureSodium();
    if (seal_key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
        throw std::invalid_argument("the seal key must be 32 bytes");
    }
    std::string secret = key.exportSecret();
    const auto ad = associatedData(user_id, address);
    std::array<unsigned char, kSealedBytes> sealed{};
    randombytes_buf(sealed.data(), kNonceBytes);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        sealed.data() + kNonceBytes, &written, bytesOf(secret), secret.size(), bytesOf(ad),
        ad.size(), nullptr, sealed.data(), bytesOf(seal_key));
    sodium_memzero(secret.data(), secret.size());
    std::string out(sodium_base64_ENCODED_LEN(sealed.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), sealed.data(), kNonceBytes + written,
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::optional<eth::PrivateKey> unsealCustodialKey(std::string_view seal_key,
                                                  std::string_view user_id,
                                                  std::string_view address,
                                                  std::string_view sealed_text) {
    ensureSodium();
    if (seal_key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
        return std::nullopt;
    }
    std::array<unsigned char, kSealedBytes> sealed{};
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(sealed.data(), sealed.size(), sealed_text.data(), sealed_text.size(),
                          nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != sealed.size() || end != sealed_text.data() + sealed_text.size()) {
        return std::nullopt;
    }
    const auto ad = associatedData(user_id, address);
    std::array<unsigned char, kSecretBytes> secret{};
    unsigned long long opened = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            secret.data(), &opened, nullptr, sealed.data() + kNonceBytes, len - kNonceBytes,
            bytesOf(ad), ad.size(), sealed.data(), bytesOf(seal_key)) != 0 ||
        opened != secret.size()) {
        sodium_memzero(secret.data(), secret.size());
        return std::nullopt;
    }
    auto key = eth::PrivateKey::fromBytes(
        std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()));
    sodium_memzero(secret.data(), secret.size());
    if (!key || key->address().lower() != address) {
        return std::nullopt;
    }
    return key;
}

rt::Task<std::optional<Wallet>> WalletStore::find(rt::PgPool& pool, const std::string& user_id) {
    const std::string sql =
        "SELECT " + std::string(kWalletColumns) + " FROM wallets WHERE user_id = $1::uuid";
    auto r = co_await pool.execute("chain_wallet_find", sql, user_id);
    co_return readWallet(r);
}

rt::Task<void> WalletStore::addChallenge(rt::PgPool& pool, const WalletChallenge& c, int max_open) {
    co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await tx.execute("chain_wallet_challenge_add",
                            "INSERT INTO wallet_challenges (nonce, user_id, address, message, "
                            "issued_at, expires_at) VALUES ($1, $2::uuid, $3, $4, "
                            "$5::timestamptz, $6::timestamptz)",
                            c.nonce, c.user_id, c.address, c.message, c.issued_at, c.expires_at);
        // The user's expired unused challenges, and open ones past the newest `max_open`.
        co_await tx.execute(
            "chain_wallet_challenge_trim",
            "DELETE FROM wallet_challenges WHERE user_id = $1::uuid AND used_at IS NULL AND "
            "(expires_at <= now() OR nonce IN (SELECT nonce FROM wallet_challenges "
            "WHERE user_id = $1::uuid AND used_at IS NULL AND expires_at > now() "
            "ORDER BY created_at DESC OFFSET $2::int))",
            c.user_id, max_open);
    });
}

rt::Task<std::optional<OpenChallenge>> WalletStore::challenge(rt::PgPool& pool,
                                                              const std::string& nonce,
                                                              const std::string& user_id) {
    auto r = co_await pool.execute(
        "chain_wallet_challenge_find",
        "SELECT message, used_at IS NOT NULL AS used, expires_at <= now() AS expired "
        "FROM wallet_challenges WHERE nonce = $1 AND user_id = $2::uuid",
        nonce, user_id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    static constexpr std::array<std::string_view, 3> kNames = {"message", "used", "expired"};
    const auto c = rt::requireColumns(r, kNames);
    co_return OpenChallenge{std::string(r.get(0, c[0])), r.get(0, c[1]) == "t",
                            r.get(0, c[2]) == "t"};
}

rt::Task<bool> WalletStore::useChallenge(rt::PgConn& tx, const std::string& nonce,
                                         const std::string& user_id) {
    auto r =
        co_await tx.execute("chain_wallet_challenge_use",
                            "UPDATE wallet_challenges SET used_at = now() WHERE nonce = $1 "
                            "AND user_id = $2::uuid AND used_at IS NULL AND expires_at > now()",
                            nonce, user_id);
    co_return r.affected() == 1;
}

rt::Task<std::optional<Wallet>> WalletStore::create(rt::PgConn& tx, const Wallet& w) {
    // Either unique key (the user, the address) taken: no row, nothing stored.
    const std::string sql =
        "INSERT INTO wallets (user_id, address, kind, sealed_key) VALUES ($1::uuid, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING " +
        std::string(kWalletColumns);
    auto r =
        co_await tx.execute("chain_wallet_create", sql, w.user_id, w.address, w.kind, w.sealed_key);
    co_return readWallet(r);
}

rt::Task<std::optional<eth::PrivateKey>> WalletStore::custodialKey(rt::PgPool& pool,
                                                                   std::string seal_key,
                                                                   std::string user_id) {
    auto w = co_await find(pool, user_id);
    if (!w || w->kind != "custodial" || !w->sealed_key) {
        co_return std::nullopt;
    }
    co_return unsealCustodialKey(seal_key, w->user_id, w->address, *w->sealed_key);
}

}  // namespace restinu::blockchain
