#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The share purchases (table chain_investments, migration 0009): the saga's state and its SQL,
/// each change with its investment.* event in one transaction.
namespace restinu::blockchain {

struct Investment {
    std::string id;
    std::string investor_id;
    std::string property_id;
    std::string idempotency_key;
    std::string request_sha256;
    std::int64_t shares = 0;
    std::int64_t price_minor = 0;
    std::int64_t amount_minor = 0;
    std::string currency;
    std::string payment_method;
    std::string payee_id;
    std::string wallet;  ///< 0x lower-case
    std::string state;   ///< authorising, transferring, capturing, voiding, completed, failed
    std::string intent_id;
    std::string tx_id;
    std::string tx_hash;  ///< 0x..., once the transfer is signed
    int attempts = 0;
    std::string failure;
    std::string last_error;
    std::string created_at;
    std::string updated_at;
    std::string finished_at;
    std::string shares_contract;  ///< 0x lower-case, from the tokenization
};

class InvestmentStore {
public:
    static rt::Task<std::optional<Investment>> find(rt::PgConn& c, std::string id);
    static rt::Task<std::optional<Investment>> findByKey(rt::PgConn& c, std::string investor_id,
                                                         std::string key);
    /// The investor's purchases, newest first.
    static rt::Task<std::vector<Investment>> mine(rt::PgConn& c, std::string investor_id,
                                                  int limit);
    /// Shares of the listing not yet sold nor reserved by a purchase under way, with the
    /// tokenization's row locked in `tx` (so two purchases never take the same shares).
    static rt::Task<std::int64_t> lockAvailable(rt::PgConn& tx, std::string property_id,
                                                std::int64_t total_shares);
    /// False when the investor's Idempotency-Key is taken already (nothing stored).
    static rt::Task<bool> insert(rt::PgConn& tx, const Investment& i);

    /// Due purchases (authorising, capturing, voiding), leased for `lease`: another pass takes
    /// one again only when the lease ends without a record (a crash mid-call).
    static rt::Task<std::vector<Investment>> claimDue(rt::PgPool& pool, int limit,
                                                      std::chrono::milliseconds lease);
    /// A call that did not answer: run it again after `backoff`.
    static rt::Task<void> retry(rt::PgPool& pool, std::string id, std::string state,
                                std::string error, std::chrono::milliseconds backoff);
    /// From `from` to `to` (due at once), recording what is given; false when the row had moved
    /// on (another pass got there first) and nothing changed.
    static rt::Task<bool> move(rt::PgConn& tx, std::string id, std::string from, std::string to,
                               std::string intent_id, std::string tx_id, std::string failure);
    /// The end, completed or failed (with `failure`, or the one recorded), and its event.
    static rt::Task<bool> finish(rt::PgConn& tx, const Investment& i, std::string from,
                                 bool completed, std::string failure);
};

}  // namespace restinu::blockchain
