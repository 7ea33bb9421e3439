#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain_logs.hpp"
#include "eth_bytes.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::blockchain::eth {
class RpcClient;
}

/// What the indexer reads from the node, as typed values: block headers, the logs of a set of
/// contracts over a block range, a deed's token URI. Malformed answers are RpcUnavailable, as
/// for the rest of the node's answers.
namespace restinu::blockchain {

/// A block header as the node gave it; hashes 0x lower-case.
struct BlockHeader {
    std::int64_t number = 0;
    std::string hash;
    std::string parent_hash;
};

/// A block number that fits the tables' bigint; RpcUnavailable otherwise.
std::int64_t blockNumberOf(const eth::U256& v);

/// eth_getBlockByNumber; none past the node's head.
rt::Task<std::optional<BlockHeader>> readHeader(eth::RpcClient& rpc, std::int64_t number);

/// eth_getLogs of `addresses` over blocks [from, to].
rt::Task<std::vector<RawLog>> readLogs(eth::RpcClient& rpc, std::vector<std::string> addresses,
                                       std::int64_t from, std::int64_t to);

/// tokenURI(tokenId) of deed contract `contract` as of `block`; none (and a warning logged) if
/// the call reverts or its answer is not a string.
rt::Task<std::optional<std::string>> readTokenUri(eth::RpcClient& rpc, std::string contract,
                                                  eth::U256 token_id, std::int64_t block);

}  // namespace restinu::blockchain
