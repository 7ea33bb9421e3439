#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/migrate.hpp"

namespace restinu::app {

/// Every migration of every scope, generated from runtime/migrations/*.sql and
/// services/*/migrations/*.sql at build time.
const std::vector<rt::Migration>& allMigrations();

/// A service database's migrations: the runtime's, then the service's own, each in version
/// order. Empty for a service without a database. Throws std::logic_error on a repeated
/// version within a scope, which would make the order ambiguous.
std::vector<rt::Migration> migrationsFor(std::string_view service, bool has_database);

}  // namespace restinu::app
