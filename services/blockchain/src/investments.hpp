#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "investment_store.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
class ServiceClient;
struct Event;
}  // namespace restinu::rt

/// Buying shares of a tokenized listing (docs/blockchain.md, "Buying shares"): a saga whose whole
/// state is its row in chain_investments.
///
///   POST /api/v1/investments (KYC approved, a wallet, Idempotency-Key) ──▶ 202 `authorising`
///   authorising ──hold (payment service)──▶ transferring: the shares' transfer from the treasury
///               enqueued in the same database transaction that records the hold
///               └─declined──▶ failed
///   transferring ──chain.tx.confirmed──▶ capturing ──capture──▶ completed
///                └─chain.tx.failed (reverted: e.g. a wallet not in the identity registry)
///                   ──▶ voiding ──release the hold──▶ failed
///
/// Every call to the payment service carries a key made of the investment's id and the step, so
/// a pass that runs again after a crash repeats nothing; the transfer is keyed by (shares.sell,
/// id) in the sender. After the transfer is confirmed the purchase only goes forward (capture is
/// retried until it is taken): the shares are delivered.
namespace restinu::blockchain {

class TxManager;

struct InvestmentSettings {
    std::chrono::milliseconds lease{std::chrono::seconds(60)};
    /// Hold calls that got no answer before the saga gives up on the hold and releases it.
    int max_hold_attempts = 8;
    std::chrono::milliseconds backoff_base{std::chrono::milliseconds(250)};
    std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
};

class Investments {
public:
    /// `tx`: null when no operator key is configured (buying then answers 503).
    Investments(rt::PgPool& pool, TxManager* tx, rt::ServiceClient& payments,
                InvestmentSettings settings)
        : pool_(pool), tx_(tx), payments_(payments), settings_(settings) {}

    rt::Task<rt::Response> create(rt::Request& req);
    rt::Task<rt::Response> show(rt::Request& req);
    rt::Task<rt::Response> list(rt::Request& req);

    /// One pass over the due purchases; how many moved. `wake` is called after a new one.
    rt::Task<std::size_t> runOnce();
    void onCreated(std::function<void()> wake) { wake_ = std::move(wake); }

    /// The saga's consumer of the service's own chain_tx events (shares.sell).
    static rt::Task<void> applyChainTx(rt::PgConn& tx, const rt::Event& event);

private:
    rt::Task<bool> step(Investment i);
    rt::Task<bool> authorise(const Investment& i);
    rt::Task<bool> capture(const Investment& i);
    rt::Task<bool> release(const Investment& i);
    std::chrono::milliseconds backoff(int attempts) const;

    rt::PgPool& pool_;
    TxManager* tx_;
    rt::ServiceClient& payments_;
    InvestmentSettings settings_;
    std::function<void()> wake_;
};

}  // namespace restinu::blockchain
