#include "restinu/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "commands.hpp"
#include "registry_specs.hpp"

namespace restinu::app {
namespace {

// The registry is the one list of services: the subcommands, the specs and the tools derive
// from it, so a service added to services/registry.tsv is everywhere at once.
TEST(Registry, EveryServiceIsASubcommandWithItsRowsDatabaseAndPort) {
    const auto& rows = registry::services();
    ASSERT_FALSE(rows.empty());
    const auto& cmds = commands();
    ASSERT_GE(cmds.size(), rows.size());
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        EXPECT_TRUE(names.insert(row.name).second) << "twice in the registry: " << row.name;
        EXPECT_EQ(cmds[i].name, row.name);  // the services first, in the registry's order
        EXPECT_EQ(cmds[i].summary, row.summary);
        auto spec = specFor(row.name);
        EXPECT_EQ(spec.name, row.name);
        EXPECT_EQ(spec.database, row.database);
        EXPECT_EQ(spec.default_port, row.default_port);
        // A service with a database has its migrations (the runtime's at least), one without
        // has none.
        EXPECT_EQ(spec.migrations.empty(), row.database.empty()) << row.name;
        EXPECT_GE(row.instances, 1);
    }
    EXPECT_EQ(specFunctions().size(), rows.size());
    EXPECT_TRUE(specFor("nonexistent").name.empty());
}

TEST(Registry, PortsDatabasesAndPrefixesAreUnique) {
    std::set<std::uint16_t> ports;
    std::set<std::string_view> databases;
    std::set<std::string_view> prefixes;
    for (const auto& row : registry::services()) {
        EXPECT_TRUE(ports.insert(row.default_port).second) << row.name;
        if (!row.database.empty()) {
            EXPECT_TRUE(databases.insert(row.database).second) << row.name;
        }
        for (auto p : row.prefixes) {
            EXPECT_EQ(p.front(), '/') << p;
            EXPECT_TRUE(prefixes.insert(p).second) << p;
        }
    }
}

}  // namespace
}  // namespace restinu::app
