#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain_logs.hpp"
#include "eth_bytes.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The SQL of the indexer (migration 0002): the contracts it follows, the chain as it last saw
/// it, and the effect rows of the logs it applied, each unique by (block_hash, log_index).
namespace restinu::blockchain {

/// One row of chain_watched.
struct WatchedContract {
    std::string address;  ///< 0x lower-case
    ContractKind kind = ContractKind::Shares;
    std::optional<std::string> property_id;
    std::int64_t from_block = 0;
    std::optional<std::int64_t> backfill_from;  ///< with backfill_to: indexed blocks still to read
    std::optional<std::int64_t> backfill_to;
};

/// One row of chain_blocks; hashes 0x lower-case.
struct StoredBlock {
    std::int64_t number = 0;
    std::string hash;
    std::string parent_hash;
    bool events_emitted = false;
};

/// What a rollback removed.
struct Rollback {
    std::int64_t blocks = 0;          ///< chain_blocks rows deleted
    std::int64_t emitted_blocks = 0;  ///< of which had their events published already
    std::int64_t effects = 0;         ///< effect rows deleted
};

/// A holder's balance of one shares contract, summed over the indexed transfers.
struct Holding {
    std::string contract;
    std::optional<std::string> property_id;
    eth::U256 balance;
};

class IndexerStore {
public:
    /// Follows `address` (any case; stored lower-case) from `from_block` on; a second watch of
    /// the same address changes nothing. If the indexer already passed `from_block`, the
    /// indexed blocks from there to its tip are marked for backfill in the same statement.
    static rt::Task<void> watch(rt::PgConn& tx, std::string address, ContractKind kind,
                                std::optional<std::string> property_id, std::int64_t from_block);
    static rt::Task<std::vector<WatchedContract>> watched(rt::PgPool& pool);

    /// The highest indexed block, or none.
    static rt::Task<std::optional<StoredBlock>> tip(rt::PgPool& pool);
    /// The stored hashes of blocks [from, to], by number (missing numbers are absent).
    static rt::Task<std::vector<StoredBlock>> blocks(rt::PgPool& pool, std::int64_t from,
                                                     std::int64_t to);

    /// Takes the indexer's lock for the rest of `tx` (watch() takes it too, so a contract is
    /// either seen by a pass or marked for backfill, never missed) and lists the watched
    /// addresses as they are now.
    static rt::Task<std::vector<std::string>> lockWatched(rt::PgConn& tx);
    /// Adds a block; PgError 23505 if its number is taken (another indexer got there first).
    static rt::Task<void> insertBlock(rt::PgConn& tx, StoredBlock block);
    /// Stores a log's effect; false if that (block_hash, log_index) was stored already.
    static rt::Task<bool> insertLog(rt::PgConn& tx, IndexedLog log);

    /// Deletes every block above `ancestor` and every effect row of those blocks, and clamps
    /// the watched contracts' backfill ranges to `ancestor`.
    static rt::Task<Rollback> rollbackAbove(rt::PgConn& tx, std::int64_t ancestor);

    /// Locks and returns the numbers of the blocks up to `up_to` whose events are not out yet,
    /// lowest first, at most `limit` (SKIP LOCKED: two indexers never emit the same block).
    static rt::Task<std::vector<std::int64_t>> dueBlocks(rt::PgConn& tx, std::int64_t up_to,
                                                         int limit);
    /// The effects of blocks [from, to] that have events (deed mints, share transfers, rent
    /// deposits and claims), in chain order, each with its contract's property.
    static rt::Task<std::vector<IndexedLog>> eventEffects(rt::PgConn& tx, std::int64_t from,
                                                          std::int64_t to);
    static rt::Task<void> markEmitted(rt::PgConn& tx, std::vector<std::int64_t> numbers);
    /// Whether block `number` (as stored) has its events out.
    static rt::Task<bool> emitted(rt::PgConn& tx, std::int64_t number);

    /// Records backfill progress: [from, to] still to read, or done when from > to.
    static rt::Task<void> setBackfill(rt::PgConn& tx, std::string address, std::int64_t from,
                                      std::int64_t to);

    /// `holder`'s non-zero balances, one per shares contract (the portfolio's read).
    static rt::Task<std::vector<Holding>> holdings(rt::PgPool& pool, std::string holder);
    /// The rent `holder` claimed from `contract` in all, as indexed.
    static rt::Task<eth::U256> rentClaimed(rt::PgPool& pool, std::string holder,
                                           std::string contract);
};

}  // namespace restinu::blockchain
