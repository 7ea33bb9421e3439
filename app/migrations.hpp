#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/migrate.hpp"

namespace restinu::app {

/// Every service's migrations as (service, migration), generated from
/// services/*/migrations/*.sql at build time.
const std::vector<std::pair<std::string_view, rt::Migration>>& allMigrations();

/// One service's migrations in version order. Throws std::logic_error on a repeated version,
/// which would make the order ambiguous.
std::vector<rt::Migration> migrationsFor(std::string_view service);

}  // namespace restinu::app
