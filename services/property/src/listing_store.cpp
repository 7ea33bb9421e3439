#include "listing_store.hpp"

#include <array>
#include <boost/json.hpp>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;

// The write model's columns, each named: the reader below finds them by name.
constexpr std::string_view kColumns =
    "id::text AS id, owner_id::text AS owner_id, title, description, property_type, "
    "listing_type, status, price_minor, currency, bedrooms, bathrooms, area_sqft, address_line, "
    "locality, city, state, postal_code, country, latitude, longitude, facing, "
    "array_to_json(amenities)::text AS amenities, version, "
    "restinu_iso(created_at) AS created_at, restinu_iso(updated_at) AS updated_at, "
    "to_jsonb(p)::text AS row_json, images::text AS images, "
    "coalesce(vastu::text, 'null') AS vastu, coalesce(token::text, 'null') AS token";

class ListingReader {
public:
    explicit ListingReader(const rt::PgResult& r) : r_(r), col_(rt::requireColumns(r, kNames)) {}

    StoredListing read(std::size_t i) const {
        StoredListing s;
        s.id = text(i, kId);
        s.owner_id = text(i, kOwner);
        auto& l = s.listing;
        l.title = text(i, kTitle);
        l.description = text(i, kDescription);
        l.property_type = text(i, kPropertyType);
        l.listing_type = text(i, kListingType);
        l.status = text(i, kStatus);
        l.price_minor = r_.getInt(i, col_[kPrice]);
        l.currency = text(i, kCurrency);
        l.bedrooms = static_cast<int>(r_.getInt(i, col_[kBedrooms]));
        l.bathrooms = static_cast<int>(r_.getInt(i, col_[kBathrooms]));
        l.area_sqft = static_cast<int>(r_.getInt(i, col_[kArea]));
        l.address_line = text(i, kAddress);
        l.locality = text(i, kLocality);
        l.city = text(i, kCity);
        l.state = text(i, kState);
        l.postal_code = text(i, kPostalCode);
        l.country = text(i, kCountry);
        l.latitude = std::stod(text(i, kLatitude));
        l.longitude = std::stod(text(i, kLongitude));
        if (auto f = r_.opt(i, col_[kFacing])) {
            l.facing = std::string(*f);
        }
        const auto amenities = json::parse(r_.get(i, col_[kAmenities]));
        for (const auto& a : amenities.as_array()) {
            l.amenities.emplace_back(a.as_string());
        }
        s.version = static_cast<int>(r_.getInt(i, col_[kVersion]));
        s.created_at = text(i, kCreated);
        s.updated_at = text(i, kUpdated);
        s.row_json = text(i, kRowJson);
        s.images_json = text(i, kImages);
        s.vastu_json = text(i, kVastu);
        s.token_json = text(i, kToken);
        return s;
    }

private:
    enum Column {
        kId,
        kOwner,
        kTitle,
        kDescription,
        kPropertyType,
        kListingType,
        kStatus,
        kPrice,
        kCurrency,
        kBedrooms,
        kBathrooms,
        kArea,
        kAddress,
        kLocality,
        kCity,
        kState,
        kPostalCode,
        kCountry,
        kLatitude,
        kLongitude,
        kFacing,
        kAmenities,
        kVersion,
        kCreated,
        kUpdated,
        kRowJson,
        kImages,
        kVastu,
        kToken,
        kCount
    };
    static constexpr std::array<std::string_view, kCount> kNames{
        "id",           "owner_id",    "title",    "description", "property_type", "listing_type",
        "status",       "price_minor", "currency", "bedrooms",    "bathrooms",     "area_sqft",
        "address_line", "locality",    "city",     "state",       "postal_code",   "country",
        "latitude",     "longitude",   "facing",   "amenities",   "version",       "created_at",
        "updated_at",   "row_json",    "images",   "vastu",       "token"};

    std::string text(std::size_t i, Column c) const { return std::string(r_.get(i, col_[c])); }

    const rt::PgResult& r_;
    std::array<int, kCount> col_;
};

// The listing's columns as bound parameters, after `first`, in the order of the INSERT and
// UPDATE below (title ... facing, then the amenities as a JSON array).
std::vector<rt::PgParam> listingParams(std::vector<rt::PgParam> first, const domain::Listing& l) {
    json::array amenities;
    for (const auto& a : l.amenities) {
        amenities.emplace_back(a);
    }
    for (rt::PgParam p : {rt::PgParam(l.title),         rt::PgParam(l.description),
                          rt::PgParam(l.property_type), rt::PgParam(l.listing_type),
                          rt::PgParam(l.status),        rt::PgParam(l.price_minor),
                          rt::PgParam(l.currency),      rt::PgParam(l.bedrooms),
                          rt::PgParam(l.bathrooms),     rt::PgParam(l.area_sqft),
                          rt::PgParam(l.address_line),  rt::PgParam(l.locality),
                          rt::PgParam(l.city),          rt::PgParam(l.state),
                          rt::PgParam(l.postal_code),   rt::PgParam(l.country),
                          rt::PgParam(l.latitude),      rt::PgParam(l.longitude),
                          rt::PgParam(l.facing),        rt::PgParam(json::serialize(amenities))}) {
        first.push_back(std::move(p));
    }
    return first;
}

rt::Task<void> enqueueChange(rt::PgConn& tx, std::string_view type, const StoredListing& s,
                             const std::string& from_status, const rt::WriteContext& ctx) {
    const contracts::PropertyChanged changed{
        s.row_json, s.version, from_status, from_status.empty() ? std::string{} : s.listing.status};
    auto event = rt::makeEvent(std::string(type), std::string(contracts::kPropertyAggregate), s.id,
                               changed.data(), ctx.traceparent);
    co_await rt::enqueueEvent(tx, event);
}

}  // namespace

std::string_view ListingStore::columns() {
    return kColumns;
}

StoredListing ListingStore::read(const rt::PgResult& r, std::size_t row) {
    return ListingReader(r).read(row);
}

rt::Task<std::optional<StoredListing>> ListingStore::find(const std::string& id) {
    const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM properties p WHERE id = $1::uuid";
    auto r = co_await reads_.query(sql, id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return ListingReader(r).read(0);
}

rt::Task<std::vector<StoredListing>> ListingStore::ownedBy(rt::PgPool& pool, std::string owner_id,
                                                           std::optional<std::string> status,
                                                           std::optional<std::string> after_id,
                                                           int limit) {
    // After a cursor: the rows before the cursor's listing in (created_at, id) order, with
    // `created_at <=` as the index condition on (owner_id, created_at), so a deep page starts
    // where the last one ended instead of filtering every newer row. The cursor's listing is
    // found whoever owns it now (a sale moves it to its buyer); its id, a UUIDv7, tells its
    // creation time anyway. Two statements rather than `$3 IS NULL OR ...`, which a generic
    // plan could not use as an index condition.
    std::string sql = "SELECT " + std::string(kColumns) +
                      " FROM properties p WHERE p.owner_id = $1::uuid"
                      " AND ($2::text IS NULL OR p.status = $2)";
    std::vector<rt::PgParam> params{owner_id, status};
    if (after_id) {
        sql +=
            " AND p.created_at <= (SELECT created_at FROM properties WHERE id = $4::uuid)"
            " AND (p.created_at, p.id) < (SELECT created_at, id FROM properties WHERE id = "
            "$4::uuid)";
    }
    sql += " ORDER BY p.created_at DESC, p.id DESC LIMIT $3";
    params.emplace_back(limit);
    if (after_id) {
        params.emplace_back(*after_id);
    }
    auto r = co_await pool.query(sql, std::move(params));
    std::vector<StoredListing> out;
    out.reserve(r.rows());
    const ListingReader reader(r);
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back(reader.read(i));
    }
    co_return out;
}

rt::Task<StoredListing> ListingStore::insert(rt::PgConn& tx, const std::string& id,
                                             const std::string& owner_id,
                                             const domain::Listing& listing,
                                             const rt::WriteContext& ctx) {
    const std::string sql =
        "INSERT INTO properties AS p (id, owner_id, title, description, property_type, "
        "listing_type, status, price_minor, currency, bedrooms, bathrooms, area_sqft, "
        "address_line, locality, city, state, postal_code, country, latitude, longitude, "
        "facing, amenities) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8::bigint, $9, "
        "$10::int, $11::int, $12::int, $13, $14, $15, $16, $17, $18, $19::float8, "
        "$20::float8, $21, ARRAY(SELECT json_array_elements_text($22::json))) RETURNING " +
        std::string(kColumns);
    auto params = listingParams({rt::PgParam(id), rt::PgParam(owner_id)}, listing);
    auto r = co_await tx.query(sql, std::move(params));
    auto stored = ListingReader(r).read(0);
    co_await enqueueChange(tx, contracts::PropertyChanged::kCreated, stored, "", ctx);
    co_await rt::audit(tx, ctx.actor, "property.create", "property", id, ctx.request_id);
    co_return stored;
}

rt::Task<std::optional<StoredListing>> ListingStore::lock(rt::PgConn& tx, const std::string& id) {
    const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM properties p WHERE id = $1::uuid FOR UPDATE";
    auto r = co_await tx.query(sql, id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return ListingReader(r).read(0);
}

rt::Task<StoredListing> ListingStore::update(rt::PgConn& tx, const StoredListing& before,
                                             const domain::Listing& listing,
                                             std::string_view action, const rt::WriteContext& ctx) {
    const std::string sql =
        "UPDATE properties p SET title = $2, description = $3, property_type = $4, "
        "listing_type = $5, status = $6, price_minor = $7::bigint, currency = $8, "
        "bedrooms = $9::int, bathrooms = $10::int, area_sqft = $11::int, address_line = $12, "
        "locality = $13, city = $14, state = $15, postal_code = $16, country = $17, "
        "latitude = $18::float8, longitude = $19::float8, facing = $20, "
        "amenities = ARRAY(SELECT json_array_elements_text($21::json)), "
        "version = version + 1, updated_at = now() WHERE id = $1::uuid RETURNING " +
        std::string(kColumns);
    auto params = listingParams({rt::PgParam(before.id)}, listing);
    auto r = co_await tx.query(sql, std::move(params));
    auto after = ListingReader(r).read(0);
    const auto& from = before.listing.status;
    const auto& to = listing.status;
    const bool status_changed = from != to;
    const std::string_view type = !status_changed     ? contracts::PropertyChanged::kUpdated
                                  : to == "withdrawn" ? contracts::PropertyChanged::kWithdrawn
                                                      : contracts::PropertyChanged::kStatusChanged;
    const std::string from_status = status_changed ? from : std::string{};
    co_await enqueueChange(tx, type, after, from_status, ctx);
    co_await rt::audit(tx, ctx.actor, action, "property", before.id, ctx.request_id);
    co_return after;
}

rt::Task<StoredListing> ListingStore::setOwner(rt::PgConn& tx, const StoredListing& before,
                                               const std::string& owner_id, std::string_view action,
                                               const rt::WriteContext& ctx) {
    const std::string sql =
        "UPDATE properties p SET owner_id = $2::uuid, version = version + 1, updated_at = now() "
        "WHERE id = $1::uuid RETURNING " +
        std::string(kColumns);
    auto r = co_await tx.query(sql, before.id, owner_id);
    auto after = ListingReader(r).read(0);
    co_await enqueueChange(tx, contracts::PropertyChanged::kUpdated, after, "", ctx);
    co_await rt::audit(tx, ctx.actor, action, "property", before.id, ctx.request_id);
    co_return after;
}

rt::Task<std::optional<StoredListing>> ListingStore::setToken(rt::PgConn& tx, const std::string& id,
                                                              const std::string& token_json,
                                                              const rt::WriteContext& ctx) {
    const std::string sql =
        "UPDATE properties p SET token = $2::jsonb, version = version + 1, updated_at = now() "
        "WHERE id = $1::uuid AND token IS DISTINCT FROM $2::jsonb RETURNING " +
        std::string(kColumns);
    auto r = co_await tx.query(sql, id, token_json);
    if (r.rows() == 0) {
        co_return std::nullopt;  // no such listing, or told before
    }
    auto after = ListingReader(r).read(0);
    co_await enqueueChange(tx, contracts::PropertyChanged::kUpdated, after, "", ctx);
    co_return after;
}

}  // namespace restinu::property
