#pragma once

#include <cstddef>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::blockchain {

class TxManager;

/// Keeps the identity registry in step with KYC (docs/blockchain.md, "Identities"): the wallet
/// of a user whose KYC is approved is registered on chain (`registerIdentity`), the wallet of a
/// user whose KYC is rejected afterwards is removed (`deleteIdentity`). Each change is a chain
/// transaction of the operator, keyed by the address and the decision's time, so a pass that
/// runs twice asks once. Shares can only reach registered wallets (ERC-3643's rule, enforced by
/// the token), so this is what lets a verified investor hold them.
class IdentitySync {
public:
    IdentitySync(rt::PgPool& pool, TxManager& tx) : pool_(pool), tx_(tx) {}

    /// One pass; how many wallets it asked the chain about (0: nothing to do).
    rt::Task<std::size_t> runOnce();

private:
    rt::PgPool& pool_;
    TxManager& tx_;
};

}  // namespace restinu::blockchain
