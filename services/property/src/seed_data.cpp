#include "seed_data.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "listing_handlers.hpp"
#include "restinu/property/seed.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_copy.hpp"

namespace restinu::property::seed {

const std::vector<City>& cities() {
    static const std::vector<City> kCities{
        {"Mumbai",
         "Maharashtra",
         19.0760,
         72.8777,
         12,
         25000,
         {"Andheri", "Bandra", "Powai", "Worli", "Borivali", "Chembur", "Malad", "Goregaon"}},
        {"Bengaluru",
         "Karnataka",
         12.9716,
         77.5946,
         10,
         9000,
         {"Whitefield", "Koramangala", "Indiranagar", "HSR Layout", "Electronic City", "Hebbal",
          "Jayanagar"}},
        {"Delhi",
         "Delhi",
         28.6139,
         77.2090,
         11,
         15000,
         {"Dwarka", "Rohini", "Saket", "Vasant Kunj", "Lajpat Nagar", "Janakpuri"}},
        {"Hyderabad",
         "Telangana",
         17.3850,
         78.4867,
         10,
         7500,
         {"Gachibowli", "Madhapur", "Kondapur", "Banjara Hills", "Kukatpally"}},
        {"Pune",
         "Maharashtra",
         18.5204,
         73.8567,
         9,
         8000,
         {"Hinjewadi", "Kharadi", "Baner", "Kothrud", "Wakad"}},
        {"Chennai",
         "Tamil Nadu",
         13.0827,
         80.2707,
         10,
         7500,
         {"Anna Nagar", "Adyar", "Velachery", "T Nagar", "Porur"}},
        {"Gurugram",
         "Haryana",
         28.4595,
         77.0266,
         8,
         12000,
         {"DLF Phase 2", "Sohna Road", "Golf Course Road", "Sector 56"}},
        {"Noida",
         "Uttar Pradesh",
         28.5355,
         77.3910,
         7,
         7000,
         {"Sector 62", "Sector 137", "Sector 150", "Sector 18"}},
        {"Kolkata",
         "West Bengal",
         22.5726,
         88.3639,
         9,
         6500,
         {"Salt Lake", "New Town", "Ballygunge", "Behala"}},
        {"Ahmedabad",
         "Gujarat",
         23.0225,
         72.5714,
         8,
         5500,
         {"Satellite", "Bopal", "Prahlad Nagar", "Maninagar"}},
        {"Kochi", "Kerala", 9.9312, 76.2673, 6, 6000, {"Kakkanad", "Edappally", "Vyttila"}},
        {"Goa", "Goa", 15.4909, 73.8278, 10, 9000, {"Panaji", "Calangute", "Porvorim"}},
        {"Chandigarh",
         "Chandigarh",
         30.7333,
         76.7794,
         5,
         7000,
         {"Sector 17", "Sector 35", "Manimajra"}},
        {"Jaipur",
         "Rajasthan",
         26.9124,
         75.7873,
         7,
         5000,
         {"Malviya Nagar", "Vaishali Nagar", "Mansarovar"}},
        {"Lucknow",
         "Uttar Pradesh",
         26.8467,
         80.9462,
         7,
         4500,
         {"Gomti Nagar", "Hazratganj", "Aliganj"}},
        {"Indore", "Madhya Pradesh", 22.7196, 75.8577, 6, 4500, {"Vijay Nagar", "Palasia", "Rau"}},
        {"Surat", "Gujarat", 21.1702, 72.8311, 6, 4500, {"Adajan", "Vesu", "Piplod"}},
        {"Nagpur",
         "Maharashtra",
         21.1458,
         79.0882,
         6,
         4500,
         {"Dharampeth", "Manish Nagar", "Wardha Road"}},
        {"Coimbatore",
         "Tamil Nadu",
         11.0168,
         76.9558,
         6,
         5000,
         {"RS Puram", "Saravanampatti", "Peelamedu"}},
        {"Visakhapatnam",
         "Andhra Pradesh",
         17.6868,
         83.2185,
         6,
         5000,
         {"MVP Colony", "Madhurawada", "Gajuwaka"}},
        {"Thiruvananthapuram",
         "Kerala",
         8.5241,
         76.9366,
         6,
         5000,
         {"Kowdiar", "Technopark", "Vazhuthacaud"}},
        {"Bhubaneswar",
         "Odisha",
         20.2961,
         85.8245,
         6,
         5000,
         {"Patia", "Saheed Nagar", "Khandagiri"}},
        {"Mysuru",
         "Karnataka",
         12.2958,
         76.6394,
         5,
         5000,
         {"Vijayanagar", "Kuvempunagar", "Gokulam"}},
        {"Vadodara", "Gujarat", 22.3072, 73.1812, 6, 4500, {"Alkapuri", "Gotri", "Manjalpur"}},
    };
    return kCities;
}

namespace {

constexpr const char* kAmenities[] = {"parking",      "lift",        "gym",    "swimming_pool",
                                      "power_backup", "security",    "garden", "clubhouse",
                                      "play_area",    "metro_nearby"};
constexpr const char* kTypeLabels[] = {"Apartment", "Independent House", "Villa", "Plot",
                                       "Commercial Space"};
constexpr const char* kAdjectives[] = {
    "Spacious", "Sunlit",  "Well-ventilated", "Modern",  "Quiet",     "Newly renovated",
    "Premium",  "Compact", "Elegant",         "Airy",    "Luxurious", "Cosy",
    "Vintage",  "Bright",  "Peaceful",        "Charming"};
// Each listing names three of these, so a feature matches about one listing in ten, as the
// words people search for do.
constexpr const char* kFeatures[] = {
    "modular kitchen", "terrace garden",  "sea view",        "lake view",
    "corner unit",     "servant room",    "study room",      "walk-in wardrobe",
    "private pool",    "home theatre",    "solar panels",    "rainwater harvesting",
    "italian marble",  "wooden flooring", "high ceilings",   "duplex layout",
    "penthouse floor", "large balcony",   "gated community", "jogging track",
    "visitor parking", "pet friendly",    "fully furnished", "semi furnished",
    "ready to move",   "power backup",    "intercom",        "fire safety",
    "vastu compliant", "courtyard"};
constexpr const char* kNearby[] = {"the metro station",
                                   "an international school",
                                   "the IT park",
                                   "a multispecialty hospital",
                                   "the market",
                                   "the lake",
                                   "the highway",
                                   "the railway station",
                                   "a shopping mall",
                                   "the airport",
                                   "the beach",
                                   "a university campus",
                                   "the business district",
                                   "a temple"};
// Vastu favours east and north facing homes, and so do buyers.
constexpr std::pair<const char*, int> kFacings[] = {{"E", 24}, {"N", 20}, {"NE", 18}, {"W", 10},
                                                    {"S", 6},  {"NW", 8}, {"SE", 8},  {"SW", 6}};

}  // namespace

Generator::Generator(std::uint64_t seed, std::vector<std::string> owner_ids,
                     std::int64_t now_unix_us)
    : rng_(seed), owners_(std::move(owner_ids)), now_us_(now_unix_us) {
    double total = 0;
    for (std::size_t i = 0; i < cities().size(); ++i) {
        total += 1.0 / std::pow(static_cast<double>(i + 1), 0.9);
        city_cdf_.push_back(total);
    }
    for (auto& c : city_cdf_) {
        c /= total;
    }
}

std::size_t Generator::zipf(std::size_t n, double s) {
    // Small n: inverse transform on the fly.
    double total = 0;
    for (std::size_t i = 1; i <= n; ++i) {
        total += 1.0 / std::pow(static_cast<double>(i), s);
    }
    double u = std::uniform_real_distribution<double>(0, total)(rng_);
    for (std::size_t i = 1; i <= n; ++i) {
        u -= 1.0 / std::pow(static_cast<double>(i), s);
        if (u <= 0) {
            return i - 1;
        }
    }
    return n - 1;
}

std::string Generator::uuid() {
    std::uint64_t a = rng_();
    std::uint64_t b = rng_();
    a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant
    char out[37];
    std::snprintf(out, sizeof out, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                  static_cast<unsigned>(b >> 48),
                  static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
    return out;
}

Generated Generator::next() {
    Generated g;
    g.id = uuid();
    g.owner_id =
        owners_.empty()
            ? uuid()
            : owners_[zipf(std::min<std::size_t>(owners_.size(), 500), 1.1) % owners_.size()];
    auto& l = g.listing;
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    std::size_t ci = static_cast<std::size_t>(
        std::lower_bound(city_cdf_.begin(), city_cdf_.end(), u) - city_cdf_.begin());
    const auto& city = cities()[std::min(ci, cities().size() - 1)];
    std::size_t type = zipf(5, 1.3);  // apartments most often
    l.property_type = std::string(domain::kPropertyTypes[type]);
    std::uniform_int_distribution<int> pct(0, 99);
    l.listing_type = pct(rng_) < 10 ? "fractional" : "sale";
    int s = pct(rng_);
    l.status = s < 85   ? "active"
               : s < 90 ? "reserved"
               : s < 95 ? "sold"
               : s < 98 ? "draft"
                        : "withdrawn";
    auto between = [this](int lo, int hi) {
        return std::uniform_int_distribution<int>(lo, hi)(rng_);
    };
    double type_factor = 1.0;
    switch (type) {
        case 0:  // apartment
            l.bedrooms = between(1, 4);
            l.bathrooms = std::max(1, l.bedrooms - between(0, 1));
            l.area_sqft = l.bedrooms * between(380, 650) + between(0, 200);
            break;
        case 1:  // independent house
            l.bedrooms = between(2, 5);
            l.bathrooms = std::max(1, l.bedrooms - between(0, 1));
            l.area_sqft = l.bedrooms * between(450, 800) + between(0, 400);
            type_factor = 1.1;
            break;
        case 2:  // villa
            l.bedrooms = between(3, 6);
            l.bathrooms = l.bedrooms + between(0, 1);
            l.area_sqft = l.bedrooms * between(700, 1300) + between(0, 800);
            type_factor = 1.5;
            break;
        case 3:  // plot
            l.bedrooms = 0;
            l.bathrooms = 0;
            l.area_sqft = between(10, 100) * 100;
            type_factor = 0.6;
            break;
        default:  // commercial
            l.bedrooms = 0;
            l.bathrooms = between(1, 6);
            l.area_sqft = between(300, 20000);
            type_factor = 1.3;
            break;
    }
    // Distance from the centre: closer is dearer.
    std::normal_distribution<double> spread(0.0, city.spread_km);
    double dn = spread(rng_);
    double de = spread(rng_);
    l.latitude = city.lat + dn / 111.32;
    l.longitude = city.lng + de / (111.32 * std::cos(city.lat * M_PI / 180.0));
    double km = std::sqrt(dn * dn + de * de);
    double location_factor = std::clamp(1.4 - km / (3.0 * city.spread_km), 0.5, 1.4);
    double noise = std::lognormal_distribution<double>(0.0, 0.15)(rng_);
    auto per_sqft = static_cast<double>(city.inr_per_sqft) * type_factor * location_factor * noise;
    // Rounded to a thousand rupees, in paise.
    auto rupees = static_cast<std::int64_t>(per_sqft * l.area_sqft / 1000.0) * 1000;
    l.price_minor = std::max<std::int64_t>(rupees, 100000) * 100;
    l.currency = "INR";
    const char* locality = city.localities[zipf(city.localities.size(), 1.0)];
    l.locality = locality;
    l.city = city.name;
    l.state = city.state;
    l.country = "IN";
    l.postal_code = std::to_string(between(110001, 855117));
    l.address_line = std::to_string(between(1, 400)) + ", " + locality + " Main Road";
    int facing_roll = pct(rng_);
    for (const auto& [f, w] : kFacings) {
        facing_roll -= w;
        if (facing_roll < 0) {
            l.facing = std::string(f);
            break;
        }
    }
    if (!l.facing) {
        l.facing = "E";
    }
    for (const auto* a : kAmenities) {
        if (pct(rng_) < 35) {
            l.amenities.emplace_back(a);
        }
    }
    std::string label = kTypeLabels[type];
    l.title = (l.bedrooms > 0 ? std::to_string(l.bedrooms) + " BHK " : std::string{}) + label +
              " in " + locality + ", " + city.name;
    std::string facing_word = *l.facing == "E"    ? "east"
                              : *l.facing == "N"  ? "north"
                              : *l.facing == "NE" ? "north-east"
                              : *l.facing == "W"  ? "west"
                              : *l.facing == "S"  ? "south"
                              : *l.facing == "NW" ? "north-west"
                              : *l.facing == "SE" ? "south-east"
                                                  : "south-west";
    std::vector<int> picked;
    while (picked.size() < 3) {
        int f = between(0, static_cast<int>(std::size(kFeatures)) - 1);
        if (std::find(picked.begin(), picked.end(), f) == picked.end()) {
            picked.push_back(f);
        }
    }
    l.description =
        std::string(kAdjectives[between(0, static_cast<int>(std::size(kAdjectives)) - 1)]) + " " +
        facing_word + "-facing " +
        (l.bedrooms > 0 ? std::to_string(l.bedrooms) + " bedroom " : std::string{}) + label +
        " with " + kFeatures[picked[0]] + ", " + kFeatures[picked[1]] + " and " +
        kFeatures[picked[2]] + ", close to " +
        kNearby[between(0, static_cast<int>(std::size(kNearby)) - 1)] + ".";
    if (!l.amenities.empty()) {
        l.description += " Amenities:";
        for (const auto& a : l.amenities) {
            l.description += " " + a;
        }
        l.description += ".";
    }
    g.created_unix_us = now_us_ - std::uniform_int_distribution<std::int64_t>(
                                      0, std::int64_t{365} * 24 * 3600 * 1'000'000)(rng_);
    return g;
}

}  // namespace restinu::property::seed

namespace restinu::property {

std::int64_t seedListings(const std::string& conninfo, const std::vector<std::string>& owner_ids,
                          const SeedOptions& options) {
    auto now_us = rt::unixMicros();
    seed::Generator gen(options.seed, owner_ids, now_us);
    std::int64_t done = 0;
    auto step = std::max<std::int64_t>(1, options.listings / 200);
    auto written = rt::copyIn(
        conninfo,
        "COPY properties (id, owner_id, title, description, property_type, listing_type, status, "
        "price_minor, currency, bedrooms, bathrooms, area_sqft, address_line, locality, city, "
        "state, postal_code, country, latitude, longitude, facing, amenities, created_at, "
        "updated_at) FROM STDIN",
        [&](rt::CopyRow& row) {
            if (done == options.listings) {
                return false;
            }
            auto g = gen.next();
            const auto& l = g.listing;
            // created_at as ISO text with microseconds, in UTC.
            auto secs = static_cast<std::time_t>(g.created_unix_us / 1'000'000);
            std::tm tm{};
            gmtime_r(&secs, &tm);
            char when[96];
            std::snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                          tm.tm_sec, static_cast<long long>(g.created_unix_us % 1'000'000));
            row.field(g.id).field(g.owner_id).field(l.title).field(l.description);
            row.field(l.property_type).field(l.listing_type).field(l.status);
            row.field(l.price_minor).field(l.currency);
            row.field(std::int64_t{l.bedrooms}).field(std::int64_t{l.bathrooms});
            row.field(std::int64_t{l.area_sqft});
            row.field(l.address_line).field(l.locality).field(l.city).field(l.state);
            row.field(l.postal_code).field(l.country).field(l.latitude).field(l.longitude);
            if (l.facing) {
                row.field(*l.facing);
            } else {
                row.null();
            }
            row.array(l.amenities).field(std::string_view(when)).field(std::string_view(when));
            ++done;
            if (options.progress && done % step == 0) {
                options.progress(done, options.listings);
            }
            return true;
        });
    if (options.progress) {
        options.progress(done, options.listings);
    }
    // The read model in bulk: its indexes are built once at the end instead of row by row.
    rt::withOneConnection(conninfo, "seed", [](auto& io, rt::PgPool& pool) {
        rt::runBlocking(io, pool.transaction([](rt::PgConn& tx) -> rt::Task<void> {
            co_await rebuildReadModel(tx, true);
        }));
    });
    return written;
}

}  // namespace restinu::property
