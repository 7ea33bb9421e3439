#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "eth_key.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// Wallets (docs/blockchain.md, "Wallets"): one Ethereum address per user, linked by signing a
/// challenge or custodial (a key the service made, sealed at rest); and the challenges issued.
namespace restinu::blockchain {

struct Wallet {
    std::string user_id;
    std::string address;  ///< 0x lower-case
    std::string kind;     ///< "linked" or "custodial"
    std::optional<std::string> sealed_key;
    std::string created_at;  ///< RFC 3339
};

struct WalletChallenge {
    std::string nonce;
    std::string user_id;
    std::string address;  ///< 0x lower-case
    std::string message;  ///< the exact text issued
    std::string issued_at;
    std::string expires_at;  ///< RFC 3339, as in the message
};

/// A stored challenge as the link step sees it.
struct OpenChallenge {
    std::string message;
    bool used = false;
    bool expired = false;  ///< by the database's clock
};

class WalletStore {
public:
    static rt::Task<std::optional<Wallet>> find(rt::PgPool& pool, const std::string& user_id);

    /// Stores `c` and trims the user's challenges in one transaction: their expired unused
    /// ones go, and of the open ones only the newest `max_open` (this one included) stay.
    static rt::Task<void> addChallenge(rt::PgPool& pool, const WalletChallenge& c, int max_open);

    /// The challenge `nonce` if it was issued to `user_id` (another user's is none).
    static rt::Task<std::optional<OpenChallenge>> challenge(rt::PgPool& pool,
                                                            const std::string& nonce,
                                                            const std::string& user_id);

    /// Marks the challenge used in the caller's transaction; false when it was used meanwhile
    /// or has expired (then nothing changed).
    static rt::Task<bool> useChallenge(rt::PgConn& tx, const std::string& nonce,
                                       const std::string& user_id);

    /// Creates the wallet in the caller's transaction; nullopt (nothing stored) when the user
    /// has a wallet or the address is another user's.
    static rt::Task<std::optional<Wallet>> create(rt::PgConn& tx, const Wallet& w);

    /// The custodial key of `user_id`, unsealed; nullopt when they have no custodial wallet or
    /// its sealed key does not open under `seal_key` (see unsealCustodialKey).
    static rt::Task<std::optional<eth::PrivateKey>> custodialKey(rt::PgPool& pool,
                                                                 std::string seal_key,
                                                                 std::string user_id);
};

/// The 32 secret bytes of a custodial key sealed under `seal_key` (32 bytes) with
/// XChaCha20-Poly1305, the user id and the address (0x lower-case) as associated data:
/// base64 of the 24-byte nonce followed by the ciphertext and its tag.
std::string sealCustodialKey(std::string_view seal_key, std::string_view user_id,
                             std::string_view address, const eth::PrivateKey& key);

/// The key back; nullopt when `sealed` is not one, was changed, was sealed under another key,
/// for another user or address (a sealed key copied to another row does not open), or opens to
/// a key whose address is not `address`.
std::optional<eth::PrivateKey> unsealCustodialKey(std::string_view seal_key,
                                                  std::string_view user_id,
                                                  std::string_view address,
                                                  std::string_view sealed);

/// 32 bytes from base64 (either alphabet, padded or not); nullopt for anything else.
std::optional<std::string> decodeSealKey(std::string_view base64_text);

}  // namespace restinu::blockchain
