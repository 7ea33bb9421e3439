#include "restinu/rt/http.hpp"

#include <gtest/gtest.h>

#include "restinu/rt/http_server.hpp"

namespace restinu::rt {
namespace {

TEST(Http, QueryParamsAreDecoded) {
    Request r;
    r.query = "q=sea+view&city=Pune&near=18.5%2C73.8&empty=&flag";
    EXPECT_EQ(r.queryParam("q"), "sea view");
    EXPECT_EQ(r.queryParam("city"), "Pune");
    EXPECT_EQ(r.queryParam("near"), "18.5,73.8");
    EXPECT_EQ(r.queryParam("empty"), "");
    EXPECT_EQ(r.queryParam("flag"), "");
    EXPECT_FALSE(r.queryParam("missing").has_value());
}

TEST(Http, AllQueryParamsInOrderDecoded) {
    Request r;
    r.query = "q=sea+view&&city=Pune&type=villa&type=plot&flag";
    auto all = r.queryParams();
    ASSERT_TRUE(all.has_value());
    std::vector<std::pair<std::string, std::string>> want{
        {"q", "sea view"}, {"city", "Pune"}, {"type", "villa"}, {"type", "plot"}, {"flag", ""}};
    EXPECT_EQ(*all, want);
    r.query = "ok=1&bad=%zz";
    EXPECT_FALSE(r.queryParams().has_value());
}

TEST(Http, MalformedEscapeIsNullopt) {
    EXPECT_FALSE(percentDecode("%4", false).has_value());
    EXPECT_FALSE(percentDecode("%zz", false).has_value());
    EXPECT_EQ(percentDecode("a%20b+c", false), "a b+c");
}

TEST(Http, HeaderLookupIgnoresCase) {
    Request r;
    r.headers = {{"Content-Type", "application/json"}, {"X-Request-Id", "abc"}};
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("x-request-id"), "abc");
    EXPECT_EQ(r.header("missing"), "");
    EXPECT_FALSE(r.hasHeader("missing"));
}

TEST(Http, IequalsFoldsLettersOnly) {
    EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("Host", "Hosts"));
    EXPECT_FALSE(iequals("Host", "Hoss"));
    // Pairs that differ only in bit 5 but are not letters: '@'/'`', '['/'{', '^'/'~'.
    EXPECT_FALSE(iequals("a@", "a`"));
    EXPECT_FALSE(iequals("x[", "x{"));
    EXPECT_FALSE(iequals("^", "~"));
    // Every ASCII letter against its other case, and a few neighbours.
    for (char c = 'a'; c <= 'z'; ++c) {
        std::string lo(1, c);
        std::string up(1, static_cast<char>(c - 'a' + 'A'));
        EXPECT_TRUE(iequals(lo, up)) << lo;
        EXPECT_FALSE(iequals(lo, std::string(1, static_cast<char>(c == 'z' ? 'a' : c + 1))));
    }
}

TEST(Http, MethodsRoundTrip) {
    for (auto m : {Method::Get, Method::Head, Method::Post, Method::Put, Method::Patch,
                   Method::Delete, Method::Options}) {
        EXPECT_EQ(parseMethod(methodName(m)), m);
    }
    EXPECT_EQ(parseMethod("BREW"), Method::Other);
}

TEST(Http, RequestIdsAreRandomHexAndClientIdsAreChecked) {
    auto a = newRequestId();
    auto b = newRequestId();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_TRUE(validRequestId("abc-123"));
    EXPECT_FALSE(validRequestId(""));
    EXPECT_FALSE(validRequestId("has space"));
    EXPECT_FALSE(validRequestId("quote\""));
    EXPECT_FALSE(validRequestId(std::string(129, 'a')));
}

}  // namespace
}  // namespace restinu::rt
