#include "settings.hpp"

#include <gtest/gtest.h>

#include "restinu/rt/config.hpp"

namespace restinu::gateway {
namespace {

const std::string kSecret = "RESTINU_IDENTITY__SECRET=0123456789abcdef0123456789abcdef";

const RouteRule& rule(const Settings& s, std::string_view name) {
    for (const auto& r : s.routes) {
        if (r.name == name) {
            return r;
        }
    }
    throw std::runtime_error("no route " + std::string(name));
}

// Pipelining to upstreams is a route's choice, off unless the route asks for it (ADR 0008).
TEST(Settings, PipeliningIsOffUnlessARouteTurnsItOn) {
    auto config = rt::Config::fromText(R"(
gateway:
  routes:
    listing: {prefix: /api/v1/properties, methods: [GET], pipeline: true}
    search: {prefix: /api/v1/properties/search}
)",
                                       {kSecret});
    auto s = readSettings(config);
    EXPECT_NO_THROW(config.check());
    EXPECT_TRUE(rule(s, "listing").pipeline);
    EXPECT_FALSE(rule(s, "search").pipeline);

    // Of the built-in rules, only the photo files' (small, immutable, answered at once).
    auto defaults = rt::Config::fromText("", {kSecret});
    for (const auto& r : readSettings(defaults).routes) {
        EXPECT_EQ(r.pipeline, r.name == "image-files") << r.name;
    }
}

// An upload route spools its bodies (body_limit); a prefix segment "*" is any one segment.
TEST(Settings, TheImagesUploadRouteIsSpooledAndMatchesAnyListing) {
    auto defaults = rt::Config::fromText("", {kSecret});
    auto s = readSettings(defaults);
    const auto* upload = matchRule(s.routes, rt::Method::Post, "/api/v1/properties/abc/images");
    ASSERT_NE(upload, nullptr);
    EXPECT_EQ(upload->name, "images");
    EXPECT_EQ(upload->body_limit, std::uint64_t{25} << 20);
    EXPECT_EQ(upload->rate_policy, "upload");
    // Not another path, method or depth; and every other route keeps bodies in memory.
    for (auto path : {"/api/v1/properties/abc", "/api/v1/properties//images",
                      "/api/v1/properties/abc/imagesx", "/api/v1/properties/a/b/images"}) {
        const auto* r = matchRule(s.routes, rt::Method::Post, path);
        EXPECT_TRUE(r == nullptr || r->body_limit == 0) << path;
    }
    EXPECT_EQ(matchRule(s.routes, rt::Method::Get, "/api/v1/properties/abc/images")->name,
              "search");
    // Deeper paths under the upload prefix are its own (whole segments, as any prefix).
    EXPECT_EQ(matchRule(s.routes, rt::Method::Post, "/api/v1/properties/abc/images/x")->name,
              "images");
    auto config = rt::Config::fromText(R"(
gateway:
  routes:
    docs: {prefix: "/api/v1/kyc/*/documents", methods: [POST], body_limit: 1000000}
)",
                                       {kSecret});
    auto custom = readSettings(config);
    EXPECT_NO_THROW(config.check());
    EXPECT_EQ(matchRule(custom.routes, rt::Method::Post, "/api/v1/kyc/u1/documents")->body_limit,
              1'000'000u);
}

TEST(Settings, APipelineValueThatIsNotABooleanIsRefusedByName) {
    auto config = rt::Config::fromText(R"(
gateway:
  routes:
    listing: {prefix: /api/v1/properties, pipeline: sometimes}
)",
                                       {kSecret});
    readSettings(config);
    try {
        config.check();
        FAIL() << "accepted pipeline: sometimes";
    } catch (const rt::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("gateway.routes.listing.pipeline"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace restinu::gateway
