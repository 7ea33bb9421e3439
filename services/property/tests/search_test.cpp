#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "property_fixture.hpp"
#include "restinu/property/seed.hpp"
#include "search_query.hpp"
#include "seed_data.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;

// One listing as the oracle sees it, read back from the write model.
struct Row {
    std::string id;
    std::string title, property_type, listing_type, status, currency, city;
    std::int64_t price = 0, created_us = 0;
    int bedrooms = 0, bathrooms = 0, area = 0;
    double lat = 0, lng = 0;
};

constexpr double kEarthRadiusM = 6371008.7714;  // PostGIS's sphere (mean radius of WGS 84)

double haversine(double lat1, double lng1, double lat2, double lng2) {
    auto rad = [](double d) { return d * M_PI / 180.0; };
    double dlat = rad(lat2 - lat1);
    double dlng = rad(lng2 - lng1);
    double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
               std::cos(rad(lat1)) * std::cos(rad(lat2)) * std::sin(dlng / 2) * std::sin(dlng / 2);
    return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

class SearchTest : public PropertyTest {
protected:
    static void SetUpTestSuite() {
        PropertyTest::SetUpTestSuite();
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
            io_, pool_->query("SELECT id::text, title, property_type, listing_type, status, "
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
            rows_.push_back(w);
        }
    }

    // Every page of a search, following next_cursor; the ids in order.
    std::vector<std::string> allPages(const std::string& query, int* pages = nullptr) {
        std::vector<std::string> ids;
        std::string cursor;
        for (int page = 0; page < 1000; ++page) {
            auto q = query + (cursor.empty() ? "" : "&cursor=" + cursor);
            auto r = call(&ListingHandlers::search, {"", std::nullopt, "", q});
            EXPECT_EQ(r.status, 200) << q << " " << json::serialize(r.body);
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
            io_, pool_->query("SELECT id::text FROM properties WHERE to_tsvector('english', "
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
            io_, pool_->query("SELECT id::text FROM properties WHERE to_tsvector('english', "
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

    std::vector<Row> rows_;
};

TEST_F(SearchTest, EveryFilterAndSortMatchesABruteForceOracle) {
    std::mt19937_64 rng(7);
    auto roll = [&rng](int pct) { return static_cast<int>(rng() % 100) < pct; };
    const auto& cities = seed::cities();
    const std::vector<std::string> words{"powai",        "sunlit",     "villa", "metro",
                                         "quiet school", "whitefield", "plot",  "gym"};
    const std::vector<std::string> types{"apartment", "independent_house", "villa", "plot",
                                         "commercial"};
    int checked = 0;
    int non_empty = 0;
    for (int n = 0; n < 250; ++n) {
        std::string q = "limit=" + std::to_string(5 + rng() % 40);
        std::optional<std::string> city, type, text;
        std::set<std::string> statuses{"active"};
        std::optional<std::int64_t> min_price, max_price;
        std::optional<int> min_bed, min_bath, min_area, max_area;
        std::optional<std::pair<double, double>> near;
        std::optional<double> radius;
        std::optional<std::array<double, 4>> bbox;
        const auto& c = cities[rng() % 6];
        if (roll(50)) {
            city = c.name;
            q += "&city=" + std::string(roll(50) ? c.name : "MUMBAI");
            if (q.find("MUMBAI") != std::string::npos) {
                city = "Mumbai";
            }
        }
        if (roll(30)) {
            type = types[rng() % types.size()];
            q += "&type=" + *type;
        }
        if (roll(20)) {
            statuses = {"active", "sold"};
            q += "&status=active,sold";
        }
        if (roll(40)) {
            min_price = static_cast<std::int64_t>(rng() % 5) * 1'00'00'000'00;  // 0..4 crore
            q += "&min_price=" + std::to_string(*min_price);
        }
        if (roll(40)) {
            max_price = (static_cast<std::int64_t>(rng() % 20) + 1) * 50'00'000'00;
            if (min_price && *max_price < *min_price) {
                max_price = *min_price + 50'00'000'00;
            }
            q += "&max_price=" + std::to_string(*max_price);
        }
        if (roll(35)) {
            min_bed = static_cast<int>(rng() % 5);
            q += "&min_bedrooms=" + std::to_string(*min_bed);
        }
        if (roll(20)) {
            min_bath = static_cast<int>(rng() % 4);
            q += "&min_bathrooms=" + std::to_string(*min_bath);
        }
        if (roll(20)) {
            min_area = 300 + static_cast<int>(rng() % 2000);
            q += "&min_area=" + std::to_string(*min_area);
        }
        if (roll(15)) {
            max_area = (min_area ? *min_area : 0) + 500 + static_cast<int>(rng() % 4000);
            q += "&max_area=" + std::to_string(*max_area);
        }
        if (roll(35)) {
            near = std::make_pair(c.lat + (static_cast<double>(rng() % 200) - 100) / 2000.0,
                                  c.lng + (static_cast<double>(rng() % 200) - 100) / 2000.0);
            char buf[64];
            std::snprintf(buf, sizeof buf, "&near=%.6f,%.6f", near->first, near->second);
            near =
                std::make_pair(std::stod(std::string(buf).substr(6)),
                               std::stod(std::string(buf).substr(std::string(buf).find(',') + 1)));
            q += buf;
            if (roll(80)) {
                radius = 1.0 + static_cast<double>(rng() % 150) / 10.0;
                q += "&radius_km=" + std::to_string(*radius).substr(0, 5);
                radius = std::stod(std::to_string(*radius).substr(0, 5));
            }
        } else if (roll(15)) {
            double half = 0.02 + static_cast<double>(rng() % 10) / 100.0;
            bbox = std::array<double, 4>{c.lng - half, c.lat - half, c.lng + half, c.lat + half};
            char buf[128];
            std::snprintf(buf, sizeof buf, "&bbox=%.4f,%.4f,%.4f,%.4f", (*bbox)[0], (*bbox)[1],
                          (*bbox)[2], (*bbox)[3]);
            std::sscanf(buf, "&bbox=%lf,%lf,%lf,%lf", &(*bbox)[0], &(*bbox)[1], &(*bbox)[2],
                        &(*bbox)[3]);
            q += buf;
        }
        if (roll(30)) {
            text = words[rng() % words.size()];
            std::string encoded;
            for (char ch : *text) {
                encoded += ch == ' '   ? std::string("+")
                           : ch == '"' ? std::string("%22")
                                       : std::string(1, ch);
            }
            q += "&q=" + encoded;
        }
        std::vector<std::string> sorts{"newest", "price_asc", "price_desc"};
        if (near) {
            sorts.emplace_back("distance");
        }
        if (text) {
            sorts.emplace_back("relevance");
        }
        std::string sort = sorts[rng() % sorts.size()];
        q += "&sort=" + sort;

        std::set<std::string> text_ids;
        if (text) {
            text_ids = textMatches(*text);
        }
        std::vector<const Row*> expected;
        for (const auto& r : rows_) {
            if (!statuses.count(r.status) || (city && r.city != *city) ||
                (type && r.property_type != *type) || (min_price && r.price < *min_price) ||
                (max_price && r.price > *max_price) ||
                ((min_price || max_price) && r.currency != "INR") ||
                (min_bed && r.bedrooms < *min_bed) || (min_bath && r.bathrooms < *min_bath) ||
                (min_area && r.area < *min_area) || (max_area && r.area > *max_area) ||
                (radius && haversine(near->first, near->second, r.lat, r.lng) > *radius * 1000) ||
                (bbox && (r.lng < (*bbox)[0] || r.lat < (*bbox)[1] || r.lng > (*bbox)[2] ||
                          r.lat > (*bbox)[3])) ||
                (text && !text_ids.count(r.id))) {
                continue;
            }
            expected.push_back(&r);
        }
        auto got = allPages(q);
        std::set<std::string> got_set(got.begin(), got.end());
        ASSERT_EQ(got_set.size(), got.size()) << "a page repeated a listing: " << q;
        std::vector<std::string> want_set_v;
        for (const auto* r : expected) {
            want_set_v.push_back(r->id);
        }
        std::set<std::string> want_set(want_set_v.begin(), want_set_v.end());
        ASSERT_EQ(got_set, want_set) << q;
        // Order.
        if (sort == "relevance") {
            sortByRelevance(expected, *text);
            std::vector<std::string> want;
            for (const auto* r : expected) {
                want.push_back(r->id);
            }
            ASSERT_EQ(got, want) << q;
        } else {
            auto key = [&](const Row* r) {
                if (sort == "newest") {
                    return std::make_tuple(-static_cast<double>(r->created_us), std::string(),
                                           r->id);
                }
                if (sort == "price_asc") {
                    return std::make_tuple(static_cast<double>(r->price), r->id, std::string());
                }
                if (sort == "price_desc") {
                    return std::make_tuple(-static_cast<double>(r->price), std::string(), r->id);
                }
                return std::make_tuple(haversine(near->first, near->second, r->lat, r->lng), r->id,
                                       std::string());
            };
            bool descending_id = sort == "newest" || sort == "price_desc";
            std::sort(expected.begin(), expected.end(), [&](const Row* a, const Row* b) {
                auto ka = key(a);
                auto kb = key(b);
                if (std::get<0>(ka) != std::get<0>(kb)) {
                    return std::get<0>(ka) < std::get<0>(kb);
                }
                return descending_id ? a->id > b->id : a->id < b->id;
            });
            std::vector<std::string> want;
            for (const auto* r : expected) {
                want.push_back(r->id);
            }
            ASSERT_EQ(got, want) << q;
        }
        ++checked;
        non_empty += got.empty() ? 0 : 1;
    }
    EXPECT_EQ(checked, 250);
    EXPECT_GT(non_empty, 100);  // the oracle compared real results, not mostly empty pages
}

// Relevance walks the newest rows first and falls back to the index when they hold too few
// matches; on 3,000 listings the default window covers everything, so this sets it small to
// take every path: a walk that fills the page, a short walk and the fallback, in both tiers,
// and a cursor inside each tier. Every way gives the oracle's order.
TEST_F(SearchTest, RelevanceGivesTheOracleOrderWhicheverPathItTakes) {
    const std::vector<std::pair<std::string, std::string>> cases{{"villa", ""},
                                                                 {"powai", ""},
                                                                 {"sunlit", ""},
                                                                 {"metro", "Mumbai"},
                                                                 {"gym", "Pune"},
                                                                 {"villa garden", ""},
                                                                 {"whitefield", "Bengaluru"}};
    for (const auto& [words, city] : cases) {
        auto matches = textMatches(words);
        std::vector<const Row*> expected;
        for (const auto& r : rows_) {
            if (r.status == "active" && matches.count(r.id) && (city.empty() || r.city == city)) {
                expected.push_back(&r);
            }
        }
        sortByRelevance(expected, words);
        std::vector<std::string> want;
        for (const auto* r : expected) {
            want.push_back(r->id);
        }
        ASSERT_GT(want.size(), 10u) << words;
        for (int window : {1, 5, 60, 0}) {
            for (int limit : {7, 40}) {
                search::Params p;
                p.text = words;
                p.sort = search::Sort::Relevance;
                p.limit = limit;
                p.relevance_window = window;
                if (!city.empty()) {
                    p.city = city;
                }
                std::vector<std::string> got;
                for (int page = 0; page < 1000; ++page) {
                    // Prepared, as the service runs it: after five runs the server may use
                    // one generic plan for every page.
                    auto r = rt::runBlocking(io_, search::run(*pool_, search::pageQuery(p)));
                    auto n = std::min<std::size_t>(r.rows(), static_cast<std::size_t>(limit));
                    for (std::size_t i = 0; i < n; ++i) {
                        got.emplace_back(r.get(i, 0));
                    }
                    if (r.rows() <= n) {
                        break;
                    }
                    p.after = std::make_pair(std::string(r.get(n - 1, search::kColumnCount)),
                                             std::string(r.get(n - 1, 0)));
                }
                ASSERT_EQ(got, want) << words << " window " << window << " limit " << limit;
            }
        }
    }
}

// A search item is written straight from the result's text: it must say what GET says of the
// same listing, field by field, and be valid JSON (call() parses it).
TEST_F(SearchTest, ASearchItemSaysWhatGetSaysOfTheListing) {
    const auto& c = seed::cities()[0];
    char near[96];
    std::snprintf(near, sizeof near, "near=%.4f,%.4f&radius_km=8&limit=25&facets=city", c.lat,
                  c.lng);
    auto page = call(&ListingHandlers::search, {"", std::nullopt, "", near});
    ASSERT_EQ(page.status, 200);
    const auto& items = page.body.at("items").as_array();
    ASSERT_EQ(items.size(), 25u);
    EXPECT_TRUE(page.body.at("next_cursor").is_string());
    EXPECT_GT(page.body.at("facets").at("city").as_object().size(), 0u);
    double last = -1;
    for (const auto& v : items) {
        const auto& item = v.as_object();
        auto got =
            call(&ListingHandlers::get, {"", std::nullopt, std::string(item.at("id").as_string())});
        ASSERT_EQ(got.status, 200);
        const auto& full = got.body.as_object();
        for (const char* k : {"id", "owner_id", "title", "property_type", "listing_type", "status",
                              "price", "bedrooms", "bathrooms", "area_sqft", "facing", "amenities",
                              "version", "created_at"}) {
            EXPECT_EQ(item.at(k), full.at(k)) << k;
        }
        for (const char* k : {"locality", "city", "state", "country"}) {
            EXPECT_EQ(item.at("address").at(k), full.at("address").at(k)) << k;
        }
        for (const char* k : {"lat", "lng"}) {
            EXPECT_DOUBLE_EQ(item.at("location").at(k).to_number<double>(),
                             full.at("location").at(k).to_number<double>())
                << k;
        }
        auto d = item.at("distance_m").to_number<double>();
        EXPECT_GE(d, last);
        EXPECT_LE(d, 8000.0);
        last = d;
    }
}

TEST_F(SearchTest, PagesNeverSkipOrRepeatWhileListingsAreInserted) {
    for (const std::string sort : {"newest", "price_asc"}) {
        std::set<std::string> before;
        for (const auto& r : rows_) {
            if (r.status == "active" && r.city == "Pune") {
                before.insert(r.id);
            }
        }
        auto agent = person("agent");
        std::vector<std::string> got;
        std::string cursor;
        std::mt19937 rng(3);
        for (int page = 0; page < 500; ++page) {
            auto q =
                "city=Pune&limit=13&sort=" + sort + (cursor.empty() ? "" : "&cursor=" + cursor);
            auto r = call(&ListingHandlers::search, {"", std::nullopt, "", q});
            ASSERT_EQ(r.status, 200);
            for (const auto& item : r.body.at("items").as_array()) {
                got.emplace_back(item.at("id").as_string());
            }
            // Two new Pune listings between pages, at random prices.
            for (int i = 0; i < 2; ++i) {
                auto l = listing("New in Pune");
                l["address"].as_object()["city"] = "Pune";
                l["price"] =
                    json::object{{"amount", static_cast<std::int64_t>(rng() % 40) * 10'00'000'00},
                                 {"currency", "INR"}};
                ASSERT_EQ(call(&ListingHandlers::create, {json::serialize(l), agent}).status, 201);
            }
            project();
            if (r.body.at("next_cursor").is_null()) {
                break;
            }
            cursor = std::string(r.body.at("next_cursor").as_string());
        }
        std::set<std::string> seen;
        for (const auto& id : got) {
            ASSERT_TRUE(seen.insert(id).second) << sort << ": repeated " << id;
        }
        for (const auto& id : before) {
            if (seen.count(id) == 0) {
                auto why = rt::runBlocking(
                    io_, pool_->query("SELECT p.price_minor::text || ' ' || p.status || ' ' || "
                                      "coalesce(s.status, 'not in the read model') || ' ' || "
                                      "p.created_at::text FROM properties p LEFT JOIN "
                                      "property_search s USING (id) WHERE p.id = $1::uuid",
                                      id));
                FAIL() << sort << ": skipped " << id << " (" << why.get(0, 0) << ")";
            }
        }
        SetUp();  // the rows inserted here are part of the next sort's "before"
    }
}

TEST_F(SearchTest, FacetsCountUnderTheSameFilters) {
    auto r = call(&ListingHandlers::search,
                  {"", std::nullopt, "", "city=Bengaluru&facets=type,bedrooms&limit=1"});
    ASSERT_EQ(r.status, 200);
    std::map<std::string, std::int64_t> want_type, want_bed;
    for (const auto& row : rows_) {
        if (row.status == "active" && row.city == "Bengaluru") {
            ++want_type[row.property_type];
            ++want_bed[std::to_string(row.bedrooms)];
        }
    }
    std::map<std::string, std::int64_t> got_type, got_bed;
    for (const auto& [k, v] : r.body.at("facets").at("type").as_object()) {
        got_type[std::string(k)] = v.as_int64();
    }
    for (const auto& [k, v] : r.body.at("facets").at("bedrooms").as_object()) {
        got_bed[std::string(k)] = v.as_int64();
    }
    EXPECT_EQ(got_type, want_type);
    EXPECT_EQ(got_bed, want_bed);
    EXPECT_FALSE(want_type.empty());
}

// A facet named 3,000 times is asked for once, and all the facets of a search cost one
// statement: before, each entry ran its own GROUP BY, one after another.
TEST_F(SearchTest, ThousandsOfFacetsCostOneStatement) {
    std::string facets = "facets=type";
    for (int i = 0; i < 1000; ++i) {
        facets += ",city,bedrooms,type";
    }
    auto plain = call(&ListingHandlers::search, {"", std::nullopt, "", "city=Bengaluru&limit=1"});
    ASSERT_EQ(plain.status, 200);
    auto before = statementsRun();
    call(&ListingHandlers::search, {"", std::nullopt, "", "city=Bengaluru&limit=1"});
    auto page_cost = statementsRun() - before;
    before = statementsRun();
    auto r = call(&ListingHandlers::search,
                  {"", std::nullopt, "", "city=Bengaluru&limit=1&" + facets});
    ASSERT_EQ(r.status, 200) << r.raw.body;
    EXPECT_EQ(statementsRun() - before, page_cost + 1);
    const auto& got = r.body.at("facets").as_object();
    EXPECT_EQ(got.size(), 3u);
    // In the order first asked for, each once.
    std::vector<std::string> order;
    for (const auto& [k, v] : got) {
        order.emplace_back(k);
    }
    EXPECT_EQ(order, (std::vector<std::string>{"type", "city", "bedrooms"}));
    std::int64_t city_total = 0;
    for (const auto& [k, v] : got.at("city").as_object()) {
        EXPECT_EQ(k, "Bengaluru");
        city_total += v.as_int64();
    }
    std::int64_t type_total = 0;
    for (const auto& [k, v] : got.at("type").as_object()) {
        type_total += v.as_int64();
    }
    EXPECT_EQ(city_total, type_total);
    EXPECT_GT(city_total, 0);
    // Bedrooms in numeric order (10 after 9, not after 1).
    std::vector<int> beds;
    for (const auto& [k, v] : got.at("bedrooms").as_object()) {
        beds.push_back(std::stoi(std::string(k)));
    }
    EXPECT_TRUE(std::is_sorted(beds.begin(), beds.end()));
}

TEST_F(SearchTest, BadParametersAre400NamingEachParameter) {
    auto fields = [&](const std::string& q) {
        auto r = call(&ListingHandlers::search, {"", std::nullopt, "", q});
        EXPECT_EQ(r.status, 400) << q;
        EXPECT_EQ(r.body.at("type").as_string(), "https://restinu.dev/problems/invalid-query");
        std::set<std::string> out;
        for (const auto& e : r.body.at("errors").as_array()) {
            out.emplace(e.at("field").as_string());
        }
        return out;
    };
    EXPECT_EQ(fields("colour=red&limit=0"), (std::set<std::string>{"colour", "limit"}));
    EXPECT_EQ(fields("radius_km=5"), (std::set<std::string>{"radius_km"}));
    EXPECT_EQ(fields("sort=distance"), (std::set<std::string>{"sort"}));
    EXPECT_EQ(fields("sort=relevance"), (std::set<std::string>{"sort"}));
    EXPECT_EQ(fields("near=91,10&bbox=1,2,0,3"), (std::set<std::string>{"near", "bbox"}));
    EXPECT_EQ(fields("min_price=10&max_price=5"), (std::set<std::string>{"max_price"}));
    EXPECT_EQ(fields("type=castle&status=draft"), (std::set<std::string>{"type", "status"}));
    EXPECT_EQ(fields("cursor=bm9wZQ"), (std::set<std::string>{"cursor"}));
    EXPECT_EQ(fields("city=a&city=b"), (std::set<std::string>{"city"}));
    // A cursor from another sort order.
    auto first = call(&ListingHandlers::search, {"", std::nullopt, "", "limit=1&sort=price_asc"});
    std::string cursor(first.body.at("next_cursor").as_string());
    EXPECT_EQ(fields("limit=1&sort=newest&cursor=" + cursor), (std::set<std::string>{"cursor"}));
    auto malformed = call(&ListingHandlers::search, {"", std::nullopt, "", "q=%zz"});
    EXPECT_EQ(malformed.status, 400);
}

}  // namespace
}  // namespace restinu::property
