#include "cors_stage.hpp"

#include <gtest/gtest.h>

namespace restinu::gateway {
namespace {

TEST(Cors, OnlyConfiguredOrigins) {
    std::vector<std::string> allowed{"https://app.restinu.dev"};
    EXPECT_TRUE(corsAllowed("https://app.restinu.dev", allowed));
    EXPECT_FALSE(corsAllowed("https://evil.example", allowed));
    EXPECT_FALSE(corsAllowed("", allowed));
    EXPECT_FALSE(corsAllowed("https://app.restinu.dev", {}));
    EXPECT_TRUE(corsAllowed("https://any.example", {"*"}));
    auto h = corsPreflightHeaders("https://app.restinu.dev", "content-type", 600);
    EXPECT_EQ(h[0].second, "https://app.restinu.dev");
    EXPECT_EQ(h.back().second, "content-type");
}

rt::Request preflight(std::string_view origin) {
    rt::Request req;
    req.method = rt::Method::Options;
    req.headers = {{"Origin", origin},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "authorization"}};
    return req;
}

TEST(Cors, APreflightIsAnsweredAtTheEdgeWithHeadersOnlyForAnAllowedOrigin) {
    std::vector<std::string> allowed{"https://app.restinu.dev"};
    auto ok =
        corsPreflight(preflight("https://app.restinu.dev"), allowed, std::chrono::minutes(10));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 204);
    EXPECT_EQ(ok->header("Access-Control-Allow-Origin"), "https://app.restinu.dev");
    EXPECT_EQ(ok->header("Access-Control-Max-Age"), "600");
    EXPECT_EQ(ok->header("Access-Control-Allow-Headers"), "authorization");

    auto other =
        corsPreflight(preflight("https://evil.example"), allowed, std::chrono::minutes(10));
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 204);
    EXPECT_TRUE(other->headers.empty());
}

TEST(Cors, OtherRequestsGoOn) {
    std::vector<std::string> allowed{"https://app.restinu.dev"};
    auto req = preflight("https://app.restinu.dev");
    req.method = rt::Method::Post;
    EXPECT_FALSE(corsPreflight(req, allowed, std::chrono::minutes(10)));
    // A plain OPTIONS (no Access-Control-Request-Method) is the service's to answer.
    req.method = rt::Method::Options;
    req.headers = {{"Origin", "https://app.restinu.dev"}};
    EXPECT_FALSE(corsPreflight(req, allowed, std::chrono::minutes(10)));
    // No origins configured: no CORS at all, the preflight goes on like any request.
    EXPECT_FALSE(corsPreflight(preflight("https://app.restinu.dev"), {}, std::chrono::minutes(10)));
}

}  // namespace
}  // namespace restinu::gateway
