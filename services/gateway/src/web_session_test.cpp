#include "web_session.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace restinu::gateway {
namespace {

rt::Request post(std::string_view path, std::string_view cookie = {}, std::string_view csrf = {},
                 std::string_view site = "same-origin") {
    rt::Request req;
    req.method = rt::Method::Post;
    req.path = path;
    req.body = "{}";
    req.headers = {{"Sec-Fetch-Site", site}, {"Cookie", cookie}, {"X-CSRF-Token", csrf}};
    return req;
}

std::vector<std::string> setCookies(const rt::Response& res) {
    std::vector<std::string> out;
    for (const auto& [k, v] : res.headers) {
        if (k == "Set-Cookie") {
            out.push_back(v);
        }
    }
    return out;
}

TEST(WebSession, OnlyAPageOfOurOwnOriginGetsCookies) {
    EXPECT_EQ(webSessionCall(post("/api/v1/auth/login")), SessionCall::Login);
    EXPECT_EQ(webSessionCall(post("/api/v1/auth/refresh")), SessionCall::Refresh);
    EXPECT_EQ(webSessionCall(post("/api/v1/auth/logout")), SessionCall::Logout);
    // curl, an app, another site: the JSON contract, untouched.
    EXPECT_EQ(webSessionCall(post("/api/v1/auth/login", {}, {}, "")), SessionCall::None);
    EXPECT_EQ(webSessionCall(post("/api/v1/auth/login", {}, {}, "cross-site")), SessionCall::None);
    EXPECT_EQ(webSessionCall(post("/api/v1/auth/register")), SessionCall::None);
    auto get = post("/api/v1/auth/refresh");
    get.method = rt::Method::Get;
    EXPECT_EQ(webSessionCall(get), SessionCall::None);
}

TEST(WebSession, CookieValuesAreFoundByExactName) {
    EXPECT_EQ(cookieValue("a=1; restinu_csrf=xyz; b=2", "restinu_csrf"), "xyz");
    EXPECT_EQ(cookieValue("restinu_csrf_old=1;restinu_csrf=z", "restinu_csrf"), "z");
    EXPECT_FALSE(cookieValue("xrestinu_csrf=1", "restinu_csrf"));
    EXPECT_FALSE(cookieValue("", "restinu_csrf"));
}

TEST(WebSession, LoginMovesTheRefreshTokenFromTheBodyIntoAnHttpOnlyCookie) {
    rt::Response res{200, "application/json",
                     R"({"access_token":"at","expires_in":900,"refresh_token":"rt-secret"})"};
    finishWebSession(SessionCall::Login, res, std::chrono::hours(720));
    auto body = boost::json::parse(res.body).as_object();
    EXPECT_FALSE(body.contains("refresh_token"));
    EXPECT_EQ(body.at("access_token").as_string(), "at");
    auto cookies = setCookies(res);
    ASSERT_EQ(cookies.size(), 2U);
    EXPECT_EQ(cookies[0],
              "restinu_refresh=rt-secret; Path=/api/v1/auth; Max-Age=2592000; "
              "HttpOnly; Secure; SameSite=Strict");
    EXPECT_TRUE(cookies[1].starts_with("restinu_csrf=")) << cookies[1];
    EXPECT_EQ(cookies[1].find("HttpOnly"), std::string::npos);  // the page reads it
    EXPECT_NE(cookies[1].find("SameSite=Strict"), std::string::npos);
    // A failed login sets nothing.
    rt::Response refused{401, "application/problem+json", R"({"type":"x"})"};
    finishWebSession(SessionCall::Login, refused, std::chrono::hours(1));
    EXPECT_TRUE(setCookies(refused).empty());
}

TEST(WebSession, RefreshSendsTheCookiesTokenOnlyWithTheMatchingCsrfHeader) {
    std::string body;
    auto ok = post("/api/v1/auth/refresh", "restinu_refresh=tok1; restinu_csrf=c5rf", "c5rf");
    EXPECT_FALSE(prepareWebSession(ok, SessionCall::Refresh, body));
    EXPECT_EQ(ok.body, R"({"refresh_token":"tok1"})");

    for (std::string_view bad : {"", "c5rg", "c5r", "c5rff"}) {
        auto req = post("/api/v1/auth/refresh", "restinu_refresh=tok1; restinu_csrf=c5rf", bad);
        auto refused = prepareWebSession(req, SessionCall::Refresh, body);
        ASSERT_TRUE(refused) << bad;
        EXPECT_EQ(refused->type.slug, "csrf-failed");
        EXPECT_EQ(req.body, "{}");  // nothing sent on
    }
    auto no_cookie = post("/api/v1/auth/refresh", "restinu_csrf=c5rf", "c5rf");
    auto refused = prepareWebSession(no_cookie, SessionCall::Refresh, body);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->type.slug, "invalid-refresh-token");
    // A client that sends its own token keeps the JSON contract.
    auto own = post("/api/v1/auth/refresh");
    own.body = R"({"refresh_token":"mine"})";
    EXPECT_FALSE(prepareWebSession(own, SessionCall::Refresh, body));
    EXPECT_EQ(own.body, R"({"refresh_token":"mine"})");
}

TEST(WebSession, LogoutAndARefusedRefreshClearBothCookies) {
    for (auto [call, status] :
         {std::pair{SessionCall::Logout, 204}, std::pair{SessionCall::Refresh, 401}}) {
        rt::Response res{status, "", ""};
        finishWebSession(call, res, std::chrono::hours(1));
        auto cookies = setCookies(res);
        ASSERT_EQ(cookies.size(), 2U);
        EXPECT_TRUE(cookies[0].starts_with("restinu_refresh=; ")) << cookies[0];
        EXPECT_NE(cookies[0].find("Max-Age=0"), std::string::npos);
        EXPECT_TRUE(cookies[1].starts_with("restinu_csrf=; ")) << cookies[1];
    }
}

}  // namespace
}  // namespace restinu::gateway
