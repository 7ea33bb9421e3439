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
/// answers them on the read model. Pure code: the service, the tests and bench/ build the
/// same SQL from the same parameters.
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
    std::vector<std::string> facets;  ///< of type, bedrooms, city
};

inline constexpr int kMaxLimit = 100;

/// Parses the query parameters (`name=value` pairs, already percent-decoded). Every problem
/// goes to `errors` with the parameter's name; unknown parameters are errors too.
Params parse(const std::vector<std::pair<std::string, std::string>>& query,
             std::vector<rt::FieldError>& errors);

/// A statement and its bound parameters.
struct Sql {
    std::string text;
    std::vector<rt::PgParam> params;
};

/// The page query: selects the columns of `kColumns`, then the row's sort key (as text) last,
/// `limit + 1` rows so the caller knows whether there is a next page.
Sql pageQuery(const Params& p);

/// Counts by `facet` (type, bedrooms or city) under the same filters, without the cursor.
Sql facetQuery(const Params& p, std::string_view facet);

/// The columns pageQuery selects, in order (before the sort key).
inline constexpr std::string_view kColumns =
    "id::text, owner_id::text, title, property_type, listing_type, status, price_minor, "
    "currency, bedrooms, bathrooms, area_sqft, locality, city, state, country, latitude, "
    "longitude, facing, array_to_json(amenities)::text, version, restinu_iso(created_at)";
inline constexpr int kColumnCount = 21;

/// The opaque cursor for the row after which the next page starts: its sort key and id. For the
/// distance sort `id` lists every id on the page whose key equals the last one, comma-separated.
std::string encodeCursor(Sort sort, std::string_view key, std::string_view id);

std::string_view sortName(Sort s);

}  // namespace restinu::property::search
