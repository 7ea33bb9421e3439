#include "search_page.hpp"

#include <array>
#include <optional>

#include "restinu/rt/json_text.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::property::search {
namespace {

void stringMember(std::string& out, std::string_view name, std::string_view value) {
    rt::appendJsonField(out, name);
    rt::appendJsonString(out, value);
}

void numberMember(std::string& out, std::string_view name, std::string_view value) {
    rt::appendJsonField(out, name);
    rt::appendJsonNumber(out, value);
}

// The page's columns, found by name once per result.
struct PageColumns {
    explicit PageColumns(const rt::PgResult& r) : at(rt::requireColumns(r, kNames)) {}
    enum Column {
        kId,
        kOwner,
        kTitle,
        kPropertyType,
        kListingType,
        kStatus,
        kPrice,
        kCurrency,
        kBedrooms,
        kBathrooms,
        kArea,
        kLocality,
        kCity,
        kState,
        kCountry,
        kLat,
        kLng,
        kFacing,
        kAmenities,
        kVersion,
        kCreated,
        kVastuScore,
        kVastuGrade,
        kCursorKey,
        kCount
    };
    static constexpr std::array<std::string_view, kCount> kNames{
        "id",          "owner_id", "title",       "property_type", "listing_type", "status",
        "price_minor", "currency", "bedrooms",    "bathrooms",     "area_sqft",    "locality",
        "city",        "state",    "country",     "latitude",      "longitude",    "facing",
        "amenities",   "version",  "created_iso", "vastu_score",   "vastu_grade",  "cursor_key"};
    std::array<int, kCount> at{};
};

void appendItem(std::string& out, const rt::PgResult& r, std::size_t i, const PageColumns& c,
                bool with_distance) {
    using C = PageColumns;
    auto v = [&](C::Column col) { return r.get(i, c.at[col]); };
    out += '{';
    stringMember(out, "id", v(C::kId));
    stringMember(out, "owner_id", v(C::kOwner));
    stringMember(out, "title", v(C::kTitle));
    stringMember(out, "property_type", v(C::kPropertyType));
    stringMember(out, "listing_type", v(C::kListingType));
    stringMember(out, "status", v(C::kStatus));
    rt::appendJsonField(out, "price");
    out += '{';
    numberMember(out, "amount", v(C::kPrice));
    stringMember(out, "currency", v(C::kCurrency));
    out += '}';
    numberMember(out, "bedrooms", v(C::kBedrooms));
    numberMember(out, "bathrooms", v(C::kBathrooms));
    numberMember(out, "area_sqft", v(C::kArea));
    rt::appendJsonField(out, "address");
    out += '{';
    stringMember(out, "locality", v(C::kLocality));
    stringMember(out, "city", v(C::kCity));
    stringMember(out, "state", v(C::kState));
    stringMember(out, "country", v(C::kCountry));
    out += '}';
    rt::appendJsonField(out, "location");
    out += '{';
    numberMember(out, "lat", v(C::kLat));
    numberMember(out, "lng", v(C::kLng));
    out += '}';
    if (r.isNull(i, c.at[C::kFacing])) {
        rt::appendJsonField(out, "facing");
        out += "null";
    } else {
        stringMember(out, "facing", v(C::kFacing));
    }
    rt::appendJsonField(out, "amenities");
    out += v(C::kAmenities);  // array_to_json: JSON already
    rt::appendJsonField(out, "vastu");
    if (r.isNull(i, c.at[C::kVastuScore])) {
        out += "null";
    } else {
        out += '{';
        numberMember(out, "score", v(C::kVastuScore));
        stringMember(out, "grade", v(C::kVastuGrade));
        out += '}';
    }
    numberMember(out, "version", v(C::kVersion));
    stringMember(out, "created_at", v(C::kCreated));
    if (with_distance) {
        numberMember(out, "distance_m", v(C::kCursorKey));
    }
    out += '}';
}

// The cursor after row n - 1: its sort key and id; for the distance sort every id on the page
// at that distance (the next page skips them: see encodeCursor).
std::string nextCursor(const Params& p, const rt::PgResult& r, std::size_t n,
                       const PageColumns& c) {
    auto key_col = c.at[PageColumns::kCursorKey];
    auto id_col = c.at[PageColumns::kId];
    auto last_key = r.get(n - 1, key_col);
    std::string ids(r.get(n - 1, id_col));
    if (p.sort == Sort::Distance) {
        ids.clear();
        for (std::size_t i = 0; i < n; ++i) {
            if (r.get(i, key_col) == last_key) {
                ids += (ids.empty() ? "" : ",") + std::string(r.get(i, id_col));
            }
        }
    }
    return encodeCursor(p.sort, last_key, ids);
}

// Ends the items array and writes next_cursor (null on the last page).
void closeItems(std::string& body, const std::optional<std::string>& cursor) {
    body += "],\"next_cursor\":";
    if (cursor) {
        rt::appendJsonString(body, *cursor);
    } else {
        body += "null";
    }
}

void appendFacets(std::string& out, const Params& p, const rt::PgResult& fr) {
    out += ",\"facets\":{";
    for (const auto& facet : p.facets) {
        rt::appendJsonField(out, facet);
        out += '{';
        bool first = true;
        for (std::size_t i = 0; i < fr.rows(); ++i) {
            if (fr.get(i, 0) != facet) {
                continue;
            }
            out += first ? "" : ",";
            first = false;
            rt::appendJsonString(out, fr.get(i, 1));
            out += ':';
            rt::appendJsonNumber(out, fr.get(i, 2));
        }
        out += '}';
    }
    out += '}';
}

}  // namespace

std::string pageJson(const Params& p, const rt::PgResult& page, const rt::PgResult* facets) {
    const PageColumns columns(page);
    auto n = std::min<std::size_t>(page.rows(), static_cast<std::size_t>(p.limit));
    std::string body;
    body.reserve(256 + n * 768);
    body += "{\"items\":[";
    for (std::size_t i = 0; i < n; ++i) {
        body += i == 0 ? "" : ",";
        appendItem(body, page, i, columns, p.sort == Sort::Distance);
    }
    if (page.rows() > n && n > 0) {
        closeItems(body, nextCursor(p, page, n, columns));
    } else {
        closeItems(body, std::nullopt);
    }
    if (facets != nullptr) {
        appendFacets(body, p, *facets);
    }
    body += '}';
    return body;
}

std::vector<std::string> itemsJson(const rt::PgResult& rows) {
    const PageColumns columns(rows);
    std::vector<std::string> out(rows.rows());
    for (std::size_t i = 0; i < rows.rows(); ++i) {
        appendItem(out[i], rows, i, columns, false);
    }
    return out;
}

std::string pageFromItems(const std::vector<const std::string*>& items,
                          const std::string* next_cursor) {
    std::size_t size = 64;
    for (const auto* item : items) {
        size += item->size() + 1;
    }
    std::string body;
    body.reserve(size);
    body += "{\"items\":[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        body += i == 0 ? "" : ",";
        body += *items[i];
    }
    closeItems(body,
               next_cursor != nullptr ? std::optional<std::string>(*next_cursor) : std::nullopt);
    body += '}';
    return body;
}

}  // namespace restinu::property::search
