#include "listing.hpp"

#include <boost/json.hpp>
#include <cmath>

namespace restinu::property::domain {
namespace {

namespace json = boost::json;

// Counts UTF-8 code points (continuation bytes are not counted); the text is already valid
// UTF-8, since Boost.JSON refuses anything else.
std::size_t codePoints(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

bool hasControl(std::string_view s, bool allow_newlines) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))) || u == 0x7f) {
            return true;
        }
    }
    return false;
}

struct Fields {
    const json::object& body;
    std::vector<rt::FieldError>& errors;
    bool creating;

    void error(std::string field, std::string reason) {
        errors.push_back({std::move(field), std::move(reason)});
    }

    // A text member: trimmed of nothing, 0..max code points (min when required).
    void text(const json::object& o, std::string_view key, std::string_view field, bool required,
              std::size_t min, std::size_t max, bool multiline, std::string& out) {
        auto it = o.find(key);
        if (it == o.end()) {
            if (required && creating) {
                error(std::string(field), "is required");
            }
            return;
        }
        if (!it->value().is_string()) {
            error(std::string(field), "must be a string");
            return;
        }
        std::string_view v = it->value().as_string();
        auto n = codePoints(v);
        if (n < min || n > max || hasControl(v, multiline)) {
            error(std::string(field), "must be " + std::to_string(min) + " to " +
                                          std::to_string(max) + " characters" +
                                          (multiline ? "" : ", on one line"));
            return;
        }
        out = std::string(v);
    }

    template <std::size_t N>
    void choice(const json::object& o, std::string_view key, std::string_view field, bool required,
                const std::string_view (&set)[N], std::string& out) {
        auto it = o.find(key);
        if (it == o.end()) {
            if (required && creating) {
                error(std::string(field), "is required");
            }
            return;
        }
        if (!it->value().is_string() || !oneOf(it->value().as_string(), set)) {
            std::string all;
            for (auto s : set) {
                all += all.empty() ? "" : ", ";
                all += s;
            }
            error(std::string(field), "must be one of " + all);
            return;
        }
        out = std::string(it->value().as_string());
    }

    void integer(const json::object& o, std::string_view key, std::string_view field, bool required,
                 std::int64_t min, std::int64_t max, std::int64_t& out) {
        auto it = o.find(key);
        if (it == o.end()) {
            if (required && creating) {
                error(std::string(field), "is required");
            }
            return;
        }
        const auto& v = it->value();
        std::optional<std::int64_t> n;
        if (v.is_int64()) {
            n = v.as_int64();
        } else if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(max)) {
            n = static_cast<std::int64_t>(v.as_uint64());
        }
        if (!n || *n < min || *n > max) {
            error(std::string(field), "must be a whole number from " + std::to_string(min) +
                                          " to " + std::to_string(max));
            return;
        }
        out = *n;
    }

    void number(const json::object& o, std::string_view key, std::string_view field, double min,
                double max, double& out) {
        auto it = o.find(key);
        if (it == o.end()) {
            if (creating) {
                error(std::string(field), "is required");
            }
            return;
        }
        const auto& v = it->value();
        if (!v.is_number()) {
            error(std::string(field), "must be a number");
            return;
        }
        double d = v.to_number<double>();
        if (!std::isfinite(d) || d < min || d > max) {
            error(std::string(field), "must be from " + std::to_string(static_cast<int>(min)) +
                                          " to " + std::to_string(static_cast<int>(max)));
            return;
        }
        out = d;
    }

    const json::object* object(std::string_view key, std::string_view field) {
        auto it = body.find(key);
        if (it == body.end()) {
            if (creating) {
                error(std::string(field), "is required");
            }
            return nullptr;
        }
        if (!it->value().is_object()) {
            error(std::string(field), "must be an object");
            return nullptr;
        }
        return &it->value().as_object();
    }

    void unknown(const json::object& o, std::string_view prefix,
                 std::initializer_list<std::string_view> known) {
        for (const auto& [k, v] : o) {
            bool ok = false;
            for (auto name : known) {
                ok = ok || name == k;
            }
            if (!ok) {
                error(std::string(prefix) + std::string(k), "is not a listing field");
            }
        }
    }
};

}  // namespace

bool canTransition(std::string_view from, std::string_view to) {
    if (from == to) {
        return true;
    }
    if (from == "draft") {
        return to == "active" || to == "withdrawn";
    }
    if (from == "active") {
        return to == "reserved" || to == "withdrawn";
    }
    if (from == "reserved") {
        return to == "active" || to == "sold";
    }
    if (from == "withdrawn") {
        return to == "draft" || to == "active";
    }
    return false;  // sold is final
}

void applyFields(const json::object& body, Listing& l, bool creating,
                 std::vector<rt::FieldError>& errors) {
    Fields f{body, errors, creating};
    f.unknown(body, "",
              {"title", "description", "property_type", "listing_type", "status", "price",
               "bedrooms", "bathrooms", "area_sqft", "address", "location", "facing", "amenities"});
    f.text(body, "title", "title", true, 3, 200, false, l.title);
    f.text(body, "description", "description", false, 0, 5000, true, l.description);
    f.choice(body, "property_type", "property_type", true, kPropertyTypes, l.property_type);
    f.choice(body, "listing_type", "listing_type", false, kListingTypes, l.listing_type);
    if (creating) {
        if (auto it = body.find("status"); it != body.end()) {
            if (!it->value().is_string() ||
                (it->value().as_string() != "draft" && it->value().as_string() != "active")) {
                f.error("status", "a new listing starts as draft or active");
            } else {
                l.status = std::string(it->value().as_string());
            }
        }
    }
    if (const auto* price = f.object("price", "price")) {
        f.unknown(*price, "price.", {"amount", "currency"});
        std::int64_t amount = l.price_minor;
        f.integer(*price, "amount", "price.amount", true, 0, std::int64_t{1'000'000'000'000'000},
                  amount);
        l.price_minor = amount;
        f.choice(*price, "currency", "price.currency", true, kCurrencies, l.currency);
    }
    std::int64_t n = l.bedrooms;
    f.integer(body, "bedrooms", "bedrooms", true, 0, 50, n);
    l.bedrooms = static_cast<int>(n);
    n = l.bathrooms;
    f.integer(body, "bathrooms", "bathrooms", true, 0, 50, n);
    l.bathrooms = static_cast<int>(n);
    n = l.area_sqft;
    f.integer(body, "area_sqft", "area_sqft", true, 1, 10'000'000, n);
    l.area_sqft = static_cast<int>(n);
    if (const auto* a = f.object("address", "address")) {
        f.unknown(*a, "address.", {"line", "locality", "city", "state", "postal_code", "country"});
        f.text(*a, "line", "address.line", false, 0, 300, false, l.address_line);
        f.text(*a, "locality", "address.locality", false, 0, 100, false, l.locality);
        f.text(*a, "city", "address.city", true, 1, 100, false, l.city);
        f.text(*a, "state", "address.state", false, 0, 100, false, l.state);
        f.text(*a, "postal_code", "address.postal_code", false, 0, 20, false, l.postal_code);
        std::string country = l.country;
        f.text(*a, "country", "address.country", false, 2, 2, false, country);
        if (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
            !std::isupper(static_cast<unsigned char>(country[1]))) {
            f.error("address.country", "must be an ISO 3166-1 alpha-2 code such as IN");
        } else {
            l.country = country;
        }
    }
    if (const auto* loc = f.object("location", "location")) {
        f.unknown(*loc, "location.", {"lat", "lng"});
        f.number(*loc, "lat", "location.lat", -90, 90, l.latitude);
        f.number(*loc, "lng", "location.lng", -180, 180, l.longitude);
    }
    if (auto it = body.find("facing"); it != body.end()) {
        if (it->value().is_null()) {
            l.facing.reset();
        } else if (it->value().is_string() && oneOf(it->value().as_string(), kFacings)) {
            l.facing = std::string(it->value().as_string());
        } else {
            f.error("facing", "must be one of N, NE, E, SE, S, SW, W, NW, or null");
        }
    }
    if (auto it = body.find("amenities"); it != body.end()) {
        std::vector<std::string> list;
        bool ok = it->value().is_array() && it->value().as_array().size() <= 30;
        if (ok) {
            for (const auto& a : it->value().as_array()) {
                if (!a.is_string() || a.as_string().empty() || codePoints(a.as_string()) > 50 ||
                    hasControl(a.as_string(), false)) {
                    ok = false;
                    break;
                }
                list.emplace_back(a.as_string());
            }
        }
        if (!ok) {
            f.error("amenities", "must be a list of at most 30 names of 1 to 50 characters");
        } else {
            l.amenities = std::move(list);
        }
    }
}

json::object toJson(const Listing& l) {
    json::array amenities;
    for (const auto& a : l.amenities) {
        amenities.emplace_back(a);
    }
    return json::object{
        {"title", l.title},
        {"description", l.description},
        {"property_type", l.property_type},
        {"listing_type", l.listing_type},
        {"status", l.status},
        {"price", json::object{{"amount", l.price_minor}, {"currency", l.currency}}},
        {"bedrooms", l.bedrooms},
        {"bathrooms", l.bathrooms},
        {"area_sqft", l.area_sqft},
        {"address", json::object{{"line", l.address_line},
                                 {"locality", l.locality},
                                 {"city", l.city},
                                 {"state", l.state},
                                 {"postal_code", l.postal_code},
                                 {"country", l.country}}},
        {"location", json::object{{"lat", l.latitude}, {"lng", l.longitude}}},
        {"facing", l.facing ? json::value(*l.facing) : json::value(nullptr)},
        {"amenities", std::move(amenities)},
    };
}

}  // namespace restinu::property::domain
