#include "offer_store.hpp"

#include "money.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::payment {
namespace {

constexpr std::string_view kColumns =
    "id::text AS id, listing_id::text AS listing_id, listing_version, buyer_id::text AS buyer_id, "
    "seller_id::text AS seller_id, amount, currency, payment_method, "
    "CASE WHEN status = 'pending' AND expires_at < now() THEN 'lapsed' ELSE status END AS status, "
    "restinu_iso(expires_at) AS expires_at, coalesce(purchase_id::text, '') AS purchase_id, "
    "restinu_iso(created_at) AS created_at";

Offer readOffer(const rt::PgResult& r) {
    static constexpr std::array<std::string_view, 12> kNames = {
        "id",       "listing_id",     "listing_version", "buyer_id",   "seller_id",   "amount",
        "currency", "payment_method", "status",          "expires_at", "purchase_id", "created_at"};
    const auto c = rt::requireColumns(r, kNames);
    Offer o;
    o.id = r.get(0, c[0]);
    o.listing_id = r.get(0, c[1]);
    o.listing_version = static_cast<int>(r.getInt(0, c[2]));
    o.buyer_id = r.get(0, c[3]);
    o.seller_id = r.get(0, c[4]);
    o.amount = r.getInt(0, c[5]);
    o.currency = r.get(0, c[6]);
    o.payment_method = r.get(0, c[7]);
    o.status = r.get(0, c[8]);
    o.expires_at = r.get(0, c[9]);
    o.purchase_id = r.get(0, c[10]);
    o.created_at = r.get(0, c[11]);
    return o;
}

rt::Task<void> enqueueOffer(rt::PgConn& tx, std::string_view type, const Offer& o,
                            const rt::WriteContext& ctx) {
    const contracts::OfferChanged changed{o.id,     o.listing_id, o.buyer_id,   o.seller_id,
                                          o.amount, o.currency,   o.purchase_id};
    co_await rt::enqueueEvent(
        tx, rt::makeEvent(std::string(type), std::string(contracts::kOfferAggregate), o.id,
                          changed.data(), ctx.traceparent));
    co_await rt::audit(tx, ctx.actor, type, "offer", o.id, ctx.request_id);
}

}  // namespace

rt::Task<Offer> OfferStore::insert(const Offer& offer, std::chrono::milliseconds expiry,
                                   const rt::WriteContext& ctx) {
    std::function<rt::Task<Offer>(rt::PgConn&)> body = [&](rt::PgConn& tx) -> rt::Task<Offer> {
        const std::string sql =
            "INSERT INTO offers (id, listing_id, listing_version, buyer_id, seller_id, amount, "
            "currency, payment_method, status, expires_at) VALUES ($1::uuid, $2::uuid, $3::int, "
            "$4::uuid, $5::uuid, $6::bigint, $7, $8, 'pending', now() + $9::interval) "
            "RETURNING " +
            std::string(kColumns);
        auto r = co_await tx.query(sql, offer.id, offer.listing_id, offer.listing_version,
                                   offer.buyer_id, offer.seller_id, offer.amount, offer.currency,
                                   offer.payment_method,
                                   std::to_string(expiry.count()) + " milliseconds");
        auto stored = readOffer(r);
        co_await enqueueOffer(tx, contracts::OfferChanged::kMade, stored, ctx);
        co_return stored;
    };
    co_return co_await pool_.transaction(body);
}

rt::Task<std::optional<Offer>> OfferStore::find(const std::string& id) {
    const std::string sql = "SELECT " + std::string(kColumns) + " FROM offers WHERE id = $1::uuid";
    auto r = co_await pool_.execute("offer_find", sql, id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return readOffer(r);
}

rt::Task<std::optional<Offer>> OfferStore::accept(const std::string& id, int deposit_bps,
                                                  const rt::WriteContext& ctx) {
    std::function<rt::Task<std::optional<Offer>>(rt::PgConn&)> body =
        [&](rt::PgConn& tx) -> rt::Task<std::optional<Offer>> {
        const std::string sql =
            "UPDATE offers SET status = 'accepted', decided_by = $2::uuid, decided_at = now(), "
            "purchase_id = $3::uuid WHERE id = $1::uuid AND status = 'pending' AND "
            "expires_at >= now() RETURNING " +
            std::string(kColumns);
        const auto purchase_id = rt::newUuidV7();
        auto r = co_await tx.query(sql, id, ctx.actor, purchase_id);
        if (r.rows() == 0) {
            co_return std::nullopt;
        }
        auto offer = readOffer(r);
        const auto charge = deposit_bps >= 10'000 ? offer.amount
                                                  : std::max<std::int64_t>(
                                                        1, money::feeOf(offer.amount, deposit_bps));
        co_await tx.execute(
            "purchase_insert",
            "INSERT INTO purchases (id, offer_id, listing_id, listing_version, buyer_id, "
            "seller_id, price, charge, currency, payment_method, state, step) VALUES ($1::uuid, "
            "$2::uuid, $3::uuid, $4::int, $5::uuid, $6::uuid, $7::bigint, $8::bigint, $9, $10, "
            "'running', 'reserve')",
            purchase_id, offer.id, offer.listing_id, offer.listing_version, offer.buyer_id,
            offer.seller_id, offer.amount, charge, offer.currency, offer.payment_method);
        co_await enqueueOffer(tx, contracts::OfferChanged::kAccepted, offer, ctx);
        co_return offer;
    };
    co_return co_await pool_.transaction(body);
}

rt::Task<std::optional<Offer>> OfferStore::reject(const std::string& id,
                                                  const rt::WriteContext& ctx) {
    std::function<rt::Task<std::optional<Offer>>(rt::PgConn&)> body =
        [&](rt::PgConn& tx) -> rt::Task<std::optional<Offer>> {
        const std::string sql =
            "UPDATE offers SET status = 'rejected', decided_by = $2::uuid, decided_at = now() "
            "WHERE id = $1::uuid AND status = 'pending' AND expires_at >= now() RETURNING " +
            std::string(kColumns);
        auto r = co_await tx.query(sql, id, ctx.actor);
        if (r.rows() == 0) {
            co_return std::nullopt;
        }
        auto offer = readOffer(r);
        co_await enqueueOffer(tx, contracts::OfferChanged::kRejected, offer, ctx);
        co_return offer;
    };
    co_return co_await pool_.transaction(body);
}

}  // namespace restinu::payment
