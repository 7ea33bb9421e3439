#include "read_model.hpp"

#include <string>
#include <vector>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::property {
namespace {

// The read model's columns that the projection replaces on a newer version.
constexpr std::string_view kReadModelUpdate =
    "owner_id = EXCLUDED.owner_id, title = EXCLUDED.title, "
    "property_type = EXCLUDED.property_type, listing_type = EXCLUDED.listing_type, "
    "status = EXCLUDED.status, price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency, "
    "bedrooms = EXCLUDED.bedrooms, bathrooms = EXCLUDED.bathrooms, "
    "area_sqft = EXCLUDED.area_sqft, locality = EXCLUDED.locality, city = EXCLUDED.city, "
    "city_key = EXCLUDED.city_key, state = EXCLUDED.state, country = EXCLUDED.country, "
    "latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, geog = EXCLUDED.geog, "
    "facing = EXCLUDED.facing, amenities = EXCLUDED.amenities, version = EXCLUDED.version, "
    "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
    "document = EXCLUDED.document, vastu_score = EXCLUDED.vastu_score, "
    "vastu_grade = EXCLUDED.vastu_grade";

}  // namespace

rt::Task<void> applyToReadModel(rt::PgConn& tx, const rt::Event& event) {
    if (event.type == contracts::VastuCertified::kType) {
        // The listing's latest score, shown and filtered on by search; the listing's version
        // moves with it, as in the write model.
        const auto v = contracts::VastuCertified::parse(event.data);
        co_await tx.query(
            "UPDATE property_search SET vastu_score = $2::smallint, vastu_grade = $3, "
            "version = $4::int WHERE id = $1::uuid AND version < $4::int",
            v.listing_id, v.score, v.grade, v.version);
        co_return;
    }
    if (!contracts::PropertyChanged::carries(event.type)) {
        co_return;  // photos are not searched
    }
    const std::string row = contracts::PropertyChanged::parse(event.data).listing_json;
    const std::string sql =
        "INSERT INTO property_search SELECT (property_search_row(jsonb_populate_record("
        "NULL::properties, $1::jsonb))).* ON CONFLICT (id) DO UPDATE SET " +
        std::string(kReadModelUpdate) + " WHERE property_search.version < EXCLUDED.version";
    co_await tx.query(sql, row);
}

rt::Task<std::int64_t> rebuildReadModel(rt::PgConn& tx, bool bulk) {
    // Writers wait (their events would race the copy); searches go on against the old rows.
    co_await tx.query("LOCK TABLE properties IN SHARE MODE");
    co_await tx.query("DELETE FROM property_search");
    std::vector<std::string> indexes;
    if (bulk) {
        co_await tx.query("SET LOCAL maintenance_work_mem = '256MB'");
        // The migration's own definitions, read back, so nothing here repeats them.
        auto defs = co_await tx.query(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'property_search'::regclass AND NOT indisprimary");
        for (std::size_t i = 0; i < defs.rows(); ++i) {
            indexes.emplace_back(defs.get(i, 1));
            const std::string drop = "DROP INDEX " + std::string(defs.get(i, 0));
            co_await tx.query(drop);
        }
    }
    // Stored by city, then by place (geohash): a city's or an area's rows share pages, so a
    // search reads a few hundred pages instead of one per hit.
    auto r = co_await tx.query(
        "INSERT INTO property_search SELECT (property_search_row(p)).* FROM properties p "
        "ORDER BY lower(p.city), ST_GeoHash(ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), "
        "4326), 7)");
    for (const auto& def : indexes) {
        co_await tx.query(def);
    }
    co_await tx.query("ANALYZE property_search");
    co_return static_cast<std::int64_t>(r.affected());
}

}  // namespace restinu::property
