#pragma once

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::blockchain {

class TxManager;

/// `POST /api/v1/properties/{id}/rent` (the listing's owner or an admin; docs/blockchain.md,
/// "Rent"): a period's rent for a tokenized listing, paid to its holders pro rata. The rupees
/// come in off chain; on chain the operator mints the same amount of the rupee stand-in to the
/// treasury, approves the shares contract and deposits it there, where each holder claims
/// their part. One deposit per period: asking again answers with the first.
class RentDeposits {
public:
    /// `tx`: null without an operator key (then 503).
    RentDeposits(rt::PgPool& pool, TxManager* tx) : pool_(pool), tx_(tx) {}

    rt::Task<rt::Response> deposit(rt::Request& req);

private:
    rt::PgPool& pool_;
    TxManager* tx_;
};

}  // namespace restinu::blockchain
