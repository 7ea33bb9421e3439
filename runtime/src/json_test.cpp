#include "restinu/rt/json.hpp"

#include <gtest/gtest.h>

#include "restinu/rt/problem.hpp"

namespace restinu::rt {
namespace {

Request withBody(std::string_view content_type, std::string_view body) {
    Request r;
    r.headers = {{"Content-Type", content_type}};
    r.body = body;
    return r;
}

int statusOf(const Request& r) {
    try {
        parseJsonBody(r);
    } catch (const ApiError& e) {
        return e.problem().type.status;
    }
    return 0;
}

TEST(JsonBody, ParsesValidJson) {
    auto v = parseJsonBody(withBody("application/json; charset=utf-8", R"({"a":[1,2]})"));
    EXPECT_EQ(v.at("a").as_array().size(), 2u);
    EXPECT_NO_THROW(parseJsonBody(withBody("application/merge-patch+json", "{}")));
}

TEST(JsonBody, MalformedIs400WithPosition) {
    try {
        parseJsonBody(withBody("application/json", R"({"a": tru})"));
        FAIL();
    } catch (const ApiError& e) {
        EXPECT_EQ(e.problem().type.slug, "malformed-json");
        EXPECT_EQ(e.problem().type.status, 400);
        EXPECT_NE(e.problem().detail.find("near byte"), std::string::npos);
    }
    EXPECT_EQ(statusOf(withBody("application/json", "")), 400);
    EXPECT_EQ(statusOf(withBody("application/json", "{} trailing")), 400);
    EXPECT_EQ(statusOf(withBody("application/json", "{\"a\":1")), 400);
}

TEST(JsonBody, WrongMediaTypeIs415) {
    EXPECT_EQ(statusOf(withBody("text/plain", "{}")), 415);
    EXPECT_EQ(statusOf(withBody("", "{}")), 415);
}

}  // namespace
}  // namespace restinu::rt
