#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restinu/rt/problem.hpp"

/// A listing's fields and the rules for them: what a create needs, what a patch may change,
/// which status changes make sense. Pure code, no I/O.
namespace restinu::property::domain {

inline constexpr std::string_view kPropertyTypes[] = {"apartment", "independent_house", "villa",
                                                      "plot", "commercial"};
inline constexpr std::string_view kListingTypes[] = {"sale", "fractional"};
inline constexpr std::string_view kStatuses[] = {"draft", "active", "reserved", "sold",
                                                 "withdrawn"};
inline constexpr std::string_view kFacings[] = {"N", "NE", "E", "SE", "S", "SW", "W", "NW"};
/// ISO 4217 codes the platform prices in.
inline constexpr std::string_view kCurrencies[] = {"INR", "USD", "EUR", "GBP", "AED", "SGD"};

template <std::size_t N>
bool oneOf(std::string_view v, const std::string_view (&set)[N]) {
    for (auto s : set) {
        if (s == v) {
            return true;
        }
    }
    return false;
}

/// True when a listing may go from `from` to `to`:
///   draft → active | withdrawn;  active → reserved | withdrawn;  reserved → active | sold;
///   withdrawn → draft | active (relisting);  sold is final. The same status is no change.
bool canTransition(std::string_view from, std::string_view to);

/// Every field of a listing as stored (the write model's columns).
struct Listing {
    std::string title;
    std::string description;
    std::string property_type;
    std::string listing_type = "sale";
    std::string status = "draft";
    std::int64_t price_minor = 0;
    std::string currency = "INR";
    int bedrooms = 0;
    int bathrooms = 0;
    int area_sqft = 0;
    std::string address_line;
    std::string locality;
    std::string city;
    std::string state;
    std::string postal_code;
    std::string country = "IN";
    double latitude = 0;
    double longitude = 0;
    std::optional<std::string> facing;
    std::vector<std::string> amenities;
};

/// Applies the members of `body` to `listing`, checking each, and collects every problem in
/// `errors` (field names as in the API: `price.amount`, `address.city`, `location.lat`...).
/// `creating`: the required fields must all be there and `status` may only be draft or active;
/// otherwise (a patch) only the fields sent change, and `status` is left to the caller (it
/// needs the transition rules and the current status). Unknown members are errors.
void applyFields(const boost::json::object& body, Listing& listing, bool creating,
                 std::vector<rt::FieldError>& errors);

/// The listing as the API shows it (without id, owner, version and timestamps).
boost::json::object toJson(const Listing& listing);

}  // namespace restinu::property::domain
