#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "listing.hpp"

namespace restinu::property::seed {

/// A city the generator places listings in: its centre, how far listings spread from it, its
/// price level and some of its localities. Real figures, rounded.
struct City {
    const char* name;
    const char* state;
    double lat;
    double lng;
    double spread_km;           ///< standard deviation of the distance from the centre
    std::int64_t inr_per_sqft;  ///< typical apartment price per square foot
    std::vector<const char*> localities;
};

/// 24 Indian cities, most popular first (the generator skews towards the top).
const std::vector<City>& cities();

struct Generated {
    std::string id;
    std::string owner_id;
    domain::Listing listing;
    std::int64_t created_unix_us = 0;  ///< within the year before `now_unix_us`
};

/// Deterministic for a seed: listings with a Zipf-like popularity over cities, localities and
/// owners, prices by city and type, areas and rooms by type, a status mix of mostly active.
class Generator {
public:
    Generator(std::uint64_t seed, std::vector<std::string> owner_ids, std::int64_t now_unix_us);
    Generated next();

private:
    std::size_t zipf(std::size_t n, double s);
    std::string uuid();

    std::mt19937_64 rng_;
    std::vector<std::string> owners_;
    std::int64_t now_us_;
    std::vector<double> city_cdf_;
};

}  // namespace restinu::property::seed
