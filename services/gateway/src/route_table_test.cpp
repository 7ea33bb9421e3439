#include "route_table.hpp"

#include <gtest/gtest.h>

#include "restinu/registry.hpp"

namespace restinu::gateway {
namespace {

TEST(RouteTable, MatchesWholeSegmentsOnly) {
    EXPECT_EQ(serviceFor("/api/v1/users/me"), "user");
    EXPECT_EQ(serviceFor("/api/v1/users"), "user");
    EXPECT_EQ(serviceFor("/api/v1/properties/42/images"), "property");
    EXPECT_EQ(serviceFor("/api/v1/admin/kyc/7/approve"), "user");
    EXPECT_EQ(serviceFor("/api/v1/purchases"), "payment");
    // A "*" segment: one listing's tokenization belongs to the blockchain service.
    EXPECT_EQ(serviceFor("/api/v1/properties/42/tokenize"), "blockchain");
    EXPECT_EQ(serviceFor("/api/v1/properties/42"), "property");
    EXPECT_EQ(serviceFor("/api/v1/properties/42/tokenized"), "property");
    EXPECT_EQ(serviceFor("/api/v1/users/me/portfolio"), "blockchain");
    EXPECT_EQ(serviceFor("/.well-known/jwks.json"), "user");
    EXPECT_FALSE(serviceFor("/api/v1/usersx").has_value());
    EXPECT_FALSE(serviceFor("/api/v1").has_value());
    EXPECT_FALSE(serviceFor("/").has_value());
}

TEST(RouteTable, ListsEachServiceOnce) {
    EXPECT_EQ(routedServices(), (std::vector<std::string>{"blockchain", "notification", "payment",
                                                          "property", "user"}));
}

// The gateway's routes are the registry's prefixes, each to its service.
TEST(RouteTable, RoutesAreTheRegistrysPrefixes) {
    std::size_t prefixes = 0;
    for (const auto& row : registry::services()) {
        for (auto p : row.prefixes) {
            ++prefixes;
            EXPECT_EQ(serviceFor(p), row.name) << p;
            EXPECT_EQ(serviceFor(std::string(p) + "/x"), row.name) << p;
        }
    }
    EXPECT_EQ(publicRoutes().size(), prefixes);
}

TEST(RouteTable, ParsesUpstreams) {
    auto u = parseUpstream("127.0.0.1:8102");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 8102);
    EXPECT_FALSE(parseUpstream("127.0.0.1").has_value());
    EXPECT_FALSE(parseUpstream("host:0").has_value());
    EXPECT_FALSE(parseUpstream("host:70000").has_value());
    EXPECT_FALSE(parseUpstream("host:80x").has_value());
    EXPECT_FALSE(parseUpstream(":80").has_value());
}

TEST(RouteTable, HopByHopHeadersAreRecognised) {
    EXPECT_TRUE(isHopByHop("Connection"));
    EXPECT_TRUE(isHopByHop("transfer-encoding"));
    EXPECT_FALSE(isHopByHop("Authorization"));
    EXPECT_FALSE(isHopByHop("X-Request-Id"));
    // Every one of RFC 9110's and the proxy's own, in any case; and names of the same lengths
    // that are not.
    for (std::string_view name : {"Connection", "Keep-Alive", "Proxy-Authenticate",
                                  "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer",
                                  "Transfer-Encoding", "Upgrade", "HOST", "content-length"}) {
        EXPECT_TRUE(isHopByHop(name)) << name;
    }
    for (std::string_view name : {"TX", "Hose", "Trailed", "Connectiox", "Content-Lengtj",
                                  "Proxy-Connectiox", "X", "", "a-header-name-that-is-long"}) {
        EXPECT_FALSE(isHopByHop(name)) << name;
    }
}

TEST(RouteTable, HeadersNamedByConnectionAreHopByHop) {
    EXPECT_TRUE(namedByConnection("X-Secret", "keep-alive, x-secret"));
    EXPECT_TRUE(namedByConnection("Keep-Alive", "Keep-Alive"));
    EXPECT_FALSE(namedByConnection("X-Secret", "close"));
    EXPECT_FALSE(namedByConnection("X-Secret", ""));
    EXPECT_FALSE(namedByConnection("X-Sec", "x-secret"));
}

}  // namespace
}  // namespace restinu::gateway
