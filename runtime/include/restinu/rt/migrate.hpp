#pragma once

#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "restinu/rt/task.hpp"

/// Versioned SQL migrations, one list per service database. Each migration belongs to a scope:
/// `runtime` (runtime/migrations/NNNN_name.sql: tables the runtime itself needs in every service
/// database, such as the audit log) or the service's own (services/<svc>/migrations/). The files
/// are compiled into the binary, so a binary always knows exactly which schema it needs.
/// Applied ones are recorded with a SHA-256 of their text in `restinu_schema_migrations`; an
/// applied file that changed afterwards is an error, never silently skipped.
namespace restinu::rt {

class PgPool;

struct Migration {
    std::string_view scope;  ///< "runtime" or the service's name; versions count per scope
    int version;
    std::string_view name;  ///< file name without the .sql
    std::string_view sql;
};

class MigrationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Migrations read from a folder of NNNN_name.sql files at run time (tests, benchmarks; the
/// binary embeds its own at build time). Owns the texts its Migration views point into.
class MigrationSet {
public:
    /// Appends every *.sql file of `dir` in name order under `scope`, its version taken from
    /// the file name's leading digits. Throws MigrationError on an unreadable folder or file.
    void addDir(std::string_view scope, const std::string& dir);
    const std::vector<Migration>& list() const { return list_; }

private:
    std::deque<std::string> texts_;  // stable addresses for the views in list_
    std::deque<std::string> names_;
    std::deque<std::string> scopes_;
    std::vector<Migration> list_;
};

/// SHA-256 of the migration text, hex.
std::string migrationChecksum(std::string_view sql);

/// Applies every pending migration in version order, each in its own transaction together with
/// its record, under an advisory lock so that two migrators never interleave. Returns how many
/// it applied. Throws MigrationError on a changed or failing migration.
Task<int> applyMigrations(PgPool& pool, std::string_view service,
                          const std::vector<Migration>& migrations);

/// Throws MigrationError naming what is missing or changed unless every migration is applied.
Task<void> checkMigrations(PgPool& pool, std::string_view service,
                           const std::vector<Migration>& migrations);

/// Creates `database` through a pool on the maintenance database when it does not exist yet.
/// Returns true when it created it.
Task<bool> createDatabaseIfMissing(PgPool& maintenance, std::string_view database);

}  // namespace restinu::rt
