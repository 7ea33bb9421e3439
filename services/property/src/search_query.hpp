#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"

/// `GET /api/v1/properties?...`: the query parameters, checked, and the one SQL statement that
/// answers them on the read model. The service, the tests and bench/ build the same SQL from
/// the same parameters and run it the same way.
namespace restinu::property::search {

enum class Sort { Relevance, Newest, PriceAsc, PriceDesc, Distance };

struct Params {
    std::optional<std::string> text;              ///< q
    std::optional<std::string> city;              ///< compared case-insensitively
    std::vector<std::string> property_types;      ///< type=apartment,villa
    std::optional<std::string> listing_type;      ///< listing_type
    std::vector<std::string> statuses{"active"};  ///< status=active,reserved,sold
    std::optional<std::int64_t> min_price, max_price;
    std::string currency = "INR";  ///< the price filter's currency
    std::optional<int> min_bedrooms, min_bathrooms;
    std::optional<int> min_area, max_area;          ///< square feet
    std::optional<int> min_vastu_score;             ///< 0-100; certified listings only
    std::optional<std::pair<double, double>> near;  ///< lat, lng
    std::optional<double> radius_km;
    struct Box {
        double min_lng, min_lat, max_lng, max_lat;
    };
    std::optional<Box> bbox;
    Sort sort = Sort::Newest;
    int limit = 20;
    /// Keyset position: the sort key of the last row of the previous page and its id.
    std::optional<std::pair<std::string, std::string>> after;
    std::vector<std::string>
        facets;  ///< distinct, of type, listing_type, bedrooms, city (asked order)
    /// Not a query parameter: how many rows the relevance sort walks, newest first, before
    /// it reads a tier's matches from the index instead; 0 is 25 pages (at least 500). Tests
    /// set it small to take both paths on a small data set.
    int relevance_window = 0;
};

inline constexpr int kMaxLimit = 100;

/// Parses the query parameters (`name=value` pairs, already percent-decoded). Every problem
/// goes to `errors` with the parameter's name; unknown parameters are errors too.
Params parse(const std::vector<std::pair<std::string, std::string>>& query,
             std::vector<rt::FieldError>& errors);

/// The cache key of a search: equal for two parameter sets exactly when their answers are
/// (sets sorted, the city folded to lower case, numbers written exactly, every value
/// length-prefixed so no text can pose as another field).
std::string cacheKey(const Params& p);

/// A statement and its bound parameters.
struct Sql {
    std::string text;
    std::vector<rt::PgParam> params;
    /// Whether to run it as a prepared statement, named by statementName(), so the server
    /// may keep one generic plan instead of planning each search. Only for statements whose
    /// best plan does not depend on the values (the relevance walk); the others are planned
    /// with their values, since which index wins depends on them (a city or a price range).
    bool prepare = false;
    /// "search_" and a hash of the text: searches of one shape share a statement.
    std::string statementName() const;
};

/// Runs `sql` on `pool`: prepared if sql.prepare says so, else planned for its values.
rt::Task<rt::PgResult> run(rt::PgPool& pool, Sql sql);

/// The page query: selects the columns of `kColumns`, then the row's sort key (as text) last,
/// `limit + 1` rows so the caller knows whether there is a next page.
Sql pageQuery(const Params& p);

/// Counts under the same filters (without the cursor) for every facet in `p.facets`, in one
/// statement: rows of (facet, key, count), each facet's rows in display order. Empty text when
/// no facet is asked for.
Sql facetsQuery(const Params& p);

/// The columns pageQuery selects, each named (search_page.cpp reads them by name; none is
/// named like a column the queries order by, which ORDER BY would take instead), then
/// `cursor_key`: the row's sort key as text (the distance in metres for the distance sort).
inline constexpr std::string_view kColumns =
    "id::text AS id, owner_id::text AS owner_id, title, property_type, listing_type, status, "
    "price_minor, currency, bedrooms, bathrooms, area_sqft, locality, city, state, country, "
    "latitude, longitude, facing, array_to_json(amenities)::text AS amenities, version, "
    "restinu_iso(created_at) AS created_iso, vastu_score, vastu_grade";

/// The opaque cursor for the row after which the next page starts: its sort key and id. For the
/// distance sort `id` lists every id on the page whose key equals the last one, comma-separated.
std::string encodeCursor(Sort sort, std::string_view key, std::string_view id);

std::string_view sortName(Sort s);

}  // namespace restinu::property::search
