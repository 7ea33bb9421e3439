#pragma once

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

/// The purchase saga's "transfer the deed on chain" step (docs/blockchain.md, "Selling a
/// tokenized property"): POST /internal/v1/deeds/{property_id}/transfers, called by the payment
/// service only, with {purchase_id, buyer_id, direction: "forward" | "back"}.
///
///   forward: the deed from its holder to the buyer's wallet (registrarTransfer, keyed by
///            deed.transfer + purchase id); back: the compensation, from the buyer's wallet to
///            whoever held it before (deed.return + purchase id), once the forward one settled.
///
/// Answers: 200 {"state": "confirmed" | "not_tokenized" | "none"} when the step is done (or
/// there is nothing to do), 202 {"state": "pending"} while its transaction confirms (the saga
/// looks again), 409 when it cannot be done (no wallet, reverted).
namespace restinu::blockchain {

namespace eth {
class RpcClient;
}
class TxManager;

class DeedTransfers {
public:
    DeedTransfers(rt::PgPool& pool, eth::RpcClient& rpc, TxManager* tx)
        : pool_(pool), rpc_(rpc), tx_(tx) {}

    rt::Task<rt::Response> transfer(rt::Request& req);

private:
    rt::Task<rt::Response> forward(std::string property_id, std::string purchase_id,
                                   std::string buyer_id);
    rt::Task<rt::Response> back(std::string purchase_id);

    rt::PgPool& pool_;
    eth::RpcClient& rpc_;
    TxManager* tx_;
};

}  // namespace restinu::blockchain
