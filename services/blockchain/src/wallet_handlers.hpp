#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class Config;
class PgPool;
class Shard;
}  // namespace restinu::rt

/// Wallets (docs/blockchain.md, "Wallets"): a user links an address they hold by signing a
/// Sign-In with Ethereum challenge, or has the service make a custodial one. One per user.
namespace restinu::blockchain {

struct WalletSettings {
    std::string domain;  ///< the EIP-4361 domain of our challenges (host[:port])
    std::string uri;     ///< their URI
    std::int64_t chain_id = 31337;
    std::chrono::seconds challenge_ttl{600};
    std::string seal_key;  ///< 32 bytes; empty: custodial wallets answer 503
};

/// `chain.chain_id` (31337), `chain.wallets.domain` ("localhost:8080"), `chain.wallets.uri`
/// ("http://localhost:8080"), `chain.wallets.challenge_ttl` (10m, 1s to 1h) and
/// `chain.wallets.seal_key` (base64 of 32 bytes; absent: a warning, and no custodial wallets).
/// A malformed value is a config problem (the service does not start).
WalletSettings readWalletSettings(rt::Config& c);

/// At most this many open (unused, unexpired) challenges per user: a new one drops the oldest.
inline constexpr int kMaxOpenChallenges = 5;

class WalletHandlers {
public:
    WalletHandlers(rt::PgPool& pool, WalletSettings settings)
        : pool_(pool), settings_(std::move(settings)) {}

    rt::Task<rt::Response> challenge(rt::Request& req);
    rt::Task<rt::Response> link(rt::Request& req);
    rt::Task<rt::Response> custodial(rt::Request& req);
    rt::Task<rt::Response> mine(rt::Request& req);

private:
    rt::PgPool& pool_;
    WalletSettings settings_;
};

/// POST /api/v1/wallets/challenge, POST /api/v1/wallets/link, POST /api/v1/wallets/custodial
/// and GET /api/v1/users/me/wallet, each for a signed-in caller (the handlers keep a copy of
/// `settings`).
void addWalletRoutes(rt::Shard& shard, const WalletSettings& settings);

}  // namespace restinu::blockchain
