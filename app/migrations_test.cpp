#include "migrations.hpp"

#include <gtest/gtest.h>

#include "restinu/registry.hpp"

namespace restinu::app {
namespace {

TEST(Migrations, EveryServiceDatabaseGetsTheRuntimeScopeFirst) {
    for (const auto& row : registry::services()) {
        if (row.database.empty()) {
            EXPECT_TRUE(migrationsFor(row.name, false).empty()) << row.name;
            continue;
        }
        auto svc = row.name;
        auto list = migrationsFor(svc, true);
        ASSERT_FALSE(list.empty()) << svc;
        EXPECT_EQ(list.front().scope, "runtime") << svc;
        EXPECT_EQ(list.front().version, 1) << svc;
        for (std::size_t i = 1; i < list.size(); ++i) {
            if (list[i].scope == list[i - 1].scope) {
                EXPECT_LT(list[i - 1].version, list[i].version);
            } else {
                EXPECT_EQ(list[i].scope, svc);
            }
        }
    }
}

TEST(Migrations, EmbeddedTextIsTheFileText) {
    auto list = migrationsFor("property", true);
    auto it = std::find_if(list.begin(), list.end(),
                           [](const rt::Migration& m) { return m.name == "0001_postgis"; });
    ASSERT_NE(it, list.end());
    EXPECT_EQ(it->scope, "property");
    EXPECT_NE(it->sql.find("CREATE EXTENSION IF NOT EXISTS postgis;"), std::string_view::npos);
}

}  // namespace
}  // namespace restinu::app
