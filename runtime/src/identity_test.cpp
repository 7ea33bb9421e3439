#include "restinu/rt/identity.hpp"

#include <gtest/gtest.h>

namespace restinu::rt {
namespace {

constexpr std::string_view kSecret = "a shared secret of the gateway";
constexpr std::int64_t kNow = 1'790'000'000;

// A request carrying `headers`, as the server would hand it to the middleware.
struct SignedRequest {
    std::vector<std::pair<std::string, std::string>> owned;
    Request req;

    SignedRequest(std::string_view method, std::string_view target,
                  std::vector<std::pair<std::string, std::string>> headers)
        : owned(std::move(headers)) {
        req.method_name = method;
        req.target = target;
        for (const auto& [n, v] : owned) {
            req.headers.emplace_back(n, v);
        }
    }
};

Identity alice() {
    return {"0190a0d2-0000-7000-8000-000000000001", {"agent", "admin"}, "s-1"};
}

TEST(Identity, ASignedIdentityVerifiesAndCarriesUserRolesAndSession) {
    SignedRequest r("GET", "/api/v1/users/me?x=1",
                    signIdentity(alice(), "GET", "/api/v1/users/me?x=1", kSecret, kNow));
    Identity who;
    ASSERT_EQ(verifyIdentity(r.req, kSecret, kNow + 5, std::chrono::seconds(60), &who),
              IdentityCheck::Valid);
    EXPECT_EQ(who.user_id, alice().user_id);
    EXPECT_EQ(who.roles, (std::vector<std::string>{"agent", "admin"}));
    EXPECT_TRUE(who.hasRole("admin"));
    EXPECT_FALSE(who.hasRole("investor"));
    EXPECT_EQ(who.session_id, "s-1");
}

TEST(Identity, NoIdentityHeadersIsAnonymousNotAnError) {
    SignedRequest r("GET", "/x", {{"Accept", "application/json"}});
    EXPECT_EQ(verifyIdentity(r.req, kSecret, kNow, std::chrono::seconds(60), nullptr),
              IdentityCheck::Absent);
}

TEST(Identity, AClientClaimingAnIdentityWithoutTheSecretIsRefused) {
    // Unsigned, as a client talking to a service directly would send it.
    SignedRequest bare("GET", "/x", {{"X-Restinu-User-Id", alice().user_id}});
    std::string why;
    EXPECT_EQ(verifyIdentity(bare.req, kSecret, kNow, std::chrono::seconds(60), nullptr, &why),
              IdentityCheck::Invalid);
    EXPECT_FALSE(why.empty());
    // Signed with another secret.
    SignedRequest other("GET", "/x", signIdentity(alice(), "GET", "/x", "guessed", kNow));
    EXPECT_EQ(verifyIdentity(other.req, kSecret, kNow, std::chrono::seconds(60), nullptr),
              IdentityCheck::Invalid);
    // A service without a secret accepts no identity at all.
    SignedRequest good("GET", "/x", signIdentity(alice(), "GET", "/x", kSecret, kNow));
    EXPECT_EQ(verifyIdentity(good.req, "", kNow, std::chrono::seconds(60), nullptr),
              IdentityCheck::Invalid);
}

TEST(Identity, ChangingAnySignedPartBreaksTheSignature) {
    auto headers = signIdentity(alice(), "GET", "/api/v1/users/me", kSecret, kNow);
    auto check = [&](std::string_view method, std::string_view target,
                     std::vector<std::pair<std::string, std::string>> h) {
        SignedRequest r(method, target, std::move(h));
        return verifyIdentity(r.req, kSecret, kNow, std::chrono::seconds(60), nullptr);
    };
    EXPECT_EQ(check("GET", "/api/v1/users/me", headers), IdentityCheck::Valid);
    EXPECT_EQ(check("DELETE", "/api/v1/users/me", headers), IdentityCheck::Invalid);
    EXPECT_EQ(check("GET", "/api/v1/admin/users", headers), IdentityCheck::Invalid);
    for (std::size_t i = 0; i < 3; ++i) {  // user, roles, session
        auto h = headers;
        h[i].second += "x";
        EXPECT_EQ(check("GET", "/api/v1/users/me", h), IdentityCheck::Invalid) << h[i].first;
    }
    auto promoted = headers;
    promoted[1].second = "admin";
    EXPECT_EQ(check("GET", "/api/v1/users/me", promoted), IdentityCheck::Invalid);
}

TEST(Identity, AStaleOrFutureSignatureIsRefused) {
    SignedRequest r("GET", "/x", signIdentity(alice(), "GET", "/x", kSecret, kNow));
    auto age = std::chrono::seconds(60);
    EXPECT_EQ(verifyIdentity(r.req, kSecret, kNow + 60, age, nullptr), IdentityCheck::Valid);
    EXPECT_EQ(verifyIdentity(r.req, kSecret, kNow + 61, age, nullptr), IdentityCheck::Invalid);
    EXPECT_EQ(verifyIdentity(r.req, kSecret, kNow - 61, age, nullptr), IdentityCheck::Invalid);
}

TEST(Identity, MalformedSignatureHeadersAreInvalidNotCrashes) {
    for (std::string sig : {"", "t=", "t=abc,v1=00", "v1=00,t=1", "t=1790000000", "t=1,v1="}) {
        SignedRequest r("GET", "/x", {{"X-Restinu-User-Id", "u"}, {"X-Restinu-Identity", sig}});
        EXPECT_EQ(verifyIdentity(r.req, kSecret, kNow, std::chrono::seconds(60), nullptr),
                  IdentityCheck::Invalid)
            << sig;
    }
}

TEST(Identity, EveryXRestinuHeaderCountsAsIdentity) {
    EXPECT_TRUE(isIdentityHeader("X-Restinu-User-Id"));
    EXPECT_TRUE(isIdentityHeader("x-restinu-anything"));
    EXPECT_FALSE(isIdentityHeader("X-Request-Id"));
    EXPECT_FALSE(isIdentityHeader("X-Restin"));
}

}  // namespace
}  // namespace restinu::rt
