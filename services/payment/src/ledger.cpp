#include "ledger.hpp"

#include <map>
#include <stdexcept>

#include "restinu/rt/pg.hpp"

namespace restinu::payment::ledger {
namespace {

std::string_view kindOf(std::string_view account) {
    const auto colon = account.find(':');
    return colon == std::string_view::npos ? account : account.substr(0, colon);
}

std::string ownerOf(std::string_view account) {
    const auto colon = account.find(':');
    return colon == std::string_view::npos ? std::string{} : std::string(account.substr(colon + 1));
}

Entry make(const Parties& p, std::string kind, std::string operation,
           const std::vector<Posting>& postings) {
    Entry e{p.intent_id, std::move(kind), std::move(operation), p.currency, {}, {}};
    // Postings to the same account merge; a zero posting is left out.
    std::map<std::string, std::int64_t> sums;
    std::vector<std::string> order;
    for (const auto& posting : postings) {
        if (!sums.contains(posting.account)) {
            order.push_back(posting.account);
        }
        sums[posting.account] += posting.amount;
    }
    for (const auto& account : order) {
        if (sums[account] != 0) {
            e.postings.push_back({account, sums[account]});
        }
    }
    if (!balanced(e)) {
        throw std::logic_error("ledger: an unbalanced " + e.kind + " entry");
    }
    return e;
}

void requirePositive(std::int64_t amount, const char* what) {
    if (amount <= 0) {
        throw std::invalid_argument(std::string("ledger: ") + what + " must be positive");
    }
}

}  // namespace

std::string buyerFunds(std::string_view buyer_id) {
    return "buyer_funds:" + std::string(buyer_id);
}

std::string sellerPayable(std::string_view seller_id) {
    return "seller_payable:" + std::string(seller_id);
}

Entry authorise(const Parties& p, std::int64_t amount, std::string operation) {
    requirePositive(amount, "a hold");
    return make(p, "authorise", std::move(operation),
                {{buyerFunds(p.buyer_id), amount}, {std::string(kEscrow), -amount}});
}

Entry voidHold(const Parties& p, std::int64_t amount, std::string operation) {
    requirePositive(amount, "a void");
    return make(p, "void", std::move(operation),
                {{buyerFunds(p.buyer_id), -amount}, {std::string(kEscrow), amount}});
}

Entry capture(const Parties& p, std::int64_t authorised, std::int64_t captured, std::int64_t fee,
              std::string operation) {
    requirePositive(captured, "a capture");
    if (captured > authorised || fee < 0 || fee > captured) {
        throw std::invalid_argument("ledger: a capture beyond its hold or a fee beyond it");
    }
    return make(p, "capture", std::move(operation),
                {{std::string(kEscrow), authorised},
                 {buyerFunds(p.buyer_id), -authorised},
                 {std::string(kProviderClearing), captured},
                 {sellerPayable(p.seller_id), -(captured - fee)},
                 {std::string(kPlatformFees), -fee}});
}

Entry refund(const Parties& p, std::int64_t refund, std::int64_t fee_back, std::string operation) {
    requirePositive(refund, "a refund");
    if (fee_back < 0 || fee_back > refund) {
        throw std::invalid_argument("ledger: a refund's fee share beyond the refund");
    }
    return make(p, "refund", std::move(operation),
                {{std::string(kProviderClearing), -refund},
                 {sellerPayable(p.seller_id), refund - fee_back},
                 {std::string(kPlatformFees), fee_back}});
}

bool balanced(const Entry& e) {
    std::int64_t sum = 0;
    for (const auto& posting : e.postings) {
        sum += posting.amount;
    }
    return sum == 0;
}

rt::Task<bool> post(rt::PgConn& tx, const Entry& e) {
    auto inserted = co_await tx.execute(
        "ledger_entry",
        "INSERT INTO journal_entries (intent_id, kind, operation, memo) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (operation) DO NOTHING RETURNING id",
        e.intent_id, e.kind, e.operation, e.memo);
    if (inserted.rows() == 0) {
        co_return false;
    }
    const auto entry_id = inserted.getInt(0, 0);
    for (const auto& posting : e.postings) {
        const auto owner = ownerOf(posting.account);
        // Named, not a temporary inside co_await (g++ 12 destroys those twice).
        const rt::PgParam owner_param =
            owner.empty() ? rt::PgParam(std::nullopt) : rt::PgParam(owner);
        co_await tx.execute("ledger_account",
                            "INSERT INTO ledger_accounts (id, kind, owner_id) "
                            "VALUES ($1, $2, $3::uuid) ON CONFLICT (id) DO NOTHING",
                            posting.account, kindOf(posting.account), owner_param);
        co_await tx.execute("ledger_posting",
                            "INSERT INTO postings (entry_id, account_id, amount, currency) "
                            "VALUES ($1::bigint, $2, $3::bigint, $4)",
                            entry_id, posting.account, posting.amount, e.currency);
    }
    co_return true;
}

}  // namespace restinu::payment::ledger
