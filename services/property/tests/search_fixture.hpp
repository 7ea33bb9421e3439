#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "property_fixture.hpp"
#include "restinu/property/seed.hpp"
#include "search_query.hpp"
#include "seed_data.hpp"

namespace restinu::property {

// The search tests' fixture: 3,000 seeded listings and a brute-force oracle over their rows.

// One listing as the oracle sees it, read back from the write model.
struct Row {
    std::string id;
    std::string title, property_type, listing_type, status, currency, city;
    std::int64_t price = 0, created_us = 0;
    int bedrooms = 0, bathrooms = 0, area = 0;
    double lat = 0, lng = 0;
    int vastu = -1;  // the latest Vastu score its certificate gave, -1 when not certified
};

// RFC 8032's first test key: the Vastu certificates in these suites are signed with it.
inline std::string vastuConfig() {
    return "vastu:\n  signing_key: "
           "\"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\"\n";
}

constexpr double kEarthRadiusM = 6371008.7714;  // PostGIS's sphere (mean radius of WGS 84)

inline double haversine(double lat1, double lng1, double lat2, double lng2) {
    auto rad = [](double d) { return d * M_PI / 180.0; };
    double dlat = rad(lat2 - lat1);
    double dlng = rad(lng2 - lng1);
    double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
               std::cos(rad(lat1)) * std::cos(rad(lat2)) * std::sin(dlng / 2) * std::sin(dlng / 2);
    return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

class SearchTest : public PropertyTest {
protected:
    std::string serviceConfig() const override { return config() + vastuConfig(); }

    static void SetUpTestSuite() {
        PropertyTest::SetUpTestSuite();
        vastu_.clear();
        std::vector<std::string> owners;
        for (int i = 0; i < 20; ++i) {
            owners.push_back(rt::newUuidV7());
        }
        SeedOptions o;
        o.listings = 3000;
        o.seed = 20261125;
        ASSERT_EQ(seedListings(conninfo(), owners, o), 3000);
    }

    void SetUp() override {
        PropertyTest::SetUp();
        auto r = rt::runBlocking(
            io(), pool_->query("SELECT id::text, title, property_type, listing_type, status, "
                               "currency, city, price_minor, (extract(epoch FROM created_at) * "
                               "1000000)::bigint, bedrooms, bathrooms, area_sqft, latitude, "
                               "longitude FROM properties WHERE $1 = $1",
                               "x"));
        rows_.clear();
        for (std::size_t i = 0; i < r.rows(); ++i) {
            Row w;
            w.id = r.get(i, 0);
            w.title = r.get(i, 1);
            w.property_type = r.get(i, 2);
            w.listing_type = r.get(i, 3);
            w.status = r.get(i, 4);
            w.currency = r.get(i, 5);
            w.city = r.get(i, 6);
            w.price = r.getInt(i, 7);
            w.created_us = r.getInt(i, 8);
            w.bedrooms = static_cast<int>(r.getInt(i, 9));
            w.bathrooms = static_cast<int>(r.getInt(i, 10));
            w.area = static_cast<int>(r.getInt(i, 11));
            w.lat = std::stod(std::string(r.get(i, 12)));
            w.lng = std::stod(std::string(r.get(i, 13)));
            auto v = vastu_.find(w.id);
            w.vastu = v == vastu_.end() ? -1 : v->second;
            rows_.push_back(w);
        }
    }

    // Every page of a search, following next_cursor; the ids in order.
    std::vector<std::string> allPages(const std::string& query, int* pages = nullptr) {
        std::vector<std::string> ids;
        std::string cursor;
        for (int page = 0; page < 1000; ++page) {
            auto q = query + (cursor.empty() ? "" : "&cursor=" + cursor);
            auto r = call(kSearch, {"", std::nullopt, "", q});
            EXPECT_EQ(r.status, 200) << q << " " << boost::json::serialize(r.body);
            if (r.status != 200) {
                break;
            }
            for (const auto& item : r.body.at("items").as_array()) {
                ids.emplace_back(item.at("id").as_string());
            }
            if (std::getenv("DEBUG_PAGES") != nullptr) {
                std::fprintf(stderr, "%s -> %zu\n", q.c_str(),
                             r.body.at("items").as_array().size());
            }
            if (pages != nullptr) {
                *pages = page + 1;
            }
            if (r.body.at("next_cursor").is_null()) {
                break;
            }
            cursor = std::string(r.body.at("next_cursor").as_string());
        }
        return ids;
    }

    std::set<std::string> textMatches(const std::string& words) {
        // Brute force over the write model, with its own text expression (no index).
        auto r = rt::runBlocking(
            io(), pool_->query("SELECT id::text FROM properties WHERE to_tsvector('english', "
                               "title || ' ' || locality || ' ' || description) @@ "
                               "websearch_to_tsquery('english', $1)",
                               words));
        std::set<std::string> out;
        for (std::size_t i = 0; i < r.rows(); ++i) {
            out.emplace(r.get(i, 0));
        }
        return out;
    }

    // Relevance order: listings whose title and locality alone answer the words first, then
    // the rest; newest first within each. The headline match is computed here from the write
    // model's own text, not from the read model's document.
    void sortByRelevance(std::vector<const Row*>& rows, const std::string& words) {
        auto headline = rt::runBlocking(
            io(), pool_->query("SELECT id::text FROM properties WHERE to_tsvector('english', "
                               "title || ' ' || locality) @@ websearch_to_tsquery('english', $1)",
                               words));
        std::set<std::string> head;
        for (std::size_t i = 0; i < headline.rows(); ++i) {
            head.emplace(headline.get(i, 0));
        }
        std::sort(rows.begin(), rows.end(), [&](const Row* a, const Row* b) {
            auto ka = std::make_tuple(head.count(a->id) ? 0 : 1, -a->created_us);
            auto kb = std::make_tuple(head.count(b->id) ? 0 : 1, -b->created_us);
            return ka != kb ? ka < kb : a->id > b->id;
        });
    }

    // Certifies `n` listings (drawn by `rng`, seeded ones of any status) through the service
    // as an admin, each with a random layout, and projects the events: the oracle then knows
    // each one's latest score as the certificate gave it, not as search stores it. Once per
    // suite; a later call only projects again.
    void certifySome(int n, std::mt19937_64& rng) {
        if (vastu_.empty()) {
            static constexpr std::array<std::string_view, 8> kZones{"N", "NE", "E", "SE",
                                                                    "S", "SW", "W", "NW"};
            auto zone = [&rng] { return std::string(kZones[rng() % kZones.size()]); };
            const auto admin = person("admin");
            for (int k = 0; k < n; ++k) {
                const auto& row = rows_[rng() % rows_.size()];
                std::string layout = R"({"facing":")" + zone() + R"(","elements":{)" +
                                     R"("main_entrance":")" + zone() + R"(","kitchen":")" + zone() +
                                     R"(","master_bedroom":")" + zone() + '"';
                if (rng() % 2 == 0) {
                    layout += R"(,"pooja_room":")" + zone() + '"';
                }
                layout += "}}";
                auto r = call(Route{rt::Method::Post, "/api/v1/properties/{id}/vastu"},
                              {layout, admin, row.id});
                ASSERT_EQ(r.status, 201) << layout << " " << boost::json::serialize(r.body);
                vastu_[row.id] = static_cast<int>(r.body.at("certificate").at("score").as_int64());
            }
        }
        project();
        for (auto& row : rows_) {
            auto v = vastu_.find(row.id);
            row.vastu = v == vastu_.end() ? -1 : v->second;
        }
    }

    std::vector<Row> rows_;
    static inline std::map<std::string, int> vastu_;  // listing id → its latest score
};

}  // namespace restinu::property
