#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
}

/// The double-entry ledger (docs/payments.md, "The ledger"). Each state change of a payment
/// intent is one journal entry whose postings sum to zero per currency (debit > 0, credit < 0);
/// balances are sums of postings, never stored. The entry builders are pure; post() writes one
/// in the caller's transaction, and the database refuses an unbalanced one at commit.
namespace restinu::payment::ledger {

inline constexpr std::string_view kEscrow = "escrow";
inline constexpr std::string_view kPlatformFees = "platform_fees";
inline constexpr std::string_view kProviderClearing = "provider_clearing";
std::string buyerFunds(std::string_view buyer_id);
std::string sellerPayable(std::string_view seller_id);

struct Posting {
    std::string account;  ///< e.g. "buyer_funds:<uuid>"
    std::int64_t amount = 0;
};

struct Entry {
    std::string intent_id;
    std::string kind;       ///< authorise, void, capture, refund
    std::string operation;  ///< unique: the same operation never posts twice
    std::string currency;
    std::vector<Posting> postings;
    std::string memo;
};

/// Who an intent's money belongs to, for its entries.
struct Parties {
    std::string intent_id;
    std::string buyer_id;
    std::string seller_id;
    std::string currency;
};

/// A hold of `amount`: the buyer's funds held in escrow.
Entry authorise(const Parties& p, std::int64_t amount, std::string operation);
/// The hold released.
Entry voidHold(const Parties& p, std::int64_t amount, std::string operation);
/// `captured` of a hold of `authorised`: the hold ends, the provider owes us `captured`, the
/// seller is owed it less `fee`, the platform earns `fee`.
Entry capture(const Parties& p, std::int64_t authorised, std::int64_t captured, std::int64_t fee,
              std::string operation);
/// `refund` of a capture back to the buyer, `fee_back` of it out of the platform's fee.
Entry refund(const Parties& p, std::int64_t refund, std::int64_t fee_back, std::string operation);

/// The sum of each currency's postings (zero for a balanced entry).
bool balanced(const Entry& e);

/// Writes `e` (its accounts created on first use). Returns false, writing nothing, when an
/// entry for the same operation exists already.
rt::Task<bool> post(rt::PgConn& tx, const Entry& e);

}  // namespace restinu::payment::ledger
