#include "search_fixture.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;

TEST_F(SearchTest, ASearchItemSaysWhatGetSaysOfTheListing) {
    const auto& c = seed::cities()[0];
    char near[96];
    std::snprintf(near, sizeof near, "near=%.4f,%.4f&radius_km=8&limit=25&facets=city", c.lat,
                  c.lng);
    auto page = call(kSearch, {"", std::nullopt, "", near});
    ASSERT_EQ(page.status, 200);
    const auto& items = page.body.at("items").as_array();
    ASSERT_EQ(items.size(), 25u);
    EXPECT_TRUE(page.body.at("next_cursor").is_string());
    EXPECT_GT(page.body.at("facets").at("city").as_object().size(), 0u);
    double last = -1;
    for (const auto& v : items) {
        const auto& item = v.as_object();
        auto got = call(kGet, {"", std::nullopt, std::string(item.at("id").as_string())});
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
            auto r = call(kSearch, {"", std::nullopt, "", q});
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
                ASSERT_EQ(call(kCreate, {json::serialize(l), agent}).status, 201);
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
                    io(), pool_->query("SELECT p.price_minor::text || ' ' || p.status || ' ' || "
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
    auto r = call(kSearch, {"", std::nullopt, "",
                            "city=Bengaluru&facets=type,bedrooms,listing_type&limit=1"});
    ASSERT_EQ(r.status, 200);
    std::map<std::string, std::int64_t> want_type, want_bed, want_listing;
    for (const auto& row : rows_) {
        if (row.status == "active" && row.city == "Bengaluru") {
            ++want_type[row.property_type];
            ++want_bed[std::to_string(row.bedrooms)];
            ++want_listing[row.listing_type];
        }
    }
    auto counts = [&r](const char* facet) {
        std::map<std::string, std::int64_t> got;
        for (const auto& [k, v] : r.body.at("facets").at(facet).as_object()) {
            got[std::string(k)] = v.as_int64();
        }
        return got;
    };
    EXPECT_EQ(counts("type"), want_type);
    EXPECT_EQ(counts("bedrooms"), want_bed);
    EXPECT_EQ(counts("listing_type"), want_listing);
    EXPECT_FALSE(want_type.empty());
    EXPECT_EQ(want_listing.size(), 2U);  // both kinds are in the rows, so both counts are checked
}

// A facet named 3,000 times is asked for once, and all the facets of a search cost one
// statement: before, each entry ran its own GROUP BY, one after another.
TEST_F(SearchTest, ThousandsOfFacetsCostOneStatement) {
    std::string facets = "facets=type";
    for (int i = 0; i < 1000; ++i) {
        facets += ",city,bedrooms,type";
    }
    auto plain = call(kSearch, {"", std::nullopt, "", "city=Bengaluru&limit=1"});
    ASSERT_EQ(plain.status, 200);
    // What a page costs when it is not cached yet (another limit: another cache key).
    auto before = statementsRun();
    call(kSearch, {"", std::nullopt, "", "city=Bengaluru&limit=2"});
    auto page_cost = statementsRun() - before;
    ASSERT_GT(page_cost, 0u);
    before = statementsRun();
    auto r = call(kSearch, {"", std::nullopt, "", "city=Bengaluru&limit=1&" + facets});
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
        auto r = call(kSearch, {"", std::nullopt, "", q});
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
    auto first = call(kSearch, {"", std::nullopt, "", "limit=1&sort=price_asc"});
    std::string cursor(first.body.at("next_cursor").as_string());
    EXPECT_EQ(fields("limit=1&sort=newest&cursor=" + cursor), (std::set<std::string>{"cursor"}));
    auto malformed = call(kSearch, {"", std::nullopt, "", "q=%zz"});
    EXPECT_EQ(malformed.status, 400);
}

}  // namespace
}  // namespace restinu::property
