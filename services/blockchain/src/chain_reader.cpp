#include "chain_reader.hpp"

#include <boost/json.hpp>

#include "abi.hpp"
#include "restinu/rt/log.hpp"
#include "rpc.hpp"

namespace restinu::blockchain {
namespace json = boost::json;
using eth::U256;

std::int64_t blockNumberOf(const U256& v) {
    if (v > U256(INT64_MAX)) {
        throw eth::RpcUnavailable("the node's block number does not fit a bigint");
    }
    return static_cast<std::int64_t>(v);
}

rt::Task<std::optional<BlockHeader>> readHeader(eth::RpcClient& rpc, std::int64_t number) {
    const U256 at(number);
    auto b = co_await rpc.blockByNumber(at);
    if (!b) {
        co_return std::nullopt;
    }
    BlockHeader h;
    h.number = blockNumberOf(eth::quantityOf(*b, "number"));
    h.hash = eth::hex(eth::bytesOf(*b, "hash"));
    h.parent_hash = eth::hex(eth::bytesOf(*b, "parentHash"));
    co_return h;
}

rt::Task<std::vector<RawLog>> readLogs(eth::RpcClient& rpc, std::vector<std::string> addresses,
                                       std::int64_t from, std::int64_t to) {
    json::array address;
    for (auto& a : addresses) {
        address.emplace_back(a);
    }
    json::object filter{{"address", std::move(address)},
                        {"fromBlock", eth::quantity(U256(from))},
                        {"toBlock", eth::quantity(U256(to))}};
    json::array params{json::value(std::move(filter))};
    auto v = co_await rpc.call("eth_getLogs", std::move(params));
    const auto* arr = v.if_array();
    if (arr == nullptr) {
        throw eth::RpcUnavailable("eth_getLogs: not an array");
    }
    std::vector<RawLog> out;
    for (const auto& item : *arr) {
        if (!item.is_object()) {
            throw eth::RpcUnavailable("eth_getLogs: a log is not an object");
        }
        try {
            out.push_back(parseRawLog(item.as_object()));
        } catch (const std::invalid_argument& e) {
            throw eth::RpcUnavailable(std::string("eth_getLogs: ") + e.what());
        }
    }
    co_return out;
}

rt::Task<std::optional<std::string>> readTokenUri(eth::RpcClient& rpc, std::string contract,
                                                  U256 token_id, std::int64_t block) {
    auto to = eth::Address::parse(contract);
    if (!to) {
        co_return std::nullopt;
    }
    const std::vector<eth::abi::Value> args{eth::abi::Value::uint(token_id)};
    const auto data = eth::abi::encodeCall("tokenURI(uint256)", args);
    std::optional<std::string> uri;
    try {
        const auto tag = eth::quantity(U256(block));
        auto out = co_await rpc.callContract(*to, data, tag);
        uri = eth::abi::decode({"string"}, out)[0].asBytes();
    } catch (const eth::RpcError& e) {
        rt::log::warn("chain-indexer", "tokenURI failed",
                      {{"contract", contract}, {"error", e.what()}});
    } catch (const eth::abi::AbiError& e) {
        rt::log::warn("chain-indexer", "tokenURI undecodable",
                      {{"contract", contract}, {"error", e.what()}});
    }
    co_return uri;
}

}  // namespace restinu::blockchain
