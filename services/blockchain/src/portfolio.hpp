#pragma once

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::blockchain {

namespace eth {
class RpcClient;
}

/// `GET /api/v1/users/me/portfolio` (docs/blockchain.md, "Portfolio"): the caller's shares as the
/// indexer's tables hold them (so a reorg the indexer rolled back is never shown), each valued at
/// its issue price, and the rent each shares contract would pay out to the wallet now.
class Portfolio {
public:
    Portfolio(rt::PgPool& pool, eth::RpcClient& rpc) : pool_(pool), rpc_(rpc) {}

    rt::Task<rt::Response> mine(rt::Request& req);

private:
    rt::PgPool& pool_;
    eth::RpcClient& rpc_;
};

}  // namespace restinu::blockchain
