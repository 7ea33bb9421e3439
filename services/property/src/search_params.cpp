#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>

#include "listing.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/events.hpp"
#include "search_query.hpp"

// The search parameters of GET /api/v1/properties: one reader per parameter (kReaders), then
// the checks between parameters, then the sort and the cursor, which depend on the others.
namespace restinu::property::search {
namespace {

constexpr std::string_view kPublicStatuses[] = {"active", "reserved", "sold"};
constexpr std::string_view kFacetNames[] = {"type", "listing_type", "bedrooms", "city"};
std::vector<std::string> splitComma(std::string_view s) {
    std::vector<std::string> out;
    while (true) {
        auto comma = s.find(',');
        out.emplace_back(s.substr(0, comma));
        if (comma == std::string_view::npos) {
            break;
        }
        s.remove_prefix(comma + 1);
    }
    return out;
}

template <class T>
std::optional<T> parseNumber(std::string_view s) {
    T v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(v)) {
            return std::nullopt;
        }
    }
    return v;
}

std::optional<std::vector<double>> numbers(std::string_view s, std::size_t n) {
    auto parts = splitComma(s);
    if (parts.size() != n) {
        return std::nullopt;
    }
    std::vector<double> out;
    for (const auto& p : parts) {
        auto d = parseNumber<double>(p);
        if (!d) {
            return std::nullopt;
        }
        out.push_back(*d);
    }
    return out;
}

// Whether a cursor key is well-formed for its sort (so a forged cursor is a 400, never a
// server error).
bool validKey(Sort sort, std::string_view key) {
    switch (sort) {
        case Sort::PriceAsc:
        case Sort::PriceDesc:
            return parseNumber<std::int64_t>(key).has_value();
        case Sort::Distance:
            return parseNumber<double>(key).has_value();
        case Sort::Relevance:  // the tier, a slash, then a timestamp as for newest
            return key.size() > 2 && (key[0] == '0' || key[0] == '1') && key[1] == '/' &&
                   validKey(Sort::Newest, key.substr(2));
        case Sort::Newest:
            return !key.empty() && key.size() < 40 &&
                   key.find_first_not_of("0123456789-:. +") == std::string_view::npos;
    }
    return false;
}

std::optional<Sort> sortFrom(std::string_view s) {
    for (auto v :
         {Sort::Relevance, Sort::Newest, Sort::PriceAsc, Sort::PriceDesc, Sort::Distance}) {
        if (sortName(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

// What the readers leave for after the loop, and where they report.
struct Reading {
    Params& p;
    std::vector<rt::FieldError>& errors;
    std::optional<std::string> sort_text;
    std::optional<std::string> cursor_text;

    void error(const std::string& name, std::string reason) {
        errors.push_back({name, std::move(reason)});
    }
    std::optional<std::int64_t> integer(const std::string& name, const std::string& v,
                                        std::int64_t min, std::int64_t max) {
        auto n = parseNumber<std::int64_t>(v);
        if (!n || *n < min || *n > max) {
            error(name, "must be a whole number from " + std::to_string(min) + " to " +
                            std::to_string(max));
            return std::nullopt;
        }
        return n;
    }
    // A comma-separated list whose items are all in `allowed`; on any other item, `reason`
    // and the `fallback` list.
    template <std::size_t N>
    void list(const std::string& name, const std::string& value,
              const std::string_view (&allowed)[N], std::vector<std::string>& out,
              std::vector<std::string> fallback, const char* reason) {
        out.clear();
        for (auto& item : splitComma(value)) {
            if (!domain::oneOf(item, allowed)) {
                error(name, reason);
                out = std::move(fallback);
                return;
            }
            if (std::find(out.begin(), out.end(), item) == out.end()) {
                out.push_back(item);
            }
        }
    }
};

using Reader = void (*)(Reading&, const std::string& name, const std::string& value);

void readText(Reading& r, const std::string& name, const std::string& v) {
    if (v.find_first_not_of(' ') == std::string::npos || v.size() > 200) {
        r.error(name, "must be 1 to 200 characters");
    } else {
        r.p.text = v;
    }
}

void readCity(Reading& r, const std::string& name, const std::string& v) {
    if (v.empty() || v.size() > 100) {
        r.error(name, "must be 1 to 100 characters");
    } else {
        r.p.city = v;
    }
}

void readTypes(Reading& r, const std::string& name, const std::string& v) {
    r.list(name, v, domain::kPropertyTypes, r.p.property_types, {},
           "must be a comma-separated list of apartment, independent_house, villa, plot, "
           "commercial");
}

void readListingType(Reading& r, const std::string& name, const std::string& v) {
    if (!domain::oneOf(v, domain::kListingTypes)) {
        r.error(name, "must be sale or fractional");
    } else {
        r.p.listing_type = v;
    }
}

void readStatuses(Reading& r, const std::string& name, const std::string& v) {
    r.list(name, v, kPublicStatuses, r.p.statuses, {"active"},
           "must be a comma-separated list of active, reserved, sold");
}

void readPrice(Reading& r, const std::string& name, const std::string& v) {
    auto n = r.integer(name, v, 0, std::int64_t{1'000'000'000'000'000});
    (name == "min_price" ? r.p.min_price : r.p.max_price) = n;
}

void readCurrency(Reading& r, const std::string& name, const std::string& v) {
    if (!domain::oneOf(v, domain::kCurrencies)) {
        r.error(name, "must be one of INR, USD, EUR, GBP, AED, SGD");
    } else {
        r.p.currency = v;
    }
}

void readRooms(Reading& r, const std::string& name, const std::string& v) {
    if (auto n = r.integer(name, v, 0, 50)) {
        (name == "min_bedrooms" ? r.p.min_bedrooms : r.p.min_bathrooms) = static_cast<int>(*n);
    }
}

void readArea(Reading& r, const std::string& name, const std::string& v) {
    if (auto n = r.integer(name, v, 1, 10'000'000)) {
        (name == "min_area" ? r.p.min_area : r.p.max_area) = static_cast<int>(*n);
    }
}

void readVastuScore(Reading& r, const std::string& name, const std::string& v) {
    if (auto n = r.integer(name, v, 0, 100)) {
        r.p.min_vastu_score = static_cast<int>(*n);
    }
}

void readNear(Reading& r, const std::string& name, const std::string& v) {
    auto ll = numbers(v, 2);
    if (!ll || std::abs((*ll)[0]) > 90 || std::abs((*ll)[1]) > 180) {
        r.error(name, "must be LAT,LNG in degrees, e.g. 19.076,72.8777");
    } else {
        r.p.near = std::make_pair((*ll)[0], (*ll)[1]);
    }
}

void readRadius(Reading& r, const std::string& name, const std::string& v) {
    auto d = parseNumber<double>(v);
    if (!d || *d <= 0 || *d > 100) {
        r.error(name, "must be a number of kilometres above 0 and at most 100");
    } else {
        r.p.radius_km = *d;
    }
}

void readBox(Reading& r, const std::string& name, const std::string& v) {
    auto b = numbers(v, 4);
    if (!b || (*b)[0] >= (*b)[2] || (*b)[1] >= (*b)[3] || std::abs((*b)[0]) > 180 ||
        std::abs((*b)[2]) > 180 || std::abs((*b)[1]) > 90 || std::abs((*b)[3]) > 90) {
        r.error(name, "must be MIN_LNG,MIN_LAT,MAX_LNG,MAX_LAT with min below max");
    } else {
        r.p.bbox = Params::Box{(*b)[0], (*b)[1], (*b)[2], (*b)[3]};
    }
}

void readSort(Reading& r, const std::string&, const std::string& v) {
    r.sort_text = v;  // checked once q and near are known
}

void readLimit(Reading& r, const std::string& name, const std::string& v) {
    if (auto n = r.integer(name, v, 1, kMaxLimit)) {
        r.p.limit = static_cast<int>(*n);
    }
}

void readCursor(Reading& r, const std::string&, const std::string& v) {
    r.cursor_text = v;  // checked once the sort is known
}

// Each known facet at most once, however often the URL names it: one request costs at most
// the four counts there are (a repeated facet is not an error).
void readFacets(Reading& r, const std::string& name, const std::string& v) {
    r.list(name, v, kFacetNames, r.p.facets, {},
           "must be a comma-separated list of type, listing_type, bedrooms, city");
}

constexpr std::pair<std::string_view, Reader> kReaders[] = {
    {"q", &readText},
    {"city", &readCity},
    {"type", &readTypes},
    {"listing_type", &readListingType},
    {"status", &readStatuses},
    {"min_price", &readPrice},
    {"max_price", &readPrice},
    {"currency", &readCurrency},
    {"min_bedrooms", &readRooms},
    {"min_bathrooms", &readRooms},
    {"min_area", &readArea},
    {"max_area", &readArea},
    {"min_vastu_score", &readVastuScore},
    {"near", &readNear},
    {"radius_km", &readRadius},
    {"bbox", &readBox},
    {"sort", &readSort},
    {"limit", &readLimit},
    {"cursor", &readCursor},
    {"facets", &readFacets},
};

Reader readerFor(std::string_view name) {
    for (const auto& [n, reader] : kReaders) {
        if (n == name) {
            return reader;
        }
    }
    return nullptr;
}

void checkRanges(Reading& r) {
    const auto& p = r.p;
    if (p.min_price && p.max_price && *p.min_price > *p.max_price) {
        r.error("max_price", "must not be below min_price");
    }
    if (p.min_area && p.max_area && *p.min_area > *p.max_area) {
        r.error("max_area", "must not be below min_area");
    }
    if (p.radius_km && !p.near) {
        r.error("radius_km", "needs near=LAT,LNG");
    }
}

// Words sort by relevance, a place by distance, anything else newest first.
void chooseSort(Reading& r) {
    auto& p = r.p;
    p.sort = p.text ? Sort::Relevance : p.near ? Sort::Distance : Sort::Newest;
    if (!r.sort_text) {
        return;
    }
    auto s = sortFrom(*r.sort_text);
    if (!s) {
        r.error("sort", "must be relevance, newest, price_asc, price_desc or distance");
    } else if (*s == Sort::Relevance && !p.text) {
        r.error("sort", "relevance needs q");
    } else if (*s == Sort::Distance && !p.near) {
        r.error("sort", "distance needs near=LAT,LNG");
    } else {
        p.sort = *s;
    }
}

// The cursor's three lines: the sort it belongs to, the last key, the id(s) (encodeCursor).
void readCursorText(Reading& r) {
    if (!r.cursor_text) {
        return;
    }
    auto& p = r.p;
    auto raw = rt::base64UrlDecode(*r.cursor_text);
    std::vector<std::string> parts;
    if (raw) {
        std::string_view rest = *raw;
        while (true) {
            auto nl = rest.find('\n');
            parts.emplace_back(rest.substr(0, nl));
            if (nl == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(nl + 1);
        }
    }
    bool ids_ok = parts.size() == 3 && !parts[2].empty();
    if (ids_ok) {
        // One id, or for the distance sort the ids shown at the page's last distance.
        auto ids = splitComma(parts[2]);
        ids_ok = ids.size() <= static_cast<std::size_t>(kMaxLimit) &&
                 (ids.size() == 1 || p.sort == Sort::Distance);
        for (const auto& id : ids) {
            ids_ok = ids_ok && rt::isUuid(id);
        }
    }
    if (ids_ok && parts[0] != sortName(p.sort)) {
        r.error("cursor", "belongs to another sort order; start again without it");
    } else if (!ids_ok || !validKey(p.sort, parts[1])) {
        r.error("cursor", "is not a cursor this search gave out");
    } else {
        p.after = std::make_pair(parts[1], parts[2]);
    }
}

}  // namespace

std::string_view sortName(Sort s) {
    switch (s) {
        case Sort::Relevance:
            return "relevance";
        case Sort::Newest:
            return "newest";
        case Sort::PriceAsc:
            return "price_asc";
        case Sort::PriceDesc:
            return "price_desc";
        case Sort::Distance:
            return "distance";
    }
    return "newest";
}

std::string encodeCursor(Sort sort, std::string_view key, std::string_view id) {
    std::string raw(sortName(sort));
    raw += '\n';
    raw += key;
    raw += '\n';
    raw += id;
    return rt::base64UrlEncode(raw);
}

Params parse(const std::vector<std::pair<std::string, std::string>>& query,
             std::vector<rt::FieldError>& errors) {
    Params p;
    Reading reading{p, errors, std::nullopt, std::nullopt};
    std::set<std::string, std::less<>> seen;
    for (const auto& [name, value] : query) {
        auto reader = readerFor(name);
        if (reader == nullptr) {
            reading.error(name, "is not a search parameter");
        } else if (!seen.insert(name).second) {
            reading.error(name, "is given more than once (use a comma-separated list)");
        } else {
            reader(reading, name, value);
        }
    }
    checkRanges(reading);
    chooseSort(reading);
    readCursorText(reading);
    return p;
}

}  // namespace restinu::property::search

namespace restinu::property::search {

std::string cacheKey(const Params& p) {
    // Every field that changes the answer, in a fixed order, each as "name=length:value;" (the
    // length: no text can pose as the fields after it). Values that the filters treat as sets
    // are sorted; a city compares case-insensitively; numbers are written exactly (%.17g), so
    // two keys are equal only when the answers must be.
    std::string k;
    auto field = [&k](std::string_view name, std::string_view value) {
        k.append(name).append("=").append(std::to_string(value.size())).append(":");
        k.append(value).append(";");
    };
    auto number = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        return std::string(buf);
    };
    auto joined = [](std::vector<std::string> v, bool sorted) {
        if (sorted) {
            std::sort(v.begin(), v.end());
        }
        std::string out;
        for (const auto& s : v) {
            out.append(out.empty() ? "" : ",").append(s);
        }
        return out;
    };
    auto opt = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
    std::string city = p.city.value_or("-");
    std::transform(city.begin(), city.end(), city.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    field("q", p.text ? "+" + *p.text : "-");
    field("city", city);
    field("type", joined(p.property_types, true));
    field("lt", p.listing_type.value_or("-"));
    field("st", joined(p.statuses, true));
    field("price", opt(p.min_price) + ".." + opt(p.max_price) + " " + p.currency);
    field("rooms", opt(p.min_bedrooms) + "," + opt(p.min_bathrooms));
    field("area", opt(p.min_area) + ".." + opt(p.max_area));
    field("vastu", opt(p.min_vastu_score));
    field("near", p.near ? number(p.near->first) + "," + number(p.near->second) : "-");
    field("radius", p.radius_km ? number(*p.radius_km) : "-");
    field("bbox", p.bbox ? number(p.bbox->min_lng) + "," + number(p.bbox->min_lat) + "," +
                               number(p.bbox->max_lng) + "," + number(p.bbox->max_lat)
                         : "-");
    field("sort", sortName(p.sort));
    field("limit", std::to_string(p.limit));
    field("after", p.after ? p.after->first + "/" + p.after->second : "-");
    field("facets", joined(p.facets, false));
    field("window", std::to_string(p.relevance_window));
    return k;
}

}  // namespace restinu::property::search
