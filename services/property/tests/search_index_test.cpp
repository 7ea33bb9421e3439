// The in-memory search index (ADR 0012) against PostgreSQL: the same searches through a service
// that answers them from memory and one that asks the database give the same bytes, page after
// page, and either continues the other's cursor.
#include <random>

#include "search_fixture.hpp"

namespace restinu::property {
namespace {

class SearchIndexTest : public SearchTest {
protected:
    // Neither instance caches: every page is computed by its engine.
    std::string serviceConfig() const override {
        return config() + vastuConfig() + "cache:\n  enabled: false\nsearch:\n  engine: memory\n";
    }
    void SetUp() override {
        database_.reset();
        SearchTest::SetUp();
        auto s = spec();
        s.database = std::string(registry::find("property")->database);
        database_ = std::make_unique<testing::ServiceClient>(
            s, config() + "cache:\n  enabled: false\nsearch:\n  engine: database\n");
    }
    void TearDown() override {
        database_.reset();
        SearchTest::TearDown();
    }

    testing::ServiceClient::Reply on(testing::ServiceClient& c, const std::string& query) {
        return c.send({rt::Method::Get, kSearch.target({}, query)});
    }

    // Up to three pages of `q` on both engines, each continued by the other engine's cursor
    // in turn; every page must be the same bytes.
    void comparePages(const std::string& q, int& pages, int& non_empty) {
        std::string query = q;
        for (int page = 0; page < 3; ++page) {
            auto memory = on(page % 2 == 0 ? *client_ : *database_, query);
            auto database = on(page % 2 == 0 ? *database_ : *client_, query);
            ASSERT_EQ(memory.status, 200) << query << "\n" << memory.raw.body;
            ASSERT_EQ(memory.raw.body, database.raw.body) << query;
            ++pages;
            non_empty += memory.body.at("items").as_array().empty() ? 0 : 1;
            const auto& next = memory.body.at("next_cursor");
            if (next.is_null()) {
                break;
            }
            query = q + "&cursor=" + std::string(next.as_string());
        }
    }

    std::unique_ptr<testing::ServiceClient> database_;
};

TEST_F(SearchIndexTest, MemoryAndDatabaseGiveTheSameBytesPageAfterPage) {
    std::mt19937_64 rng(16);
    std::mt19937_64 certify(3);  // its own draws: the searches stay the same
    certifySome(400, certify);  // items show their score; some searches filter on it
    auto roll = [&rng](int pct) { return static_cast<int>(rng() % 100) < pct; };
    const auto& cities = seed::cities();
    const std::vector<std::string> types{"apartment", "independent_house", "villa", "plot",
                                         "commercial"};
    const std::vector<std::string> sorts{"newest", "price_asc", "price_desc"};
    int pages = 0;
    int non_empty = 0;
    for (int n = 0; n < 200; ++n) {
        std::string q = "limit=" + std::to_string(1 + rng() % 30) + "&sort=" + sorts[rng() % 3];
        if (roll(60)) {
            q += "&city=" + std::string(roll(80) ? cities[rng() % 6].name : "Atlantis");
        }
        if (roll(30)) {
            q += "&type=" + types[rng() % types.size()] + (roll(30) ? ",villa" : "");
        }
        if (roll(20)) {
            q += "&listing_type=" + std::string(roll(50) ? "sale" : "fractional");
        }
        if (roll(20)) {
            q += "&status=active,sold";
        }
        std::int64_t min_price = 0;
        if (roll(40)) {
            min_price = static_cast<std::int64_t>(rng() % 5) * 1'00'00'000'00;  // 0..4 crore
            q += "&min_price=" + std::to_string(min_price);
        }
        if (roll(40)) {
            auto max_price = (static_cast<std::int64_t>(rng() % 20) + 1) * 50'00'000'00;
            q += "&max_price=" + std::to_string(std::max(max_price, min_price));
        }
        if (roll(35)) {
            q += "&min_bedrooms=" + std::to_string(rng() % 5);
        }
        if (roll(15)) {
            q += "&min_bathrooms=" + std::to_string(rng() % 4);
        }
        if (roll(15)) {
            q += "&min_area=" + std::to_string(300 + rng() % 2000);
        }
        if (roll(10)) {
            q += "&max_area=" + std::to_string(800 + rng() % 4000);
        }
        if (roll(20)) {
            q += "&min_vastu_score=" + std::to_string(rng() % 101);
        }
        // Three pages, each continued by the other engine's cursor in turn.
        comparePages(q, pages, non_empty);
        if (HasFatalFailure()) {
            return;
        }
    }
    EXPECT_GT(non_empty, 150) << "too few searches found anything to compare";
    EXPECT_GT(pages, 300);
}

TEST_F(SearchIndexTest, WordsGiveTheSameBytesAsTheDatabaseInEveryOrder) {
    std::mt19937_64 rng(61);
    // Title, locality and description words, stop words, negations, or, a phrase (answered by
    // the database), a word no listing has.
    const std::vector<std::string> words{"villa",
                                         "apartment",
                                         "powai",
                                         "sea+view",
                                         "garden",
                                         "metro",
                                         "pool+-gym",
                                         "sea+or+lake",
                                         "gated+community",
                                         "the+school",
                                         "%22sea+view%22",
                                         "xylophone",
                                         "whitefield+villa",
                                         "plot",
                                         "-villa+house"};
    const std::vector<std::string> sorts{"relevance", "newest", "price_asc", "price_desc"};
    const auto& cities = seed::cities();
    int pages = 0;
    int non_empty = 0;
    for (int n = 0; n < 150; ++n) {
        std::string q = "q=" + words[rng() % words.size()] + "&sort=" + sorts[rng() % 4] +
                        "&limit=" + std::to_string(1 + rng() % 25);
        if (rng() % 2 == 0) {
            q += "&city=" + std::string(cities[rng() % 6].name);
        }
        if (rng() % 3 == 0) {
            q += "&min_bedrooms=" + std::to_string(rng() % 4);
        }
        comparePages(q, pages, non_empty);
        if (HasFatalFailure()) {
            return;
        }
    }
    EXPECT_GT(non_empty, 80);
}

TEST_F(SearchIndexTest, DistancesAreTheDatabasesToTheLastDigit) {
    std::mt19937_64 rng(12);
    const auto& cities = seed::cities();
    const std::vector<std::string> sorts{"distance", "distance", "newest", "price_asc"};
    int pages = 0;
    int non_empty = 0;
    for (int n = 0; n < 120; ++n) {
        const auto& c = cities[rng() % 6];
        std::uniform_real_distribution<double> off(-0.1, 0.1);
        char near[64];
        std::snprintf(near, sizeof near, "%.5f,%.5f", c.lat + off(rng), c.lng + off(rng));
        std::string q = std::string("near=") + near +
                        "&radius_km=" + std::to_string(1 + rng() % 15) +
                        "&sort=" + sorts[rng() % 4] + "&limit=" + std::to_string(1 + rng() % 20);
        if (rng() % 3 == 0) {
            q += "&min_bedrooms=" + std::to_string(rng() % 4);
        }
        comparePages(q, pages, non_empty);
        if (HasFatalFailure()) {
            return;
        }
    }
    EXPECT_GT(non_empty, 80);
}

TEST_F(SearchIndexTest, AChangeInTheReadModelShowsInTheNextSearch) {
    auto agent = person("agent");
    const std::string query = "city=Kochi&sort=newest&limit=1";
    ASSERT_EQ(on(*client_, query).status, 200);  // loaded
    auto l = listing("Fresh in Kochi");
    l["address"].as_object()["city"] = "Kochi";
    auto r = call(kCreate, {boost::json::serialize(l), agent});
    ASSERT_EQ(r.status, 201);
    const std::string id(r.body.at("id").as_string());
    project();
    auto first = on(*client_, query);
    ASSERT_EQ(first.body.at("items").as_array().size(), 1u);
    EXPECT_EQ(first.body.at("items").at(0).at("id").as_string(), id);
    call(kWithdraw, {"", agent, id});
    project();
    auto after = on(*client_, query);
    EXPECT_EQ(after.raw.body, on(*database_, query).raw.body);
    EXPECT_NE(after.body.at("items").at(0).at("id").as_string(), id);
}

}  // namespace
}  // namespace restinu::property
