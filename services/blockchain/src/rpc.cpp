#include "rpc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "restinu/rt/http_client.hpp"

namespace restinu::blockchain::eth {
namespace json = boost::json;

RpcClient::RpcClient(rt::HttpClient& http, const std::string& url,
                     std::chrono::milliseconds timeout)
    : http_(http), timeout_(timeout) {
    constexpr std::string_view kScheme = "http://";
    if (url.compare(0, kScheme.size(), kScheme) != 0) {
        throw std::invalid_argument("the node's URL must be http://HOST:PORT: " + url);
    }
    const std::string_view rest = std::string_view(url).substr(kScheme.size());
    const auto slash = rest.find('/');
    const auto authority = rest.substr(0, slash);
    path_ = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    const auto colon = authority.rfind(':');
    host_ = std::string(authority.substr(0, colon));
    port_ = 80;
    if (colon != std::string_view::npos) {
        const auto port = authority.substr(colon + 1);
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535) {
            throw std::invalid_argument("bad port in the node's URL: " + url);
        }
        port_ = static_cast<std::uint16_t>(v);
    }
    if (host_.empty()) {
        throw std::invalid_argument("no host in the node's URL: " + url);
    }
}

rt::Task<json::value> RpcClient::call(std::string method, json::array params) {
    json::object body{
        {"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", std::move(params)}};
    rt::ClientRequest req;
    req.method = rt::Method::Post;
    req.host = host_;
    req.port = port_;
    req.target = path_;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = json::serialize(body);
    req.timeout = timeout_;
    rt::ClientResponse res;
    try {
        res = co_await http_.request(req);
    } catch (const rt::HttpClientError& e) {
        throw RpcUnavailable("the Ethereum node did not answer " + method + ": " + e.what());
    }
    if (res.status != 200) {
        throw RpcUnavailable("the Ethereum node answered " + method + " with HTTP " +
                             std::to_string(res.status));
    }
    json::value v;
    try {
        v = json::parse(res.body);
    } catch (const std::exception&) {
        throw RpcUnavailable("the Ethereum node's answer to " + method + " is not JSON");
    }
    const auto* o = v.if_object();
    if (o == nullptr) {
        throw RpcUnavailable("the Ethereum node's answer to " + method + " is not an object");
    }
    if (const auto* err = o->if_contains("error"); err != nullptr && err->is_object()) {
        const auto& e = err->as_object();
        std::int64_t code = 0;
        if (const auto* c = e.if_contains("code"); c != nullptr && c->is_int64()) {
            code = c->as_int64();
        }
        std::string message = "JSON-RPC error";
        if (const auto* m = e.if_contains("message"); m != nullptr && m->is_string()) {
            message = std::string(m->as_string());
        }
        std::string data;
        if (const auto* d = e.if_contains("data"); d != nullptr && d->is_string()) {
            data = std::string(d->as_string());
        }
        throw RpcError(code, method + ": " + message, std::move(data));
    }
    const auto* result = o->if_contains("result");
    if (result == nullptr) {
        throw RpcUnavailable("the Ethereum node's answer to " + method + " has no result");
    }
    co_return *result;
}

namespace {

U256 quantityFrom(const json::value& v, std::string_view what) {
    const auto* s = v.if_string();
    auto q = s != nullptr ? parseQuantity(*s) : std::nullopt;
    if (!q) {
        throw RpcUnavailable(std::string(what) + ": not a quantity");
    }
    return *q;
}

std::string bytesFrom(const json::value& v, std::string_view what) {
    const auto* s = v.if_string();
    auto b = s != nullptr ? unhex(*s) : std::nullopt;
    if (!b) {
        throw RpcUnavailable(std::string(what) + ": not hex data");
    }
    return *b;
}

}  // namespace

U256 quantityOf(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        throw RpcUnavailable(std::string(key) + " is missing");
    }
    return quantityFrom(*v, key);
}

std::string bytesOf(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        throw RpcUnavailable(std::string(key) + " is missing");
    }
    return bytesFrom(*v, key);
}

rt::Task<U256> RpcClient::chainId() {
    auto v = co_await call("eth_chainId", {});
    co_return quantityFrom(v, "eth_chainId");
}

rt::Task<U256> RpcClient::blockNumber() {
    auto v = co_await call("eth_blockNumber", {});
    co_return quantityFrom(v, "eth_blockNumber");
}

rt::Task<U256> RpcClient::transactionCount(Address account, std::string block) {
    json::array params{json::value(account.lower()), json::value(block)};
    auto v = co_await call("eth_getTransactionCount", std::move(params));
    co_return quantityFrom(v, "eth_getTransactionCount");
}

rt::Task<U256> RpcClient::balance(Address account) {
    json::array params{json::value(account.lower()), json::value("latest")};
    auto v = co_await call("eth_getBalance", std::move(params));
    co_return quantityFrom(v, "eth_getBalance");
}

rt::Task<std::string> RpcClient::sendRawTransaction(std::string raw) {
    json::array params{json::value(hex(raw))};
    auto v = co_await call("eth_sendRawTransaction", std::move(params));
    co_return bytesFrom(v, "eth_sendRawTransaction");
}

rt::Task<std::optional<json::object>> RpcClient::receipt(std::string tx_hash) {
    json::array params{json::value(hex(tx_hash))};
    auto v = co_await call("eth_getTransactionReceipt", std::move(params));
    if (v.is_null()) {
        co_return std::nullopt;
    }
    if (!v.is_object()) {
        throw RpcUnavailable("eth_getTransactionReceipt: not an object");
    }
    co_return v.as_object();
}

rt::Task<std::string> RpcClient::callContract(Address to, std::string data, std::string block) {
    json::object tx{{"to", to.lower()}, {"data", hex(data)}};
    json::array params{json::value(std::move(tx)), json::value(block)};
    auto v = co_await call("eth_call", std::move(params));
    co_return bytesFrom(v, "eth_call");
}

rt::Task<std::optional<json::object>> RpcClient::blockByNumber(U256 number) {
    json::array params{json::value(quantity(number)), json::value(false)};
    auto v = co_await call("eth_getBlockByNumber", std::move(params));
    if (v.is_null()) {
        co_return std::nullopt;
    }
    if (!v.is_object()) {
        throw RpcUnavailable("eth_getBlockByNumber: not an object");
    }
    co_return v.as_object();
}

}  // namespace restinu::blockchain::eth
