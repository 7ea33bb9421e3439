#include "restinu/rt/identity.hpp"

#include <gtest/gtest.h>

#include "restinu/rt/digest.hpp"
#include "restinu/rt/spool.hpp"

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

constexpr std::string_view kIp = "203.0.113.5";
constexpr std::string_view kRid = "3f1c0a7e9b2d4c58a1e6f7092b3c4d5e";

SignedMessage message(std::string_view method, std::string_view target, std::string_view body = "",
                      std::string_view rid = kRid) {
    return {method, target, rid, body};
}

// Headers signed for alice on `method target` with `body`, and the request id header.
std::vector<std::pair<std::string, std::string>> signedFor(
    std::string_view method, std::string_view target, std::string_view body = "",
    std::string_view secret = kSecret, std::int64_t now = kNow, const Identity* who = nullptr) {
    auto a = alice();
    auto h =
        signIdentity(who != nullptr ? who : &a, kIp, message(method, target, body), secret, now);
    h.emplace_back("X-Request-Id", std::string(kRid));
    return h;
}

IdentityCheck check(SignedRequest& r, std::int64_t now = kNow, VerifiedIdentity* out = nullptr,
                    std::string* why = nullptr) {
    return verifyIdentity(r.req, kSecret, now, std::chrono::seconds(10), out, why);
}

TEST(Identity, ASignedIdentityVerifiesAndCarriesUserRolesSessionAndAddress) {
    SignedRequest r("GET", "/api/v1/users/me?x=1", signedFor("GET", "/api/v1/users/me?x=1"));
    VerifiedIdentity who;
    ASSERT_EQ(check(r, kNow + 5, &who), IdentityCheck::Valid);
    ASSERT_TRUE(who.user);
    EXPECT_EQ(who.user->user_id, alice().user_id);
    EXPECT_EQ(who.user->roles, (std::vector<std::string>{"agent", "admin"}));
    EXPECT_TRUE(who.user->hasRole("admin"));
    EXPECT_FALSE(who.user->hasRole("investor"));
    EXPECT_EQ(who.user->session_id, "s-1");
    EXPECT_EQ(who.client_ip, kIp);
    EXPECT_EQ(who.mac.size(), 64u);
    EXPECT_EQ(who.signed_at, kNow);
}

TEST(Identity, AnAnonymousCallerIsSignedWithItsAddress) {
    auto h = signIdentity(nullptr, kIp, message("GET", "/x"), kSecret, kNow);
    h.emplace_back("X-Request-Id", std::string(kRid));
    SignedRequest r("GET", "/x", h);
    VerifiedIdentity who;
    ASSERT_EQ(check(r, kNow, &who), IdentityCheck::Valid);
    EXPECT_FALSE(who.user);
    EXPECT_EQ(who.client_ip, kIp);
    // ... and that address cannot be swapped.
    for (auto& [k, v] : h) {
        if (k == kIdentityClientIpHeader) {
            v = "198.51.100.1";
        }
    }
    SignedRequest moved("GET", "/x", h);
    EXPECT_EQ(check(moved), IdentityCheck::Invalid);
}

TEST(Identity, NoIdentityHeadersIsAbsentNotAnError) {
    SignedRequest r("GET", "/x", {{"Accept", "application/json"}});
    EXPECT_EQ(check(r), IdentityCheck::Absent);
}

TEST(Identity, AClientClaimingAnIdentityWithoutTheSecretIsRefused) {
    // Unsigned, as a client talking to a service directly would send it.
    SignedRequest bare("GET", "/x", {{"X-Restinu-User-Id", alice().user_id}});
    std::string why;
    EXPECT_EQ(check(bare, kNow, nullptr, &why), IdentityCheck::Invalid);
    EXPECT_FALSE(why.empty());
    // Signed with another secret.
    SignedRequest other("GET", "/x", signedFor("GET", "/x", "", "guessed"));
    EXPECT_EQ(check(other), IdentityCheck::Invalid);
    // A service without a secret accepts no identity at all.
    SignedRequest good("GET", "/x", signedFor("GET", "/x"));
    EXPECT_EQ(verifyIdentity(good.req, "", kNow, std::chrono::seconds(10), nullptr),
              IdentityCheck::Invalid);
    // The first version's signature (no body, no request id) is not accepted.
    SignedRequest v1("GET", "/x",
                     {{"X-Restinu-User-Id", "u"}, {"X-Restinu-Identity", "t=1790000000,v1=00"}});
    EXPECT_EQ(check(v1), IdentityCheck::Invalid);
}

TEST(Identity, ChangingAnySignedPartBreaksTheSignature) {
    auto headers = signedFor("POST", "/api/v1/properties", R"({"price":1})");
    auto verdict = [&](std::string_view method, std::string_view target, std::string_view body,
                       std::vector<std::pair<std::string, std::string>> h) {
        SignedRequest r(method, target, std::move(h));
        r.req.body = body;
        return check(r);
    };
    EXPECT_EQ(verdict("POST", "/api/v1/properties", R"({"price":1})", headers),
              IdentityCheck::Valid);
    EXPECT_EQ(verdict("PATCH", "/api/v1/properties", R"({"price":1})", headers),
              IdentityCheck::Invalid);
    EXPECT_EQ(verdict("POST", "/api/v1/admin/users", R"({"price":1})", headers),
              IdentityCheck::Invalid);
    // Another body under the same signature: the replay the first version allowed.
    EXPECT_EQ(verdict("POST", "/api/v1/properties", R"({"price":2})", headers),
              IdentityCheck::Invalid);
    EXPECT_EQ(verdict("POST", "/api/v1/properties", "", headers), IdentityCheck::Invalid);
    for (std::size_t i = 0; i < 4; ++i) {  // user, roles, session, client address
        auto h = headers;
        h[i].second += "x";
        EXPECT_EQ(verdict("POST", "/api/v1/properties", R"({"price":1})", h),
                  IdentityCheck::Invalid)
            << h[i].first;
    }
    auto other_id = headers;
    other_id.back().second = "ffffffffffffffffffffffffffffffff";  // X-Request-Id
    EXPECT_EQ(verdict("POST", "/api/v1/properties", R"({"price":1})", other_id),
              IdentityCheck::Invalid);
    auto promoted = headers;
    promoted[1].second = "admin";
    EXPECT_EQ(verdict("POST", "/api/v1/properties", R"({"price":1})", promoted),
              IdentityCheck::Invalid);
}

// A spooled upload is signed by its digest: the same signature as over its bytes, and a file
// with other bytes does not verify.
TEST(Identity, ASpooledBodyIsSignedAndCheckedByItsDigest) {
    const std::string body = "the photo's bytes";
    const auto digest = sha256Hex(body);
    auto a = alice();
    const SignedMessage by_digest{"POST", "/up", kRid, "", digest};
    auto h = signIdentity(&a, kIp, by_digest, kSecret, kNow);
    h.emplace_back("X-Request-Id", std::string(kRid));
    EXPECT_EQ(h, signedFor("POST", "/up", body));
    SignedRequest r("POST", "/up", h);
    auto file = SpooledBody::create("");
    file->append(body);
    file->finish();
    r.req.spooled = file;
    EXPECT_EQ(check(r), IdentityCheck::Valid);
    auto other = SpooledBody::create("");
    other->append("other bytes");
    other->finish();
    r.req.spooled = other;
    EXPECT_EQ(check(r), IdentityCheck::Invalid);
}

TEST(Identity, AStaleOrFutureSignatureIsRefused) {
    SignedRequest r("GET", "/x", signedFor("GET", "/x"));
    EXPECT_EQ(check(r, kNow + 10), IdentityCheck::Valid);
    EXPECT_EQ(check(r, kNow + 11), IdentityCheck::Invalid);
    EXPECT_EQ(check(r, kNow - 11), IdentityCheck::Invalid);
}

TEST(Identity, MalformedSignatureHeadersAreInvalidNotCrashes) {
    for (std::string sig :
         {"", "t=", "t=abc,v2=00", "v2=00,t=1", "t=1790000000", "t=1,v2=", "t=1790000000,v1=00"}) {
        SignedRequest r("GET", "/x", {{"X-Restinu-User-Id", "u"}, {"X-Restinu-Identity", sig}});
        EXPECT_EQ(check(r), IdentityCheck::Invalid) << sig;
    }
}

TEST(Identity, EveryXRestinuHeaderCountsAsIdentity) {
    EXPECT_TRUE(isIdentityHeader("X-Restinu-User-Id"));
    EXPECT_TRUE(isIdentityHeader("X-Restinu-Client-Ip"));
    EXPECT_TRUE(isIdentityHeader("x-restinu-anything"));
    EXPECT_FALSE(isIdentityHeader("X-Request-Id"));
    EXPECT_FALSE(isIdentityHeader("X-Restin"));
}

TEST(ReplayCache, ASignatureIsAcceptedOnceWithinItsWindow) {
    ReplayCache cache;
    EXPECT_TRUE(cache.firstSeen("mac-a", kNow + 10, kNow));
    EXPECT_FALSE(cache.firstSeen("mac-a", kNow + 10, kNow + 5));
    EXPECT_TRUE(cache.firstSeen("mac-b", kNow + 10, kNow + 5));
    // After the window the entries go (the signature itself is stale by then).
    EXPECT_TRUE(cache.firstSeen("mac-c", kNow + 21, kNow + 11));
    EXPECT_EQ(cache.size(), 1u);
}

TEST(ReplayCache, StaysWithinItsCapacity) {
    ReplayCache cache(100);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(cache.firstSeen("mac-" + std::to_string(i), kNow + 10, kNow));
    }
    EXPECT_LE(cache.size(), 100u);
    EXPECT_FALSE(cache.firstSeen("mac-999", kNow + 10, kNow));
}

}  // namespace
}  // namespace restinu::rt
