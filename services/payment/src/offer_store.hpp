#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "restinu/rt/task.hpp"
#include "restinu/rt/write_context.hpp"

namespace restinu::rt {
class PgPool;
}

/// The offer aggregate (table offers) and the purchase an accepted offer starts: SQL, rows and
/// offer.* events, each change in one transaction with its event and audit row.
namespace restinu::payment {

struct Offer {
    std::string id;
    std::string listing_id;
    int listing_version = 0;
    std::string buyer_id;
    std::string seller_id;
    std::int64_t amount = 0;
    std::string currency;
    std::string payment_method;
    std::string status;
    std::string expires_at;
    std::string purchase_id;
    std::string created_at;
};

class OfferStore {
public:
    explicit OfferStore(rt::PgPool& pool) : pool_(pool) {}

    rt::Task<Offer> insert(const Offer& offer, std::chrono::milliseconds expiry,
                           const rt::WriteContext& ctx);
    rt::Task<std::optional<Offer>> find(const std::string& id);
    /// Accepts a pending, unexpired offer and starts its purchase (state running, step
    /// reserve), charging `deposit_bps` of the amount (10,000: all of it). nullopt: the offer
    /// was not pending (or lapsed) when locked.
    rt::Task<std::optional<Offer>> accept(const std::string& id, int deposit_bps,
                                          const rt::WriteContext& ctx);
    rt::Task<std::optional<Offer>> reject(const std::string& id, const rt::WriteContext& ctx);

private:
    rt::PgPool& pool_;
};

}  // namespace restinu::payment
