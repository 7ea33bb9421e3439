#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
class PassLoop;
class MetricsRegistry;
}  // namespace restinu::rt

namespace restinu::blockchain::eth {
class RpcClient;
}

/// Follows the chain and keeps the effect tables of migration 0002 (deeds, share transfers,
/// rent deposits and claims, recoveries, identity changes) for the contracts in chain_watched;
/// docs/blockchain.md, "Indexer".
///
/// Each pass checks that the node's chain still runs through the last indexed block (the next
/// block's parentHash, or the hash at the node's head when it is not ahead). If not, it walks
/// back to the highest block the node and the table agree on and deletes everything above it
/// in one transaction. Otherwise it reads up to `batch_blocks` headers, checks each one's link
/// to the one before, reads their logs of the watched contracts (eth_getLogs), checks each
/// log's blockHash against its header, and stores the blocks and the logs' effects in one
/// transaction; an effect is unique by (block_hash, log_index), so nothing is applied twice.
/// Events go to the outbox only once their block is `confirmations` deep, so a reorg shallower
/// than that never retracts a published event.
namespace restinu::blockchain {

struct IndexerSettings {
    /// A block's events are written once it is this deep (1: as soon as it is indexed).
    int confirmations = 12;
    /// Blocks read per pass while catching up.
    int batch_blocks = 500;
    /// Between passes while caught up; while behind the next pass starts at once.
    std::chrono::milliseconds poll{500};
    /// Blocks whose events one pass writes at most.
    int emit_blocks = 500;
};

/// What one pass did.
struct IndexerPass {
    std::int64_t blocks = 0;       ///< blocks indexed
    std::int64_t logs = 0;         ///< logs newly applied
    std::int64_t duplicates = 0;   ///< logs that were there already
    std::int64_t rolled_back = 0;  ///< blocks removed by a reorg
    std::int64_t events = 0;       ///< events written to the outbox
    bool behind = false;           ///< more to do: the loop runs the next pass at once
};

class Indexer {
public:
    /// `pool` and `rpc` must outlive the indexer and run on `io`.
    Indexer(rt::IoContext& io, rt::PgPool& pool, eth::RpcClient& rpc, IndexerSettings settings,
            rt::MetricsRegistry& metrics);
    ~Indexer();
    Indexer(const Indexer&) = delete;
    Indexer& operator=(const Indexer&) = delete;

    /// Runs passes in the background until stop(); a failed pass is logged and retried.
    void start();
    void stop();
    /// One pass (see above). Throws what the node or the database threw.
    rt::Task<IndexerPass> runOnce();

    /// Makes the next pass fail just before committing what it read (a crash between fetching
    /// and committing), for tests.
    void failBeforeCommitForTest();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
    std::unique_ptr<rt::PassLoop> loop_;
};

}  // namespace restinu::blockchain
