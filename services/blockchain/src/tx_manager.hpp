#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "restinu/rt/task.hpp"
#include "tx_store.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
class MetricsRegistry;
class PassLoop;
}  // namespace restinu::rt

/// Sends the service's transactions from one signing key (docs/blockchain.md, "Sending
/// transactions"):
///
///   enqueue (in the caller's transaction: nonce taken, signed, stored)
///     ──commit──▶ signed ──sent──▶ sent ──receipt──▶ mined ──N blocks──▶ confirmed | failed
///                                   └─ stuck past replace_after: same nonce, higher fee
///
/// Nothing is sent before the row that holds its nonce commits, and a row is sent again with
/// the same bytes until a receipt is seen, so a crash anywhere never skips a nonce, uses one
/// twice, or sends a second transfer: at worst the node is told again about what it knows.
namespace restinu::blockchain {

namespace eth {
class RpcClient;
}

struct TxSettings {
    eth::U256 chain_id;
    int confirmations = 12;  ///< blocks on top of (and including) the one that mined it
    std::chrono::milliseconds replace_after{std::chrono::seconds(60)};
    std::chrono::milliseconds poll{std::chrono::seconds(1)};
    eth::U256 priority_fee = 1'000'000'000;  ///< wei (1 gwei)
    /// Test hooks (docs/blockchain.md): "before-send" or "after-send" kills the process with
    /// SIGKILL at that point of sending, so the tests can show what a restart does.
    std::string failpoint;
};

/// A transaction to send: what it does and the business key that makes asking twice harmless.
struct TxIntent {
    std::string purpose;    ///< e.g. "shares.transfer"
    std::string reference;  ///< e.g. the investment's id: one transaction per (purpose, reference)
    std::optional<eth::Address> to;  ///< none: a contract creation
    eth::U256 value;
    std::string data;
    std::int64_t gas_limit = 0;  ///< 0: estimated by the node, plus a fifth
};

/// The fees a new transaction is signed with.
struct Fees {
    eth::U256 max_fee;
    eth::U256 priority_fee;
};

class TxManager {
public:
    TxManager(rt::IoContext& io, rt::PgPool& pool, eth::RpcClient& rpc, eth::PrivateKey key,
              TxSettings settings, rt::MetricsRegistry& metrics);
    ~TxManager();
    TxManager(const TxManager&) = delete;
    TxManager& operator=(const TxManager&) = delete;

    const eth::Address& address() const;

    /// Registers the signer (its nonce as the node and the table know it). Call before the rest.
    rt::Task<void> init();
    /// Fees for a transaction signed now: the tip, plus twice the latest base fee.
    rt::Task<Fees> fees();
    /// Fills in gas_limit when it is 0 (eth_estimateGas from this signer, plus a fifth).
    rt::Task<TxIntent> prepare(TxIntent intent);
    /// In `tx`: the transaction for (purpose, reference) if there is one, else a new one with
    /// the signer's next nonce, signed, stored as `signed`. Sent after `tx` commits (wake()).
    rt::Task<StoredTx> enqueue(rt::PgConn& tx, TxIntent intent, Fees fees);

    /// Wakes the loop at once (after a commit that enqueued).
    void wake();
    void start();
    void stop();
    /// One pass over the open transactions: send, look for receipts, replace the stuck,
    /// confirm the deep. How many transactions changed state.
    rt::Task<std::size_t> runOnce();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
    std::unique_ptr<rt::PassLoop> loop_;
};

}  // namespace restinu::blockchain
