#pragma once

#include <string>
#include <vector>

#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::blockchain {

namespace eth {
class RpcClient;
}
class TxManager;

/// One of a wallet's holdings of a platform shares contract.
struct ShareHolding {
    std::string property_id;
    std::string symbol;
    eth::Address contract;
    eth::U256 shares;       ///< as the indexer's tables hold them
    eth::U256 price_minor;  ///< the issue price per share
    eth::U256 claimable;    ///< rent the contract would pay the wallet now (eth_call)
    eth::U256 claimed;      ///< rent the wallet claimed in all, as indexed
};

/// The wallet's holdings of shares the platform issued (others are left out).
rt::Task<std::vector<ShareHolding>> shareHoldings(rt::PgPool& pool, eth::RpcClient& rpc,
                                                  std::string wallet);

/// `GET /api/v1/users/me/portfolio` (docs/blockchain.md, "Portfolio"): the caller's shares as the
/// indexer's tables hold them (so a reorg the indexer rolled back is never shown), each valued at
/// its issue price, the rent each shares contract would pay out to the wallet now and the rent
/// claimed so far.
///
/// `POST /api/v1/users/me/dividends/claim` ({"property_id"} or {} for every holding): the
/// platform claims the caller's rent for them (claimRentFor, at the operator's gas, so a
/// custodial wallet needs no ether and a linked one need not sign). One claim per holding and
/// rent earned: asking again before another deposit gives the same transaction.
class Portfolio {
public:
    /// `tx`: null when no operator key is configured (claims then answer 503).
    Portfolio(rt::PgPool& pool, eth::RpcClient& rpc, TxManager* tx)
        : pool_(pool), rpc_(rpc), tx_(tx) {}

    rt::Task<rt::Response> mine(rt::Request& req);
    rt::Task<rt::Response> claim(rt::Request& req);

private:
    rt::PgPool& pool_;
    eth::RpcClient& rpc_;
    TxManager* tx_;
};

}  // namespace restinu::blockchain
