#include "edge.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "auth.hpp"
#include "idempotency.hpp"
#include "settings.hpp"

namespace restinu::gateway {
namespace {

TEST(ClientIp, ForwardedForIsBelievedOnlyFromTrustedProxies) {
    std::vector<std::string> trusted{"10.0.0.1", "10.0.0.2"};
    EXPECT_EQ(clientIp("203.0.113.9", "1.2.3.4", trusted), "203.0.113.9");
    EXPECT_EQ(clientIp("10.0.0.1", "198.51.100.7", trusted), "198.51.100.7");
    // A client-made prefix is skipped: the rightmost untrusted address is the client.
    EXPECT_EQ(clientIp("10.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2", trusted), "198.51.100.7");
    EXPECT_EQ(clientIp("10.0.0.1", "", trusted), "10.0.0.1");
    EXPECT_EQ(forwardedFor("203.0.113.9", "1.2.3.4", trusted), "203.0.113.9");
    EXPECT_EQ(forwardedFor("10.0.0.1", "198.51.100.7", trusted), "198.51.100.7, 10.0.0.1");
}

TEST(Path, RepeatedSlashesMergeAndDotSegmentsAreRefused) {
    for (std::string_view normal : {"/api/v1/auth/login", "/", "/api/v1/properties/", "/a.b/c."}) {
        EXPECT_TRUE(pathIsNormal(normal)) << normal;
        EXPECT_EQ(normalisePath(normal), std::string(normal));
    }
    for (std::string_view odd : {"//api/v1/auth/login", "/api/v1/auth//login", "/x/%41"}) {
        EXPECT_FALSE(pathIsNormal(odd)) << odd;
    }
    EXPECT_EQ(normalisePath("//api/v1/auth/login"), "/api/v1/auth/login");
    EXPECT_EQ(normalisePath("/api/v1/auth//login"), "/api/v1/auth/login");
    EXPECT_EQ(normalisePath("///api///v1/auth/login//"), "/api/v1/auth/login/");
    EXPECT_EQ(normalisePath("/api/v1/properties/a%20b"), "/api/v1/properties/a%20b");
    // A segment that starts with a dot is not a dot segment (the quick check sends it here).
    EXPECT_FALSE(pathIsNormal("/.well-known/jwks.json"));
    EXPECT_EQ(normalisePath("/.well-known/jwks.json"), "/.well-known/jwks.json");
    for (std::string_view bad :
         {"/api/v1/./auth/login", "/api/v1/x/../auth/login", "/api/v1/auth/..", "/api/%2e%2E/x",
          "/api/.%2e/x", "/api/v1/auth%2flogin", "/api/v1/auth%2Flogin", "/api/a%5cb",
          "/api/%zz"}) {
        EXPECT_FALSE(pathIsNormal(bad)) << bad;
        EXPECT_EQ(normalisePath(bad), std::nullopt) << bad;
    }
}

TEST(TraceContext, KeepsTheTraceIdWithANewParent) {
    std::string in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    EXPECT_TRUE(validTraceparent(in));
    auto out = nextTraceparent(in);
    EXPECT_TRUE(validTraceparent(out));
    EXPECT_EQ(out.substr(0, 36), in.substr(0, 36));
    EXPECT_NE(out.substr(36, 16), in.substr(36, 16));
    EXPECT_EQ(out.substr(52), "-01");
    EXPECT_FALSE(validTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
    EXPECT_FALSE(validTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    EXPECT_FALSE(validTraceparent("garbage"));
    EXPECT_TRUE(validTraceparent(nextTraceparent("garbage")));
}

TEST(Bearer, ParsesTheAuthorizationHeader) {
    EXPECT_FALSE(bearerToken("").has_value());
    EXPECT_EQ(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
    EXPECT_EQ(bearerToken("bearer  abc "), "abc");
    EXPECT_EQ(bearerToken("Basic dXNlcjpwYXNz"), "");  // present but not a bearer token
}

TEST(TokenCache, KeepsTokensUntilTheyExpireAndStaysBounded) {
    TokenCache c(2);
    rt::AccessClaims a;
    a.subject = "u1";
    a.expires_at = 100;
    c.put("t1", a, 50);
    ASSERT_NE(c.find("t1", 99), nullptr);
    EXPECT_EQ(c.find("t1", 99)->subject, "u1");
    EXPECT_EQ(c.find("t1", 100), nullptr);
    // Claims handed out stay valid after their entry is dropped.
    auto held = c.put("t1", a, 50);
    c.put("t2", a, 50);
    c.put("t3", a, 50);
    c.put("t4", a, 50);
    EXPECT_EQ(held->subject, "u1");
    c.put("t1", a, 50);
    c.put("t2", a, 50);
    c.put("t3", a, 50);
    EXPECT_LE(c.size(), 2u);
}

TEST(RefreshGate, AtMostOneFetchPerInterval) {
    RefreshGate g(std::chrono::milliseconds(5000));
    EXPECT_TRUE(g.tryAcquire(1000));
    EXPECT_FALSE(g.tryAcquire(1001));
    EXPECT_FALSE(g.tryAcquire(5999));
    EXPECT_TRUE(g.tryAcquire(6000));
}

TEST(Idempotency, KeysAreSfStringsOrBareTokens) {
    EXPECT_EQ(parseIdempotencyKey("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""),
              "8e03978e-40d5-43e8-bc93-6894a57f9324");
    EXPECT_EQ(parseIdempotencyKey("abc"), "abc");
    EXPECT_FALSE(parseIdempotencyKey("").has_value());
    EXPECT_FALSE(parseIdempotencyKey("\"\"").has_value());
    EXPECT_FALSE(parseIdempotencyKey("has space").has_value());
    EXPECT_FALSE(parseIdempotencyKey(std::string(256, 'a')).has_value());
}

TEST(Idempotency, FingerprintBindsMethodTargetAndBody) {
    auto f = requestFingerprint("POST", "/api/v1/auth/register", "{\"a\":1}");
    EXPECT_EQ(f.size(), 64u);
    EXPECT_EQ(f, requestFingerprint("POST", "/api/v1/auth/register", "{\"a\":1}"));
    EXPECT_NE(f, requestFingerprint("POST", "/api/v1/auth/register", "{\"a\":2}"));
    EXPECT_NE(f, requestFingerprint("PATCH", "/api/v1/auth/register", "{\"a\":1}"));
    EXPECT_NE(f, requestFingerprint("POST", "/api/v1/auth/login", "{\"a\":1}"));
    // Field boundaries count: moving bytes from target to body changes the fingerprint.
    EXPECT_NE(requestFingerprint("POST", "/ab", "c"), requestFingerprint("POST", "/a", "bc"));
    EXPECT_NE(idempotencyRedisKey("u:1", "k"), idempotencyRedisKey("u:2", "k"));
}

TEST(Idempotency, StoredAnswersRoundTripBinarySafe) {
    StoredAnswer a{201,
                   "application/json",
                   {{"Location", "/x/1"}, {"ETag", "\"v1\""}},
                   std::string("{\"id\":1}\0\n:9:", 14)};
    auto back = decodeAnswer(encodeAnswer(a));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->status, 201);
    EXPECT_EQ(back->content_type, "application/json");
    EXPECT_EQ(back->headers, a.headers);
    EXPECT_EQ(back->body, a.body);
    EXPECT_FALSE(decodeAnswer("3:201").has_value());
    EXPECT_FALSE(decodeAnswer(encodeAnswer(a) + "x").has_value());
}

TEST(Idempotency, TheBeginReplyTellsRunReplayOrRefuse) {
    using Kind = BeginReply::Kind;
    auto fp = requestFingerprint("POST", "/api/v1/x", "{}");
    auto other = requestFingerprint("POST", "/api/v1/x", "{\"a\":1}");
    EXPECT_EQ(readBeginReply("", fp).kind, Kind::Run);
    EXPECT_EQ(readBeginReply("X", fp).kind, Kind::TooManyKeys);
    EXPECT_EQ(readBeginReply(lockValue(fp, "owner1"), fp).kind, Kind::InUse);
    EXPECT_EQ(readBeginReply(lockValue(other, "owner1"), fp).kind, Kind::Reused);
    StoredAnswer a{201, "application/json", {{"Location", "/api/v1/x/1"}}, "{\"id\":1}"};
    auto replay = readBeginReply(storedValue(fp, a), fp);
    ASSERT_EQ(replay.kind, Kind::Replay);
    EXPECT_EQ(replay.answer.status, 201);
    EXPECT_EQ(replay.answer.body, "{\"id\":1}");
    EXPECT_EQ(replay.answer.headers, a.headers);
    EXPECT_EQ(readBeginReply(storedValue(other, a), fp).kind, Kind::Reused);
    // A value cut short, or one of an unknown kind, is never replayed.
    auto cut = storedValue(fp, a);
    cut.resize(cut.size() - 3);
    EXPECT_EQ(readBeginReply(cut, fp).kind, Kind::Unreadable);
    EXPECT_EQ(readBeginReply("Q" + fp + "zzz", fp).kind, Kind::Unreadable);
    EXPECT_EQ(readBeginReply(fp.substr(0, 10), fp).kind, Kind::Reused);
}

TEST(Settings, DefaultRulesAreTightOnAuthAndRequireKeysOnPurchases) {
    auto rules = defaultRoutes();
    auto* login = matchRule(rules, rt::Method::Post, "/api/v1/auth/login");
    ASSERT_NE(login, nullptr);
    EXPECT_EQ(login->rate_policy, "auth");
    EXPECT_EQ(matchRule(rules, rt::Method::Get, "/api/v1/auth/login"), nullptr);
    EXPECT_EQ(matchRule(rules, rt::Method::Get, "/api/v1/properties/7")->rate_policy, "search");
    EXPECT_EQ(matchRule(rules, rt::Method::Get, "/api/v1/propertiesx"), nullptr);
    EXPECT_EQ(matchRule(rules, rt::Method::Post, "/api/v1/purchases")->idempotency,
              IdempotencyMode::Required);
    EXPECT_EQ(matchRule(rules, rt::Method::Post, "/api/v1/investments")->idempotency,
              IdempotencyMode::Required);
    auto policies = defaultRatePolicies();
    EXPECT_LT(policies.at("auth").limit, policies.at("search").limit);
    // Answers under /api/v1/auth carry tokens: no idempotency there, so none is stored.
    for (std::string_view path : {"/api/v1/auth/login", "/api/v1/auth/register",
                                  "/api/v1/auth/refresh", "/api/v1/auth/logout"}) {
        const auto* rule = matchRule(rules, rt::Method::Post, path);
        ASSERT_NE(rule, nullptr) << path;
        EXPECT_EQ(rule->idempotency, IdempotencyMode::Off) << path;
    }
}

TEST(Idempotency, NoStoreAnswersAnd5xxAreNeverStored) {
    EXPECT_TRUE(answerMayBeStored(201, {{"Location", "/x"}}));
    EXPECT_TRUE(answerMayBeStored(422, {}));
    EXPECT_FALSE(answerMayBeStored(500, {}));
    EXPECT_FALSE(answerMayBeStored(200, {{"Cache-Control", "no-store"}}));
    EXPECT_FALSE(answerMayBeStored(200, {{"cache-control", "private, No-Store"}}));
    EXPECT_TRUE(answerMayBeStored(200, {{"Cache-Control", "no-cache, max-age=0"}}));
    EXPECT_TRUE(answerMayBeStored(200, {{"X-Note", "no-store"}}));
}

TEST(Settings, RefusesAShortIdentitySecretAndReadsPolicies) {
    auto c = rt::Config::fromText(R"(
gateway:
  rate_policies:
    tight: {limit: 3, window: 2s}
    bursty: {limit: 60, window: 60s, burst: 10}
  routes:
    reg: {prefix: /api/v1/auth/register, methods: [POST], rate_policy: tight, idempotency: required}
  upstreams:
    property: 127.0.0.1:1,127.0.0.1:2
)",
                                  {"RESTINU_IDENTITY__SECRET=short"});
    auto s = readSettings(c);
    EXPECT_THROW(c.check(), rt::ConfigError);
    EXPECT_EQ(s.rate_policies.at("tight").limit, 3);
    EXPECT_EQ(s.rate_policies.at("tight").window.count(), 2);
    EXPECT_EQ(s.rate_policies.at("tight").burst, 0);
    EXPECT_EQ(s.rate_policies.at("bursty").burst, 10);
    ASSERT_EQ(s.routes.size(), 1u);
    EXPECT_EQ(s.routes[0].idempotency, IdempotencyMode::Required);
    EXPECT_EQ(s.upstreams.at("property").size(), 2u);

    auto ok = rt::Config::fromText("", {"RESTINU_IDENTITY__SECRET=" + std::string(32, 's')});
    (void)readSettings(ok);
    EXPECT_NO_THROW(ok.check());
}

TEST(Settings, RoutesMaySendPrefixesToServicesTheConfigNames) {
    auto secret = "RESTINU_IDENTITY__SECRET=" + std::string(32, 's');
    auto c = rt::Config::fromText(R"(
gateway:
  routes:
    kyc: {prefix: /api/v1/admin/kyc, service: kyc}
    reports: {prefix: /api/v1/reports, service: property}
  upstreams:
    kyc: [127.0.0.1:9001, 127.0.0.1:9002]
)",
                                  {secret});
    auto s = readSettings(c);
    EXPECT_NO_THROW(c.check());
    EXPECT_EQ(s.upstreams.at("kyc").size(), 2u);
    EXPECT_EQ(matchRule(s.routes, rt::Method::Post, "/api/v1/admin/kyc/7/approve")->service, "kyc");
    EXPECT_EQ(matchRule(s.routes, rt::Method::Get, "/api/v1/reports")->service, "property");
    auto services = forwardedServices(s.routes);
    EXPECT_NE(std::find(services.begin(), services.end(), "kyc"), services.end());

    // A service the config names needs its instances.
    auto missing = rt::Config::fromText(R"(
gateway:
  routes:
    kyc: {prefix: /api/v1/admin/kyc, service: kyc}
)",
                                        {secret});
    (void)readSettings(missing);
    EXPECT_THROW(missing.check(), rt::ConfigError);
}

}  // namespace
}  // namespace restinu::gateway
