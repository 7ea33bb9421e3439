#pragma once

#include <functional>
#include <optional>
#include <string>

#include "eth_key.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

/// The platform's contracts (docs/blockchain.md, "Contracts and roles"): deployed once, in
/// order, each as a chain transaction of the operator, and recorded in chain_platform.
namespace restinu::blockchain {

class TxManager;
struct ChainSettings;

struct Platform {
    eth::Address timelock;
    eth::Address registry;
    eth::Address payment_token;
    eth::Address deed;
};

/// The deployed platform, or nullopt while any part is missing.
rt::Task<std::optional<Platform>> loadPlatform(rt::PgPool& pool);

/// Deploys what chain_platform does not have yet (timelock, registry, payment token, deed),
/// waits for each to confirm, and registers the treasury (the operator) in the registry, since
/// shares can only be minted to a verified wallet. Safe to run again: it goes on where it
/// stopped. `progress` gets one line per step.
rt::Task<Platform> deployPlatform(rt::PgPool& pool, TxManager& tx, const ChainSettings& settings,
                                  std::function<void(const std::string&)> progress);

/// Runs passes of `tx` until the transaction `id` is confirmed (returns its row's contract
/// address or "") or fails (throws), polling at the manager's interval.
rt::Task<std::string> awaitConfirmed(rt::PgPool& pool, TxManager& tx, std::string id);

}  // namespace restinu::blockchain
