#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class HttpClient;
}

/// An Ethereum node's JSON-RPC over HTTP (the runtime's client: no blocking I/O on the loop).
namespace restinu::blockchain::eth {

/// The node answered with a JSON-RPC error (a revert, a nonce too low, an unknown method).
class RpcError : public std::runtime_error {
public:
    RpcError(std::int64_t code, const std::string& message, std::string data)
        : std::runtime_error(message), code_(code), data_(std::move(data)) {}
    std::int64_t code() const { return code_; }
    /// The error's `data` (for a revert: the revert data as hex), or empty.
    const std::string& data() const { return data_; }

private:
    std::int64_t code_;
    std::string data_;
};

/// The node could not be reached or answered something that is not JSON-RPC.
class RpcUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class RpcClient {
public:
    /// `url`: http://HOST:PORT[/PATH] (plain HTTP: the node is on loopback or behind a
    /// TLS-terminating proxy); throws std::invalid_argument otherwise.
    RpcClient(rt::HttpClient& http, const std::string& url,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// One call; the result, or RpcError / RpcUnavailable.
    rt::Task<boost::json::value> call(std::string method, boost::json::array params);

    rt::Task<U256> chainId();
    rt::Task<U256> blockNumber();
    /// eth_getTransactionCount at `block` ("latest", "pending").
    rt::Task<U256> transactionCount(Address account, std::string block);
    rt::Task<U256> balance(Address account);
    /// eth_sendRawTransaction: the transaction's hash as the node reports it (32 bytes).
    rt::Task<std::string> sendRawTransaction(std::string raw);
    /// eth_getTransactionReceipt: null until the transaction is in a block.
    rt::Task<std::optional<boost::json::object>> receipt(std::string tx_hash);
    /// eth_call of `data` on `to` at `block`: the return data.
    rt::Task<std::string> callContract(Address to, std::string data, std::string block);
    /// eth_getBlockByNumber without the transactions' bodies; null past the head.
    rt::Task<std::optional<boost::json::object>> blockByNumber(U256 number);

private:
    rt::HttpClient& http_;
    std::string host_;
    std::uint16_t port_ = 0;
    std::string path_;
    std::chrono::milliseconds timeout_;
    std::uint64_t next_id_ = 1;
};

/// A QUANTITY member of a JSON-RPC object; RpcUnavailable if it is missing or malformed.
U256 quantityOf(const boost::json::object& o, std::string_view key);
/// A DATA member (hex bytes); RpcUnavailable if it is missing or malformed.
std::string bytesOf(const boost::json::object& o, std::string_view key);

}  // namespace restinu::blockchain::eth
