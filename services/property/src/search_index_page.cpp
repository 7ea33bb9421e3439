#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "search_index.hpp"
#include "search_page.hpp"

// MemoryIndex::page: a search's walk over the index (search_index.cpp keeps it up to date).
namespace restinu::property::search {
namespace {

using detail::cheaperThan;
using detail::newerThan;

constexpr double kCellDegrees = 0.01;
// WGS 84's mean radius as PostGIS computes it for a sphere: (2a + b) / 3.
constexpr double kMajorAxis = 6378137.0;
constexpr double kMinorAxis = kMajorAxis - kMajorAxis / 298.257223563;
constexpr double kRadius = (2.0 * kMajorAxis + kMinorAxis) / 3.0;

double radians(double degrees) {
    return degrees * M_PI / 180.0;
}

// The great-circle distance in metres from a listing (s) to the searched point (e), as
// PostGIS's sphere_distance computes it (geography `<->` and ST_DWithin with use_spheroid
// false), operation for operation: the same double, so the same cursor and distance_m.
double sphereMetres(double s_lat_deg, double s_lng_deg, double e_lat_deg, double e_lng_deg) {
    const double s_lat = radians(s_lat_deg);
    const double e_lat = radians(e_lat_deg);
    const double d_lon = radians(e_lng_deg) - radians(s_lng_deg);
    const double cos_d_lon = std::cos(d_lon);
    const double cos_lat_e = std::cos(e_lat);
    const double sin_lat_e = std::sin(e_lat);
    const double cos_lat_s = std::cos(s_lat);
    const double sin_lat_s = std::sin(s_lat);
    const double x = cos_lat_e * std::sin(d_lon);
    const double y = cos_lat_s * sin_lat_e - sin_lat_s * cos_lat_e * cos_d_lon;
    const double a1 = x * x;
    const double a2 = y * y;
    const double a = std::sqrt(a1 + a2);
    const double b = sin_lat_s * sin_lat_e + cos_lat_s * cos_lat_e * cos_d_lon;
    return kRadius * std::atan2(a, b);
}

// A double as PostgreSQL's float8 output writes it: the shortest text that reads back.
std::string floatText(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return {buf, end};
}

// A timestamptz's text as PostgreSQL writes it ("2026-12-06 05:50:41.123456+00", offsets as
// +05:30 too) in Unix microseconds; nullopt for anything else.
std::optional<std::int64_t> parseTimestamp(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, n = 0;
    std::string text(s);
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) !=
        6) {
        return std::nullopt;
    }
    std::string_view rest = s.substr(static_cast<std::size_t>(n));
    std::int64_t micros = 0;
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        int digits = 0;
        while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9' && digits < 6) {
            micros = micros * 10 + (rest.front() - '0');
            rest.remove_prefix(1);
            ++digits;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        for (; digits < 6; ++digits) {
            micros *= 10;
        }
    }
    int offset_minutes = 0;
    if (!rest.empty()) {
        const int sign = rest.front() == '-' ? -1 : 1;
        if (rest.front() != '+' && rest.front() != '-') {
            return std::nullopt;
        }
        rest.remove_prefix(1);
        int oh = 0, om = 0;
        if (rest.size() == 2) {
            std::from_chars(rest.data(), rest.data() + 2, oh);
        } else if (rest.size() == 5 && rest[2] == ':') {
            std::from_chars(rest.data(), rest.data() + 2, oh);
            std::from_chars(rest.data() + 3, rest.data() + 5, om);
        } else {
            return std::nullopt;
        }
        offset_minutes = sign * (oh * 60 + om);
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    const std::int64_t secs =
        static_cast<std::int64_t>(timegm(&tm)) - std::int64_t{offset_minutes} * 60;
    return secs * 1'000'000 + micros;
}

}  // namespace

namespace detail {
std::int64_t cellKey(std::int64_t lat_cell, std::int64_t lng_cell) {
    return (lat_cell << 32) ^ (lng_cell & 0xffffffff);
}
std::int64_t cellOf(double lat, double lng) {
    return cellKey(static_cast<std::int64_t>(std::floor(lat / kCellDegrees)),
                   static_cast<std::int64_t>(std::floor(lng / kCellDegrees)));
}
}  // namespace detail

std::optional<std::string> MemoryIndex::page(const Params& p) const {
    const text::Query* query = nullptr;
    if (p.text) {
        query = queryOf(p);
        if (query == nullptr) {
            return std::nullopt;  // words beyond this index (a phrase, a prefix): the database
        }
    }
    auto name = [this](std::string_view n) -> std::uint16_t {
        auto it = names_.find(std::string(n));
        return it == names_.end() ? std::uint16_t{0} : it->second;  // 0: no row has it
    };
    std::uint16_t city = 0;
    const Orders* orders = all_.get();
    if (p.city) {
        std::string key = *p.city;
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        city = name(key);
        auto it = by_city_.find(city);
        orders = it == by_city_.end() ? nullptr : it->second.get();
    }
    // The filters, compiled to the interned numbers.
    std::vector<std::uint16_t> statuses;
    for (const auto& s : p.statuses) {
        statuses.push_back(name(s));
    }
    std::vector<std::uint16_t> types;
    for (const auto& t : p.property_types) {
        types.push_back(name(t));
    }
    const auto listing_type = p.listing_type ? name(*p.listing_type) : std::uint16_t{0};
    const bool priced = p.min_price || p.max_price;
    const auto currency = name(p.currency);
    // Within the radius, in PostGIS's metres (only with near and radius_km).
    const bool circle = p.near && p.radius_km;
    const double radius_m = circle ? *p.radius_km * 1000.0 : 0;
    auto metres = [&p](const Row& r) {
        return sphereMetres(r.lat, r.lng, p.near->first, p.near->second);
    };
    auto passes = [&](const Row& r) {
        return (!circle || metres(r) <= radius_m) && (!p.city || r.city == city) &&
               std::find(statuses.begin(), statuses.end(), r.status) != statuses.end() &&
               (types.empty() || std::find(types.begin(), types.end(), r.type) != types.end()) &&
               (!p.listing_type || r.listing_type == listing_type) &&
               (!priced || r.currency == currency) && (!p.min_price || r.price >= *p.min_price) &&
               (!p.max_price || r.price <= *p.max_price) &&
               (!p.min_bedrooms || r.bedrooms >= *p.min_bedrooms) &&
               (!p.min_bathrooms || r.bathrooms >= *p.min_bathrooms) &&
               (!p.min_area || r.area >= *p.min_area) && (!p.max_area || r.area <= *p.max_area) &&
               (!p.min_vastu_score || r.vastu >= *p.min_vastu_score) &&
               (query == nullptr || query->matches(r.words.all));
    };
    // The shortest list of listings with one of the words every match has: null when the
    // words require none (an or, a not), empty when one of them no listing has.
    static const std::vector<std::uint32_t> kNone;
    auto shortest = [&](const auto& lists) -> const std::vector<std::uint32_t>* {
        if (query == nullptr || query->required().empty()) {
            return nullptr;
        }
        const std::vector<std::uint32_t>* best = nullptr;
        for (auto w : query->required()) {
            auto it = lists.find(w);
            const auto* list = it == lists.end() ? &kNone : &it->second;
            if (best == nullptr || list->size() < best->size()) {
                best = list;
            }
        }
        return best;
    };

    const auto want = static_cast<std::size_t>(p.limit) + 1;
    std::vector<std::uint32_t> found;
    std::vector<int> tiers;  // of each found row (relevance)
    auto walkNewest = [&](const std::vector<std::uint32_t>& list, std::int64_t after_us,
                          std::string_view after_id, bool from_cursor, auto&& accept) {
        auto from = list.begin();
        if (from_cursor) {
            from = std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
                const auto& r = rows_[j];
                return newerThan(r, after_us, after_id) ||
                       (r.created_us == after_us && r.id == after_id);
            });
        }
        for (auto it = from; it != list.end() && found.size() < want; ++it) {
            if (accept(rows_[*it])) {
                found.push_back(*it);
            }
        }
    };
    std::int64_t after_us = 0;
    std::string_view after_id;
    int first_tier = 0;
    if (p.after && (p.sort == Sort::Newest || p.sort == Sort::Relevance)) {
        std::string_view key = p.after->first;
        if (p.sort == Sort::Relevance) {
            first_tier = key[0] - '0';
            key.remove_prefix(2);
        }
        auto us = parseTimestamp(key);
        if (!us) {
            return std::nullopt;
        }
        after_us = *us;
        after_id = p.after->second;
    }
    if (p.sort == Sort::Relevance) {
        // Title-and-locality matches first, then the rest, newest first within each.
        for (int tier = first_tier; tier <= 1 && found.size() < want; ++tier) {
            const auto* list = shortest(tier == 0 ? with_headline_word_ : with_word_);
            if (list == nullptr) {
                return std::nullopt;
            }
            walkNewest(*list, after_us, after_id, p.after && tier == first_tier, [&](const Row& r) {
                return r.live && passes(r) && query->matches(r.words.headline) == (tier == 0);
            });
            tiers.resize(found.size(), tier);
        }
    } else if (p.sort == Sort::Distance) {
        if (!circle || std::abs(p.near->first) > 80) {
            return std::nullopt;  // (near the poles the cells' sides shrink to nothing)
        }
        // After the cursor: farther than its distance, or as far and not shown yet.
        double after_m = -1;
        std::vector<std::string_view> shown_ids;
        if (p.after) {
            const auto& k = p.after->first;
            auto [ptr, ec] = std::from_chars(k.data(), k.data() + k.size(), after_m);
            if (ec != std::errc{} || ptr != k.data() + k.size()) {
                return std::nullopt;
            }
            std::string_view ids = p.after->second;
            while (!ids.empty()) {
                auto comma = ids.find(',');
                shown_ids.push_back(ids.substr(0, comma));
                ids = comma == std::string_view::npos ? std::string_view{} : ids.substr(comma + 1);
            }
        }
        // Rings of cells around the point, nearest first; a ring's listings are at least its
        // inner edge away, so once `want` are nearer than the next ring's edge, the walk stops.
        const double cell_m = radians(kCellDegrees) * kRadius *
                              std::cos(radians(std::min(89.0, std::abs(p.near->first) + 1.0))) *
                              0.999;
        const auto lat0 = static_cast<std::int64_t>(std::floor(p.near->first / kCellDegrees));
        const auto lng0 = static_cast<std::int64_t>(std::floor(p.near->second / kCellDegrees));
        const auto rings = static_cast<std::int64_t>(std::ceil(radius_m / cell_m)) + 1;
        std::vector<std::pair<double, std::uint32_t>> near;
        auto visit = [&](std::int64_t la, std::int64_t lo) {
            auto it = cells_.find(detail::cellKey(la, lo));
            if (it == cells_.end()) {
                return;
            }
            for (auto j : it->second) {
                const auto& r = rows_[j];
                if (!r.live || !passes(r)) {
                    continue;
                }
                const double d = metres(r);
                if (d < after_m || (d == after_m && std::find(shown_ids.begin(), shown_ids.end(),
                                                              r.id) != shown_ids.end())) {
                    continue;
                }
                near.emplace_back(d, j);
            }
        };
        auto closer = [this](const auto& a, const auto& b) {
            return a.first < b.first ||
                   (a.first == b.first && rows_[a.second].id < rows_[b.second].id);
        };
        for (std::int64_t k = 0; k <= rings; ++k) {
            for (std::int64_t la = lat0 - k; la <= lat0 + k; ++la) {
                for (std::int64_t lo = lng0 - k; lo <= lng0 + k; ++lo) {
                    if (std::max(std::abs(la - lat0), std::abs(lo - lng0)) == k) {
                        visit(la, lo);
                    }
                }
            }
            if (near.size() >= want) {
                std::nth_element(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(want - 1),
                                 near.end(), closer);
                if (near[want - 1].first < static_cast<double>(k) * cell_m) {
                    break;  // everything in the rings beyond is farther
                }
            }
        }
        std::sort(near.begin(), near.end(), closer);
        near.resize(std::min(near.size(), want));
        std::vector<const std::string*> items;
        std::vector<std::string> with_distance;
        with_distance.reserve(near.size());
        const auto shown = std::min(near.size(), static_cast<std::size_t>(p.limit));
        for (std::size_t i = 0; i < shown; ++i) {
            const auto& item = rows_[near[i].second].item;
            with_distance.push_back(item.substr(0, item.size() - 1) +
                                    ",\"distance_m\":" + floatText(near[i].first) + "}");
        }
        items.reserve(with_distance.size());
        for (const auto& item : with_distance) {
            items.push_back(&item);
        }
        if (near.size() <= shown || shown == 0) {
            return pageFromItems(items, nullptr);
        }
        // The cursor: the last distance shown and every id shown at it.
        const double last = near[shown - 1].first;
        std::string ids;
        for (std::size_t i = 0; i < shown; ++i) {
            if (near[i].first == last) {
                ids += (ids.empty() ? "" : ",") + rows_[near[i].second].id;
            }
        }
        auto cursor = encodeCursor(p.sort, floatText(last), ids);
        return pageFromItems(items, &cursor);
    } else if (p.sort == Sort::Newest) {
        const auto* list = shortest(with_word_);
        if (list == nullptr && orders != nullptr) {
            list = &orders->newest;
        }
        if (list != nullptr) {
            walkNewest(*list, after_us, after_id, p.after.has_value(),
                       [&](const Row& r) { return r.live && passes(r); });
        }
    } else if (orders != nullptr) {
        const auto& list = orders->price;
        std::int64_t cp = 0;
        std::string_view cid;
        if (p.after) {
            const auto& k = p.after->first;
            auto [ptr, ec] = std::from_chars(k.data(), k.data() + k.size(), cp);
            if (ec != std::errc{} || ptr != k.data() + k.size()) {
                return std::nullopt;
            }
            cid = p.after->second;
        }
        if (p.sort == Sort::PriceAsc) {
            auto from = list.begin();
            if (p.after) {  // past every row cheaper than the cursor's, and it
                from = std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
                    const auto& r = rows_[j];
                    return cheaperThan(r, cp, cid) || (r.price == cp && r.id == cid);
                });
            }
            for (auto it = from; it != list.end() && found.size() < want; ++it) {
                if (passes(rows_[*it])) {
                    found.push_back(*it);
                }
            }
        } else {
            auto end = !p.after
                           ? list.end()
                           : std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
                                 return cheaperThan(rows_[j], cp, cid);
                             });
            for (auto it = end; it != list.begin() && found.size() < want;) {
                --it;
                if (passes(rows_[*it])) {
                    found.push_back(*it);
                }
            }
        }
    }
    const auto shown = std::min(found.size(), static_cast<std::size_t>(p.limit));
    std::vector<const std::string*> items;
    items.reserve(shown);
    for (std::size_t i = 0; i < shown; ++i) {
        items.push_back(&rows_[found[i]].item);
    }
    if (found.size() <= shown || shown == 0) {
        return pageFromItems(items, nullptr);
    }
    const auto& last = rows_[found[shown - 1]];
    std::string key = p.sort == Sort::Relevance
                          ? std::to_string(tiers[shown - 1]) + "/" + last.created_key
                      : p.sort == Sort::Newest ? last.created_key
                                               : std::to_string(last.price);
    auto cursor = encodeCursor(p.sort, key, last.id);
    return pageFromItems(items, &cursor);
}

}  // namespace restinu::property::search
