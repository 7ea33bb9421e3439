#include "restinu/rt/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <optional>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::rt {
namespace {

Handler h() {
    return [](Request&) -> Task<Response> { co_return Response::text(200, "ok"); };
}

TEST(Router, MatchesLiteralAndParameterSegments) {
    Router r;
    r.get("/api/v1/properties/{id}", Access::none(), h());
    r.get("/api/v1/properties/{id}/images/{image_id}", Access::none(), h());
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
    r.get("/users/{id}", Access::none(), h());
    r.get("/users/me", Access::none(), h());
    auto m = r.match(Method::Get, "/users/me", params);
    EXPECT_EQ(m.pattern, "/users/me");
    EXPECT_TRUE(params.empty());
    m = r.match(Method::Get, "/users/17", params);
    EXPECT_EQ(m.pattern, "/users/{id}");
}

TEST(Router, UnknownPathIsNotKnown) {
    Router r;
    r.get("/a", Access::none(), h());
    Request::Fields params;
    auto m = r.match(Method::Get, "/b", params);
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_FALSE(m.path_known);
    m = r.match(Method::Get, "/a/b", params);
    EXPECT_FALSE(m.path_known);
}

TEST(Router, WrongMethodIsKnownPathWithAllowList) {
    Router r;
    r.get("/items/{id}", Access::none(), h());
    r.patch("/items/{id}", Access::none(), h());
    Request::Fields params;
    auto m = r.match(Method::Delete, "/items/1", params);
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_TRUE(m.path_known);
    EXPECT_EQ(m.allow, "GET, PATCH, HEAD");
}

TEST(Router, HeadFallsBackToGet) {
    Router r;
    r.get("/x", Access::none(), h());
    Request::Fields params;
    auto m = r.match(Method::Head, "/x", params);
    EXPECT_NE(m.handler, nullptr);
}

TEST(Router, RestParameterTakesTheRemainder) {
    Router r;
    r.get("/static/{path...}", Access::none(), h());
    Request::Fields params;
    auto m = r.match(Method::Get, "/static/css/site.css", params);
    ASSERT_NE(m.handler, nullptr);
    ASSERT_EQ(params.size(), 1u);
    EXPECT_EQ(params[0].second, "css/site.css");
}

TEST(Router, TrailingAndDoubleSlashesDoNotMatter) {
    Router r;
    r.get("/a/b", Access::none(), h());
    Request::Fields params;
    EXPECT_NE(r.match(Method::Get, "/a/b/", params).handler, nullptr);
    EXPECT_NE(r.match(Method::Get, "//a//b", params).handler, nullptr);
}

TEST(Router, DuplicateRouteIsRejected) {
    Router r;
    r.get("/a", Access::none(), h());
    EXPECT_THROW(r.get("/a", Access::none(), h()), std::invalid_argument);
    EXPECT_NO_THROW(r.post("/a", Access::none(), h()));
}

// Every route carries its access rule, checked before its handler: a handler cannot forget it.
TEST(Router, AccessRulesAreCheckedBeforeTheHandler) {
    boost::asio::io_context io;
    Router r;
    int ran = 0;
    auto counting = [&ran](Request&) -> Task<Response> {
        ++ran;
        co_return Response::text(200, "ok");
    };
    r.get("/open", Access::none(), counting);
    r.get("/mine", Access::authenticated(), counting);
    r.get("/admin", Access::anyRole({"admin"}), counting);
    r.get("/desk", Access::anyRole({"agent", "admin"}), counting);
    auto status = [&](std::string_view path, std::optional<Identity> who) {
        Request req;
        req.identity = std::move(who);
        Request::Fields params;
        auto m = r.match(Method::Get, path, params);
        try {
            return runBlocking(io, (*m.handler)(req)).status;
        } catch (const ApiError& e) {
            return e.problem().type.status;
        }
    };
    Identity investor{"u1", {"investor"}, "s"};
    Identity admin{"u2", {"admin"}, "s"};
    EXPECT_EQ(status("/open", std::nullopt), 200);
    EXPECT_EQ(status("/mine", std::nullopt), 401);
    EXPECT_EQ(status("/mine", investor), 200);
    EXPECT_EQ(status("/admin", std::nullopt), 401);
    EXPECT_EQ(status("/admin", investor), 403);
    EXPECT_EQ(status("/admin", admin), 200);
    EXPECT_EQ(status("/desk", admin), 200);
    EXPECT_EQ(ran, 4);  // only the allowed calls reached the handler
    // The role source, when set, decides (the token said admin; the service knows better).
    r.setRoleSource([](Request& req) -> Task<std::vector<std::string>> {
        co_return std::vector<std::string>{req.identity->user_id == "u2" ? "investor" : "agent"};
    });
    EXPECT_EQ(status("/admin", admin), 403);
    EXPECT_EQ(status("/desk", investor), 200);
    // Listed with the routes.
    std::map<std::string, std::string> listed;
    for (const auto& route : r.routes()) {
        listed[route.pattern] = route.access.describe();
    }
    EXPECT_EQ(listed, (std::map<std::string, std::string>{{"/admin", "role:admin"},
                                                          {"/desk", "role:agent|admin"},
                                                          {"/mine", "authenticated"},
                                                          {"/open", "none"}}));
    EXPECT_THROW(r.get("/nobody", Access::anyRole({}), counting), std::invalid_argument);
}

}  // namespace
}  // namespace restinu::rt
