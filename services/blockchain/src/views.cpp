#include "views.hpp"

#include <array>
#include <boost/json.hpp>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

std::int64_t num(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_number() ? v->to_number<std::int64_t>() : 0;
}

}  // namespace

rt::Task<void> applyListingEvent(rt::PgConn& tx, const rt::Event& event) {
    if (!contracts::PropertyChanged::carries(event.type)) {
        co_return;  // photo events: the next full listing brings them
    }
    const auto changed = contracts::PropertyChanged::parse(event.data);
    const auto row = json::parse(changed.listing_json).as_object();
    std::string images = "[]";
    if (const auto* i = row.if_contains("images"); i != nullptr && i->is_array()) {
        images = json::serialize(*i);
    }
    co_await tx.execute(
        "chain_listing_view",
        "INSERT INTO chain_listing_view AS v (id, owner_id, status, title, description, "
        "property_type, city, state, country, bedrooms, area_sqft, images, version) VALUES "
        "($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10::int, $11::int, $12::jsonb, "
        "$13::int) ON CONFLICT (id) DO UPDATE SET owner_id = EXCLUDED.owner_id, status = "
        "EXCLUDED.status, title = EXCLUDED.title, description = EXCLUDED.description, "
        "property_type = EXCLUDED.property_type, city = EXCLUDED.city, state = EXCLUDED.state, "
        "country = EXCLUDED.country, bedrooms = EXCLUDED.bedrooms, area_sqft = "
        "EXCLUDED.area_sqft, images = EXCLUDED.images, version = EXCLUDED.version "
        "WHERE v.version < EXCLUDED.version",
        str(row, "id"), str(row, "owner_id"), str(row, "status"), str(row, "title"),
        str(row, "description"), str(row, "property_type"), str(row, "city"), str(row, "state"),
        str(row, "country"), num(row, "bedrooms"), num(row, "area_sqft"), images, changed.version);
}

rt::Task<void> applyKycEvent(rt::PgConn& tx, const rt::Event& event) {
    if (event.type != contracts::KycDecided::kApproved &&
        event.type != contracts::KycDecided::kRejected) {
        co_return;
    }
    const auto decided = contracts::KycDecided::parse(event.type, event.data);
    co_await tx.execute(
        "chain_kyc_view",
        "INSERT INTO chain_kyc_view (user_id, status) VALUES ($1::uuid, $2) "
        "ON CONFLICT (user_id) DO UPDATE SET status = EXCLUDED.status, decided_at = now()",
        decided.user_id, std::string(decided.approved ? "approved" : "rejected"));
}

rt::Task<std::optional<ListingView>> findListing(rt::PgConn& conn, std::string id) {
    auto r = co_await conn.query(
        "SELECT id::text AS id, owner_id::text AS owner_id, status, title, description, "
        "property_type, city, state, country, bedrooms, area_sqft, images::text AS images "
        "FROM chain_listing_view WHERE id = $1::uuid",
        id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    static constexpr std::array<std::string_view, 12> kNames = {
        "id",   "owner_id", "status",  "title",    "description", "property_type",
        "city", "state",    "country", "bedrooms", "area_sqft",   "images"};
    const auto c = rt::requireColumns(r, kNames);
    ListingView v;
    v.id = r.get(0, c[0]);
    v.owner_id = r.get(0, c[1]);
    v.status = r.get(0, c[2]);
    v.title = r.get(0, c[3]);
    v.description = r.get(0, c[4]);
    v.property_type = r.get(0, c[5]);
    v.city = r.get(0, c[6]);
    v.state = r.get(0, c[7]);
    v.country = r.get(0, c[8]);
    v.bedrooms = static_cast<int>(r.getInt(0, c[9]));
    v.area_sqft = static_cast<int>(r.getInt(0, c[10]));
    v.images_json = r.get(0, c[11]);
    co_return v;
}

rt::Task<bool> kycApproved(rt::PgConn& conn, std::string user_id) {
    auto r = co_await conn.query(
        "SELECT 1 FROM chain_kyc_view WHERE user_id = $1::uuid AND status = 'approved'", user_id);
    co_return r.rows() == 1;
}

}  // namespace restinu::blockchain
