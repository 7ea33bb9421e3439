#include "cached_answers.hpp"

#include <gtest/gtest.h>

#include <set>

#include "search_query.hpp"

namespace restinu::property {
namespace {

std::string keyOf(std::vector<std::pair<std::string, std::string>> query) {
    std::vector<rt::FieldError> errors;
    auto p = search::parse(query, errors);
    EXPECT_TRUE(errors.empty()) << errors.front().field << ": " << errors.front().reason;
    return search::cacheKey(p);
}

TEST(SearchCacheKey, EqualSearchesWrittenDifferentlyShareAKey) {
    EXPECT_EQ(keyOf({{"city", "Mumbai"}, {"type", "villa,apartment"}, {"limit", "5"}}),
              keyOf({{"limit", "5"}, {"type", "apartment,villa"}, {"city", "MUMBAI"}}));
    EXPECT_EQ(keyOf({{"status", "sold,active"}}), keyOf({{"status", "active,sold"}}));
}

TEST(SearchCacheKey, EveryFieldThatChangesTheAnswerChangesTheKey) {
    const auto base = keyOf({{"city", "Pune"}});
    const std::vector<std::vector<std::pair<std::string, std::string>>> others{
        {{"city", "Pune"}, {"q", "sea view"}},
        {{"city", "Pune"}, {"type", "villa"}},
        {{"city", "Pune"}, {"listing_type", "sale"}},
        {{"city", "Pune"}, {"status", "sold"}},
        {{"city", "Pune"}, {"min_price", "100"}},
        {{"city", "Pune"}, {"max_price", "100"}},
        {{"city", "Pune"}, {"min_price", "100"}, {"currency", "USD"}},
        {{"city", "Pune"}, {"min_bedrooms", "2"}},
        {{"city", "Pune"}, {"min_bathrooms", "2"}},
        {{"city", "Pune"}, {"min_area", "500"}},
        {{"city", "Pune"}, {"max_area", "500"}},
        {{"city", "Pune"}, {"min_vastu_score", "0"}},
        {{"city", "Pune"}, {"min_vastu_score", "70"}},
        {{"city", "Pune"}, {"near", "18.5,73.8"}, {"radius_km", "5"}},
        {{"city", "Pune"}, {"near", "18.5,73.8"}, {"radius_km", "5.000001"}},
        {{"city", "Pune"}, {"bbox", "73.7,18.4,73.9,18.6"}},
        {{"city", "Pune"}, {"sort", "price_asc"}},
        {{"city", "Pune"}, {"limit", "21"}},
        {{"city", "Pune"}, {"facets", "type"}},
        {{"city", "Pune"}, {"facets", "type,city"}},
        {{"city", "Pune"}, {"facets", "city,type"}},  // the facets come in the order asked
    };
    std::set<std::string> seen{base};
    for (const auto& q : others) {
        auto k = keyOf(q);
        EXPECT_TRUE(seen.insert(k).second) << k;
    }
}

TEST(SearchCacheKey, NoTextCanPoseAsAnotherField) {
    // Without the length prefix, this text would end the q field and forge a city.
    auto forged = keyOf({{"q", "x;city=1:a"}});
    auto honest = keyOf({{"q", "x"}, {"city", "a"}});
    EXPECT_NE(forged, honest);
}

TEST(CachedAnswers, AListingAndAPageComeBackAsTheyWentIn) {
    const auto stored = CachedListing::encode("draft", "owner-1", "\"3\"", "{\"title\":\"a\\nb\"}");
    auto l = CachedListing::decode(stored);
    EXPECT_EQ(l.status, "draft");
    EXPECT_EQ(l.owner_id, "owner-1");
    EXPECT_EQ(l.etag, "\"3\"");
    EXPECT_EQ(l.body, "{\"title\":\"a\\nb\"}");
    const auto page_a = CachedPage::encode("{\"items\":[]}");
    const auto page_b = CachedPage::encode("{\"items\":[1]}");
    auto a = CachedPage::decode(page_a);
    auto b = CachedPage::decode(page_b);
    EXPECT_EQ(a.body, "{\"items\":[]}");
    EXPECT_EQ(a.etag.size(), 18u);  // a quoted 64-bit hash
    EXPECT_NE(a.etag, b.etag);
}

TEST(CachedAnswers, EtagListsMatchAsRfc9110Says) {
    EXPECT_TRUE(etagListNames("\"3\"", "\"3\""));
    EXPECT_TRUE(etagListNames("\"1\", W/\"3\"", "\"3\""));
    EXPECT_TRUE(etagListNames("*", "\"3\""));
    EXPECT_FALSE(etagListNames("\"31\"", "\"3\""));
    EXPECT_FALSE(etagListNames("", "\"3\""));
    EXPECT_FALSE(etagListNames("3", "\"3\""));
}

TEST(CachedAnswers, AListingKeyIgnoresTheCaseOfTheId) {
    EXPECT_EQ(listingKey("0193A0B2-0000-7000-8000-00000000ABCD"),
              listingKey("0193a0b2-0000-7000-8000-00000000abcd"));
}

}  // namespace
}  // namespace restinu::property
