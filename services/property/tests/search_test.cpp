#include <map>

#include "search_fixture.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;

TEST_F(SearchTest, EveryFilterAndSortMatchesABruteForceOracle) {
    std::mt19937_64 certify(3);
    certifySome(400, certify);
    std::mt19937_64 rng(7);
    auto roll = [&rng](int pct) { return static_cast<int>(rng() % 100) < pct; };
    const auto& cities = seed::cities();
    const std::vector<std::string> words{"powai",        "sunlit",     "villa", "metro",
                                         "quiet school", "whitefield", "plot",  "gym"};
    const std::vector<std::string> types{"apartment", "independent_house", "villa", "plot",
                                         "commercial"};
    int checked = 0;
    int non_empty = 0;
    int vastu_found = 0;  // searches under min_vastu_score that found something
    for (int n = 0; n < 250; ++n) {
        std::string q = "limit=" + std::to_string(5 + rng() % 40);
        std::optional<std::string> city, type, text;
        std::set<std::string> statuses{"active"};
        std::optional<std::int64_t> min_price, max_price;
        std::optional<int> min_bed, min_bath, min_area, max_area, min_vastu;
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
        if (roll(20)) {
            min_vastu = static_cast<int>(rng() % 101);
            q += "&min_vastu_score=" + std::to_string(*min_vastu);
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
                (min_vastu && r.vastu < *min_vastu) ||
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
            if (sort == "distance") {
                // Listings at the same distance (the same place) come in any order across a
                // page boundary: a KNN scan orders by distance alone. The distances must match
                // position by position.
                std::map<std::string, double, std::less<>> distance;
                for (const auto* r : expected) {
                    distance[r->id] = std::get<0>(key(r));
                }
                std::vector<double> got_d;
                std::vector<double> want_d;
                for (const auto& id : got) {
                    got_d.push_back(distance.at(id));
                }
                for (const auto& id : want) {
                    want_d.push_back(distance.at(id));
                }
                ASSERT_EQ(got_d, want_d) << q;
            } else {
                ASSERT_EQ(got, want) << q;
            }
        }
        ++checked;
        non_empty += got.empty() ? 0 : 1;
        vastu_found += min_vastu && !got.empty() ? 1 : 0;
    }
    EXPECT_EQ(checked, 250);
    EXPECT_GT(vastu_found, 10);
    EXPECT_GT(non_empty, 100);  // the oracle compared real results, not mostly empty pages
}

// Every certified public listing, and only those, comes back under min_vastu_score=0, each
// showing the score and grade of its latest certificate; the others show "vastu": null.
TEST_F(SearchTest, ResultsShowEachListingsLatestVastuScore) {
    std::mt19937_64 certify(3);
    certifySome(400, certify);
    auto gradeOf = [](int score) {  // the rule table's bands (docs/vastu.md)
        return score >= 85 ? "A" : score >= 70 ? "B" : score >= 50 ? "C" : "D";
    };
    std::map<std::string, int> want;
    for (const auto& r : rows_) {
        if (r.vastu >= 0 && r.status != "draft" && r.status != "withdrawn") {
            want[r.id] = r.vastu;
        }
    }
    ASSERT_GT(want.size(), 100u);
    std::map<std::string, int> got;
    std::string cursor;
    const std::string q = "min_vastu_score=0&status=active,reserved,sold&limit=100";
    for (int page = 0; page < 100; ++page) {
        auto r =
            call(kSearch, {"", std::nullopt, "", q + (cursor.empty() ? "" : "&cursor=" + cursor)});
        ASSERT_EQ(r.status, 200);
        for (const auto& item : r.body.at("items").as_array()) {
            const auto score = static_cast<int>(item.at("vastu").at("score").as_int64());
            EXPECT_EQ(item.at("vastu").at("grade").as_string(), gradeOf(score));
            got[std::string(item.at("id").as_string())] = score;
        }
        if (r.body.at("next_cursor").is_null()) {
            break;
        }
        cursor = std::string(r.body.at("next_cursor").as_string());
    }
    EXPECT_EQ(got, want);
    auto plain = call(kSearch, {"", std::nullopt, "", "limit=100"});
    int uncertified = 0;
    for (const auto& item : plain.body.at("items").as_array()) {
        if (!want.count(std::string(item.at("id").as_string()))) {
            EXPECT_TRUE(item.at("vastu").is_null());
            ++uncertified;
        }
    }
    EXPECT_GT(uncertified, 0);
    auto bad = call(kSearch, {"", std::nullopt, "", "min_vastu_score=101"});
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(boost::json::serialize(bad.body).find("min_vastu_score"), std::string::npos);
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
                    auto r = rt::runBlocking(io(), search::run(*pool_, search::pageQuery(p)));
                    auto n = std::min<std::size_t>(r.rows(), static_cast<std::size_t>(limit));
                    for (std::size_t i = 0; i < n; ++i) {
                        got.emplace_back(r.get(i, 0));
                    }
                    if (r.rows() <= n) {
                        break;
                    }
                    p.after = std::make_pair(std::string(r.get(n - 1, r.column("cursor_key"))),
                                             std::string(r.get(n - 1, r.column("id"))));
                }
                ASSERT_EQ(got, want) << words << " window " << window << " limit " << limit;
            }
        }
    }
}

// A search item is written straight from the result's text: it must say what GET says of the
// same listing, field by field, and be valid JSON (call() parses it).
}  // namespace
}  // namespace restinu::property
