#include "restinu/rt/router.hpp"

#include <gtest/gtest.h>

namespace restinu::rt {
namespace {

Handler h() {
    return [](Request&) -> Task<Response> { co_return Response::text(200, "ok"); };
}

TEST(Router, MatchesLiteralAndParameterSegments) {
    Router r;
    r.get("/api/v1/properties/{id}", h());
    r.get("/api/v1/properties/{id}/images/{image_id}", h());
    Request::Fields params;
    auto m = r.match(Method::Get, "/api/v1/properties/42/images/7", params);
    ASSERT_NE(m.handler, nullptr);
    EXPECT_EQ(m.pattern, "/api/v1/properties/{id}/images/{image_id}");
    ASSERT_EQ(params.size(), 2u);
    EXPECT_EQ(params[0].first, "id");
    EXPECT_EQ(params[0].second, "42");
    EXPECT_EQ(params[1].first, "image_id");
    EXPECT_EQ(params[1].second, "7");
}

TEST(Router, LiteralBeatsParameterWhateverTheOrder) {
    Router r;
    Request::Fields params;
    r.get("/users/{id}", h());
    r.get("/users/me", h());
    auto m = r.match(Method::Get, "/users/me", params);
    EXPECT_EQ(m.pattern, "/users/me");
    EXPECT_TRUE(params.empty());
    m = r.match(Method::Get, "/users/17", params);
    EXPECT_EQ(m.pattern, "/users/{id}");
}

TEST(Router, UnknownPathIsNotKnown) {
    Router r;
    r.get("/a", h());
    Request::Fields params;
    auto m = r.match(Method::Get, "/b", params);
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_FALSE(m.path_known);
    m = r.match(Method::Get, "/a/b", params);
    EXPECT_FALSE(m.path_known);
}

TEST(Router, WrongMethodIsKnownPathWithAllowList) {
    Router r;
    r.get("/items/{id}", h());
    r.patch("/items/{id}", h());
    Request::Fields params;
    auto m = r.match(Method::Delete, "/items/1", params);
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_TRUE(m.path_known);
    EXPECT_EQ(m.allow, "GET, PATCH, HEAD");
}

TEST(Router, HeadFallsBackToGet) {
    Router r;
    r.get("/x", h());
    Request::Fields params;
    auto m = r.match(Method::Head, "/x", params);
    EXPECT_NE(m.handler, nullptr);
}

TEST(Router, RestParameterTakesTheRemainder) {
    Router r;
    r.get("/static/{path...}", h());
    Request::Fields params;
    auto m = r.match(Method::Get, "/static/css/site.css", params);
    ASSERT_NE(m.handler, nullptr);
    ASSERT_EQ(params.size(), 1u);
    EXPECT_EQ(params[0].second, "css/site.css");
}

TEST(Router, TrailingAndDoubleSlashesDoNotMatter) {
    Router r;
    r.get("/a/b", h());
    Request::Fields params;
    EXPECT_NE(r.match(Method::Get, "/a/b/", params).handler, nullptr);
    EXPECT_NE(r.match(Method::Get, "//a//b", params).handler, nullptr);
}

TEST(Router, DuplicateRouteIsRejected) {
    Router r;
    r.get("/a", h());
    EXPECT_THROW(r.get("/a", h()), std::invalid_argument);
    EXPECT_NO_THROW(r.post("/a", h()));
}

}  // namespace
}  // namespace restinu::rt
