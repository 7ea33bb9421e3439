#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eth_key.hpp"
#include "tx_manager.hpp"

namespace restinu::rt {
class Config;
}

/// The blockchain service's configuration (docs/configuration.md, `chain.*`).
namespace restinu::blockchain {

struct ChainSettings {
    /// The node's JSON-RPC endpoint (plain HTTP: loopback, or a TLS-terminating proxy).
    std::string rpc_url = "http://127.0.0.1:8545";
    std::chrono::milliseconds rpc_timeout{std::chrono::seconds(10)};
    /// The operator's key: the platform's hot key (registrar, agent, distributor, pauser,
    /// minter, and the treasury that holds unsold shares). From `chain.operator_key` (hex) or
    /// the file `chain.operator_key_file`; never logged. None: the service runs, but everything
    /// that signs answers 503.
    std::optional<eth::PrivateKey> operator_key;
    /// Who may schedule and execute the timelock's delayed admin calls (a multisig in
    /// production); the deployment makes it the timelock's proposer and executor.
    std::optional<eth::Address> governance;
    std::chrono::seconds timelock_delay{std::chrono::hours(48)};
    TxSettings tx;
    /// Where deed metadata is kept: "local" (a folder, the default) or "ipfs" (a node's API).
    std::string metadata_store = "local";
    std::string metadata_dir = "var/metadata";
    std::string ipfs_api_url;  ///< http://HOST:5001 with metadata_store ipfs
    /// The web app's base URL, for the links in a deed's metadata (image, external_url).
    std::string app_url = "http://localhost:8080";
    /// The payment service's instances, for the holds of share purchases (`chain.payment_urls`).
    std::vector<std::pair<std::string, std::uint16_t>> payment_hosts;
    std::chrono::milliseconds payment_timeout{std::chrono::seconds(5)};
    /// How often the share-purchase saga looks for due purchases (it is also woken at once).
    std::chrono::milliseconds investments_poll{std::chrono::milliseconds(500)};
};

/// Reads `chain.*`; problems go to the config's list (the service refuses to start).
ChainSettings readChainSettings(rt::Config& c);

}  // namespace restinu::blockchain
