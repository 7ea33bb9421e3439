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

    auto defaults = rt::Config::fromText("", {kSecret});
    for (const auto& r : readSettings(defaults).routes) {
        EXPECT_FALSE(r.pipeline) << r.name;
    }
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
