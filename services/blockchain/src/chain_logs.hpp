#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "restinu/rt/events.hpp"

/// The logs the indexer reads, from eth_getLogs' JSON to typed effects. Pure: no I/O. Each
/// event is matched by topic 0, keccak256 of its exact signature in the contracts'
/// Solidity sources (services/blockchain/contracts), and by the kind of contract that emitted
/// it: ERC-721 and ERC-20 share the Transfer signature (the deed's token id is indexed, the
/// shares' amount is data).
namespace restinu::blockchain {

/// What a watched contract is (chain_watched.kind).
enum class ContractKind { Deed, Shares, Registry };
std::optional<ContractKind> parseContractKind(std::string_view s);
std::string_view contractKindName(ContractKind k);

/// Event signatures, as declared in the .sol files (and OpenZeppelin's).
namespace signatures {
inline constexpr std::string_view kTransfer = "Transfer(address,address,uint256)";
inline constexpr std::string_view kRentDeposited = "RentDeposited(address,uint256,uint256)";
inline constexpr std::string_view kRentClaimed = "RentClaimed(address,uint256)";
inline constexpr std::string_view kRecovered = "Recovered(address,address,uint256)";
inline constexpr std::string_view kIdentityRegistered = "IdentityRegistered(address,address)";
inline constexpr std::string_view kIdentityRemoved = "IdentityRemoved(address,address)";
}  // namespace signatures

/// One log as eth_getLogs returns it; hashes and addresses as 0x lower-case hex.
struct RawLog {
    std::string address;
    std::vector<std::string> topics;  ///< 32 bytes each (binary)
    std::string data;                 ///< binary
    std::int64_t block_number = 0;
    std::string block_hash;
    std::int64_t log_index = 0;
    std::string tx_hash;
    bool removed = false;
};

/// A log object of eth_getLogs; std::invalid_argument if a member is missing or malformed.
RawLog parseRawLog(const boost::json::object& o);

/// ERC-721 Transfer on a deed contract (a mint when `from` is the zero address).
struct DeedTransferLog {
    eth::Address from;
    eth::Address to;
    eth::U256 token_id;
};
/// ERC-20 Transfer on a shares contract (mint from, burn to the zero address).
struct ShareTransferLog {
    eth::Address from;
    eth::Address to;
    eth::U256 amount;
};
struct RentDepositLog {
    eth::Address by;
    eth::U256 amount;
};
struct RentClaimLog {
    eth::Address holder;
    eth::U256 amount;
};
struct RecoveryLog {
    eth::Address lost;
    eth::Address replacement;
    eth::U256 amount;
};
struct IdentityLog {
    eth::Address wallet;
    bool registered = false;
};

using LogEffect = std::variant<DeedTransferLog, ShareTransferLog, RentDepositLog, RentClaimLog,
                               RecoveryLog, IdentityLog>;

/// A log's effect with where it came from: what the indexer stores (one row per log, unique by
/// block hash and log index) and what its events are made of.
struct IndexedLog {
    std::string contract;  ///< 0x lower-case
    std::int64_t block_number = 0;
    std::string block_hash;  ///< 0x lower-case
    std::int64_t log_index = 0;
    std::string tx_hash;  ///< 0x lower-case
    LogEffect effect;
    std::optional<std::string> uri;          ///< a deed mint's tokenURI, when it could be read
    std::optional<std::string> property_id;  ///< the watched contract's property, if any
};

/// The effect of a log emitted by a contract of `kind`; nullopt for an event the indexer does
/// not keep (Approval, RoleGranted, Paused, ...). eth::abi::AbiError when its topic 0 is one it
/// keeps but the topics or data do not fit the event.
std::optional<LogEffect> decodeLog(ContractKind kind, const std::vector<std::string>& topics,
                                   std::string_view data);

/// The outbox event of an indexed effect: deed.minted (a deed's mint), shares.transferred,
/// rent.deposited, dividend.claimed (aggregate `chain`, id the contract); nullopt for the
/// effects that have none (a deed's later moves, recoveries, identity changes).
std::optional<rt::Event> chainEvent(const IndexedLog& log);

}  // namespace restinu::blockchain
