#pragma once

#include <optional>
#include <string>

#include "eth_bytes.hpp"
#include "eth_key.hpp"

/// Ethereum transactions, encoded and signed in-process: EIP-1559 (type 2), what the service
/// sends, and EIP-155 legacy, kept for its published test vector and for nodes without 1559.
namespace restinu::blockchain::eth {

/// A type-2 transaction (EIP-1559) with an empty access list.
struct Eip1559Tx {
    U256 chain_id;
    U256 nonce;
    U256 max_priority_fee_per_gas;  ///< wei
    U256 max_fee_per_gas;           ///< wei
    U256 gas_limit;
    std::optional<Address> to;  ///< none: a contract creation
    U256 value;                 ///< wei
    std::string data;           ///< call data, or the init code of a creation
};

/// An EIP-155 legacy transaction.
struct LegacyTx {
    U256 chain_id;
    U256 nonce;
    U256 gas_price;
    U256 gas_limit;
    std::optional<Address> to;
    U256 value;
    std::string data;
};

/// What is sent (eth_sendRawTransaction) and the hash the chain will know it by.
struct SignedTx {
    std::string raw;   ///< the bytes of the signed envelope
    std::string hash;  ///< keccak256(raw), 32 bytes
};

/// keccak256(0x02 || rlp([chain_id, nonce, tip, max_fee, gas, to, value, data, []])).
std::string signingHash(const Eip1559Tx& tx);
SignedTx sign(const Eip1559Tx& tx, const PrivateKey& key);

/// keccak256(rlp([nonce, gas_price, gas, to, value, data, chain_id, 0, 0])).
std::string signingHash(const LegacyTx& tx);
/// v = chain_id * 2 + 35 + recovery id.
SignedTx sign(const LegacyTx& tx, const PrivateKey& key);

/// The address a contract created by `sender` with `nonce` gets (CREATE):
/// the last 20 bytes of keccak256(rlp([sender, nonce])).
Address contractAddress(const Address& sender, const U256& nonce);

}  // namespace restinu::blockchain::eth
