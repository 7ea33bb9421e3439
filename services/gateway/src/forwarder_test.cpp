#include "forwarder.hpp"

#include <gtest/gtest.h>

#include "restinu/rt/identity.hpp"

namespace restinu::gateway {
namespace {

const std::string kSecret(32, 's');

// What the service receives: the forwarded headers as a request of its own.
rt::Request asReceived(const rt::ClientRequest& out, const rt::Request& sent) {
    rt::Request r;
    r.method = sent.method;
    r.method_name = sent.method_name;
    r.target = sent.target;
    r.path = sent.path;
    r.body = sent.body;
    for (const auto& [k, v] : out.headers) {
        r.headers.emplace_back(k, v);
    }
    return r;
}

rt::Request clientRequest() {
    rt::Request req;
    req.method = rt::Method::Post;
    req.method_name = "POST";
    req.target = "/api/v1/properties?x=1";
    req.path = "/api/v1/properties";
    req.body = "{\"title\":\"flat\"}";
    req.request_id = "req-1";
    req.remote_ip = "10.0.0.9";
    req.client_ip = "10.0.0.9";
    req.headers = {{"Authorization", "Bearer abc"}, {"Connection", "keep-alive, X-Secret-Hop"},
                   {"X-Secret-Hop", "1"},           {"Keep-Alive", "timeout=5"},
                   {"X-Restinu-User-Id", "admin"},  {"X-Request-Id", "client-chosen"},
                   {"X-Forwarded-For", "1.2.3.4"},  {"Content-Type", "application/json"},
                   {"Accept", "application/json"}};
    return req;
}

bool hasHeader(const rt::ClientRequest& out, std::string_view name) {
    for (const auto& [k, v] : out.headers) {
        if (rt::iequals(k, name)) {
            return true;
        }
    }
    return false;
}

TEST(Forward, TheUpstreamRequestDropsWhatTheClientMayNotSayAndTheVerifiedToken) {
    auto req = clientRequest();
    rt::AccessClaims claims;
    claims.subject = "u1";
    auto out = upstreamRequest(req, &claims, {});
    EXPECT_EQ(out.target, "/api/v1/properties?x=1");
    EXPECT_EQ(out.body, req.body);
    for (auto dropped :
         {"Authorization", "Connection", "X-Secret-Hop", "Keep-Alive", "X-Restinu-User-Id"}) {
        EXPECT_FALSE(hasHeader(out, dropped)) << dropped;
    }
    EXPECT_TRUE(hasHeader(out, "Accept"));
    auto received = asReceived(out, req);
    EXPECT_EQ(received.header("X-Request-Id"), "req-1");  // the gateway's id, not the client's
    // The client's X-Forwarded-For is not believed from an untrusted peer.
    EXPECT_EQ(received.header("X-Forwarded-For"), "10.0.0.9");
    EXPECT_TRUE(hasHeader(out, "traceparent"));

    // An anonymous request keeps an Authorization header that is not a verified bearer token.
    auto anonymous = upstreamRequest(req, nullptr, {});
    EXPECT_TRUE(hasHeader(anonymous, "Authorization"));
}

TEST(Forward, TheSignedIdentityVerifiesAtTheServiceAndNamesTheCallerAndAddress) {
    auto req = clientRequest();
    rt::AccessClaims claims;
    claims.subject = "u1";
    claims.roles = {"buyer", "seller"};
    claims.session_id = "s1";
    auto out = upstreamRequest(req, &claims, {});
    auto now = std::int64_t{1'800'000'000};
    signIdentity(out, req, &claims, kSecret, now);
    auto received = asReceived(out, req);
    rt::VerifiedIdentity who;
    ASSERT_EQ(rt::verifyIdentity(received, kSecret, now, std::chrono::seconds(10), &who),
              rt::IdentityCheck::Valid);
    ASSERT_TRUE(who.user);
    EXPECT_EQ(who.user->user_id, "u1");
    EXPECT_EQ(who.user->roles, claims.roles);
    EXPECT_EQ(who.client_ip, "10.0.0.9");

    // Anonymous: signed too, with no user.
    auto anon = upstreamRequest(req, nullptr, {});
    signIdentity(anon, req, nullptr, kSecret, now);
    auto anon_received = asReceived(anon, req);
    rt::VerifiedIdentity nobody;
    ASSERT_EQ(rt::verifyIdentity(anon_received, kSecret, now, std::chrono::seconds(10), &nobody),
              rt::IdentityCheck::Valid);
    EXPECT_FALSE(nobody.user);
    EXPECT_EQ(nobody.client_ip, "10.0.0.9");
}

TEST(Forward, TheAnswerLosesHopByHopHeadersAndTheUpstreamsRequestId) {
    rt::ClientResponse res;
    res.status = 201;
    res.headers = {{"Content-Type", "application/json"},
                   {"Connection", "keep-alive"},
                   {"Transfer-Encoding", "chunked"},
                   {"X-Request-Id", "upstream"},
                   {"Location", "/api/v1/properties/1"}};
    res.body = "{}";
    auto r = toResponse(res);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.content_type, "application/json");
    ASSERT_EQ(r.headers.size(), 1U);
    EXPECT_EQ(r.headers[0].first, "Location");
    EXPECT_EQ(r.body, "{}");
}

}  // namespace
}  // namespace restinu::gateway
