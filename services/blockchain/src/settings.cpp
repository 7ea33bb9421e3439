#include "settings.hpp"

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "restinu/rt/config.hpp"
#include "restinu/rt/service_client.hpp"

namespace restinu::blockchain {
namespace {

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

ChainSettings readChainSettings(rt::Config& c) {
    ChainSettings s;
    s.rpc_url = c.str("chain.rpc_url", s.rpc_url);
    if (s.rpc_url.rfind("http://", 0) != 0) {
        c.reject("chain.rpc_url", "must be http://HOST:PORT (put TLS in a proxy in front)");
    }
    s.rpc_timeout = c.duration("chain.rpc_timeout", s.rpc_timeout);
    s.tx.chain_id = static_cast<std::uint64_t>(c.integer("chain.chain_id", 31337, 1, 1LL << 52));
    s.tx.confirmations = static_cast<int>(c.integer("chain.confirmations", 12, 1, 1000));
    s.tx.replace_after = c.duration("chain.replace_after", s.tx.replace_after);
    s.tx.poll = c.duration("chain.poll", s.tx.poll);
    s.tx.priority_fee = static_cast<std::uint64_t>(
        c.integer("chain.priority_fee_wei", 1'000'000'000, 0, 1'000'000'000'000'000LL));
    s.tx.failpoint = c.oneOf("chain.failpoint", "", {"", "before-send", "after-send"});

    std::string key = c.str("chain.operator_key", "");
    const std::string file = c.str("chain.operator_key_file", "");
    if (!key.empty() && !file.empty()) {
        c.reject("chain.operator_key_file", "set chain.operator_key or the file, not both");
    } else if (!file.empty()) {
        std::ifstream in(file);
        if (!in) {
            c.reject("chain.operator_key_file", "cannot be read");
        }
        std::stringstream ss;
        ss << in.rdbuf();
        key = trimmed(ss.str());
    }
    if (!key.empty()) {
        s.operator_key = eth::PrivateKey::parse(key);
        if (!s.operator_key) {
            c.reject(file.empty() ? "chain.operator_key" : "chain.operator_key_file",
                     "must be a secp256k1 private key: 0x and 64 hex digits");
        }
        sodium_memzero(key.data(), key.size());
    }
    const std::string governance = c.str("chain.governance_address", "");
    if (!governance.empty()) {
        s.governance = eth::Address::parse(governance);
        if (!s.governance) {
            c.reject("chain.governance_address", "must be an address (0x and 40 hex digits)");
        }
    }
    s.timelock_delay = std::chrono::duration_cast<std::chrono::seconds>(
        c.duration("chain.timelock_delay", s.timelock_delay));
    s.metadata_store = c.oneOf("chain.metadata.store", "local", {"local", "ipfs"});
    s.metadata_dir = c.str("chain.metadata.dir", s.metadata_dir);
    s.ipfs_api_url = c.str("chain.metadata.ipfs_api_url", "");
    if (s.metadata_store == "ipfs" && s.ipfs_api_url.rfind("http://", 0) != 0) {
        c.reject("chain.metadata.ipfs_api_url", "must be http://HOST:PORT with store ipfs");
    }
    s.app_url = c.str("chain.app_url", s.app_url);
    while (!s.app_url.empty() && s.app_url.back() == '/') {
        s.app_url.pop_back();
    }
    s.payment_hosts = rt::serviceHosts(c, "chain.payment_urls", "http://127.0.0.1:8104");
    s.payment_timeout = c.duration("chain.payment_timeout", s.payment_timeout);
    s.investments_poll = c.duration("chain.investments.poll", s.investments_poll);
    return s;
}

}  // namespace restinu::blockchain
