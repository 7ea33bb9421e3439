#pragma once

// What the blockchain tests share about the test chain (anvil, from scripts/testenv.sh).

#include <string_view>

#include "rpc.hpp"
#include "transaction.hpp"

namespace restinu::blockchain::testchain {

/// anvil's first development account (public; funded on every fresh anvil).
inline constexpr std::string_view kDevKey0 =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A plain transfer of `wei` from development account 0 to `to`, signed here (not through the
/// service's sender, whose nonces it would not know).
inline rt::Task<void> fund(eth::RpcClient& rpc, eth::Address to, eth::U256 wei) {
    const auto dev = *eth::PrivateKey::parse(kDevKey0);
    eth::Eip1559Tx tx;
    tx.chain_id = 31337;
    tx.nonce = co_await rpc.transactionCount(dev.address(), "pending");
    tx.max_priority_fee_per_gas = 1'000'000'000;
    tx.max_fee_per_gas = *eth::parseDecimal("1000000000000");
    tx.gas_limit = 21000;
    tx.to = to;
    tx.value = wei;
    const auto signed_tx = eth::sign(tx, dev);
    co_await rpc.sendRawTransaction(signed_tx.raw);
}

}  // namespace restinu::blockchain::testchain
