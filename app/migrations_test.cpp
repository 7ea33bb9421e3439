#include "migrations.hpp"

#include <gtest/gtest.h>

namespace restinu::app {
namespace {

TEST(Migrations, EveryServiceDatabaseHasItsOwnOrderedList) {
    for (auto svc : {"user", "property", "notification", "payment", "blockchain"}) {
        auto list = migrationsFor(svc);
        ASSERT_FALSE(list.empty()) << svc;
        EXPECT_EQ(list.front().version, 1) << svc;
        for (std::size_t i = 1; i < list.size(); ++i) {
            EXPECT_LT(list[i - 1].version, list[i].version);
        }
    }
    EXPECT_TRUE(migrationsFor("gateway").empty());
}

TEST(Migrations, EmbeddedTextIsTheFileText) {
    auto list = migrationsFor("property");
    ASSERT_GE(list.size(), 2u);
    EXPECT_EQ(list[1].name, "0002_postgis");
    EXPECT_NE(list[1].sql.find("CREATE EXTENSION IF NOT EXISTS postgis;"), std::string_view::npos);
}

}  // namespace
}  // namespace restinu::app
