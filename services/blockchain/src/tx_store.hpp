#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The SQL of the transaction sender (migration 0001): signers' next nonces and the
/// transactions they hold, one row per (signer, nonce).
namespace restinu::blockchain {

/// One row of chain_transactions.
struct StoredTx {
    std::string id;
    std::string signer;  ///< 0x lower-case
    std::int64_t nonce = 0;
    std::string purpose;
    std::string reference;
    std::optional<eth::Address> to;
    eth::U256 value;
    std::string data;  ///< bytes
    std::int64_t gas_limit = 0;
    eth::U256 max_fee;
    eth::U256 priority_fee;
    std::string raw;                  ///< bytes of the latest signed version
    std::string hash;                 ///< its hash, bytes
    std::vector<std::string> hashes;  ///< every version sent, bytes
    std::string state;                ///< signed, sent, mined, confirmed, failed
    int replacements = 0;
    double seconds_since_sent = 0;  ///< since the latest version was sent; 0 if never
    std::string mined_hash;         ///< bytes; mined and after
    std::int64_t mined_block = 0;
    std::string mined_block_hash;  ///< bytes
    int receipt_status = 0;
    std::string contract_address;  ///< 0x lower-case, a creation's
};

/// What a receipt says, as stored when the transaction is mined.
struct Mined {
    std::string hash;  ///< the version mined
    std::int64_t block = 0;
    std::string block_hash;
    int status = 0;
    std::int64_t gas_used = 0;
    std::string contract_address;
};

class TxStore {
public:
    /// Creates the signer's row, or raises its next nonce to `node_next` when the node has seen
    /// more (the key used elsewhere); never lowers it (rows may be signed but not yet sent).
    static rt::Task<void> ensureSigner(rt::PgPool& pool, eth::Address signer, eth::U256 chain_id,
                                       eth::U256 node_next);
    /// The next nonce of `signer`, taken in `tx` (the row stays locked until it ends).
    static rt::Task<std::int64_t> takeNonce(rt::PgConn& tx, eth::Address signer);
    /// The transaction for (purpose, reference), if there is one.
    static rt::Task<std::optional<StoredTx>> byReference(rt::PgConn& tx, std::string purpose,
                                                         std::string reference);
    static rt::Task<std::optional<StoredTx>> byId(rt::PgPool& pool, std::string id);
    /// Inserts a signed transaction (state signed).
    static rt::Task<void> insert(rt::PgConn& tx, const StoredTx& t);
    /// The signer's transactions still being watched (signed, sent, mined), by nonce.
    static rt::Task<std::vector<StoredTx>> open(rt::PgPool& pool, eth::Address signer, int limit);
    static rt::Task<void> markSent(rt::PgPool& pool, std::string id);
    /// A new version at the same nonce: the row's raw, hash, fees and hashes move on.
    static rt::Task<void> replace(rt::PgConn& tx, std::string id, std::string raw, std::string hash,
                                  eth::U256 max_fee, eth::U256 priority_fee);
    static rt::Task<void> markMined(rt::PgPool& pool, std::string id, Mined m);
    /// Back to sent: the block that held it is no longer on the chain (a reorg).
    static rt::Task<void> unmine(rt::PgPool& pool, std::string id);
    /// confirmed (status 1) or failed (status 0), in `tx` with its event.
    static rt::Task<void> finish(rt::PgConn& tx, std::string id, bool succeeded);
};

}  // namespace restinu::blockchain
