#pragma once

#include <optional>
#include <string>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
}

namespace restinu::blockchain {

/// One row of chain_tokenizations (migration 0006).
struct Tokenization {
    std::string property_id;
    std::string requested_by;
    std::int64_t total_shares = 0;
    std::int64_t price_minor = 0;
    std::string currency;
    std::string symbol;
    std::string metadata_cid;
    std::string token_id;  ///< decimal
    std::string deed_tx_id;
    std::string shares_tx_id;
    bool deed_minted = false;
    std::string shares_address;  ///< once deployed
    std::string state;           ///< pending, listed, failed
    std::string failure;
    std::string created_at;
    std::string listed_at;
};

class TokenizeStore {
public:
    static rt::Task<std::optional<Tokenization>> find(rt::PgConn& c, std::string property_id);
    static rt::Task<void> insert(rt::PgConn& tx, const Tokenization& t);
    /// A confirmed deed mint or shares deployment; the tokenization when it just became listed.
    static rt::Task<std::optional<Tokenization>> stepConfirmed(rt::PgConn& tx,
                                                               std::string property_id,
                                                               std::string purpose,
                                                               std::string contract_address);
    static rt::Task<void> fail(rt::PgConn& tx, std::string property_id, std::string reason);
};

}  // namespace restinu::blockchain
