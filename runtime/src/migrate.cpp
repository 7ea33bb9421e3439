#include "restinu/rt/migrate.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "restinu/rt/digest.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::rt {
namespace {

constexpr std::string_view kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS restinu_schema_migrations (
    scope      text        NOT NULL,
    version    integer     NOT NULL,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, version)
))sql";

// Every migrator of this database takes this lock inside its transaction, so two of them
// (two deploys at once) apply each migration exactly once, in order.
constexpr std::string_view kLock = "SELECT pg_advisory_xact_lock(hashtext('restinu.migrate'))";

constexpr std::string_view kUndefinedTable = "42P01";
constexpr std::string_view kDuplicateDatabase = "42P04";

std::string label(const Migration& m) {
    return std::string(m.scope) + "/" + std::string(m.name);
}

bool validIdentifier(std::string_view name) {
    if (name.empty() || name.size() > 63) {
        return false;
    }
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return !(name[0] >= '0' && name[0] <= '9');
}

}  // namespace

std::string migrationChecksum(std::string_view sql) {
    return sha256Hex(sql);
}

void MigrationSet::addDir(std::string_view scope, const std::string& dir) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
        if (f.path().extension() == ".sql") {
            files.push_back(f.path());
        }
    }
    if (ec) {
        throw MigrationError("cannot read the migrations in " + dir + ": " + ec.message());
    }
    std::sort(files.begin(), files.end());
    const auto& scope_ref = scopes_.emplace_back(scope);
    for (const auto& f : files) {
        std::ifstream in(f);
        if (!in) {
            throw MigrationError("cannot read " + f.string());
        }
        std::stringstream ss;
        ss << in.rdbuf();
        const auto& name = names_.emplace_back(f.stem().string());
        list_.push_back({scope_ref, std::atoi(name.c_str()), name, texts_.emplace_back(ss.str())});
    }
}

Task<int> applyMigrations(PgPool& pool, std::string_view service,
                          const std::vector<Migration>& migrations) {
    co_await pool.transaction([](PgConn& c) -> Task<void> {
        co_await c.query(kLock);
        co_await c.script(kCreateTable);
    });
    int applied = 0;
    for (const auto& m : migrations) {
        auto sum = migrationChecksum(m.sql);
        bool did = false;
        co_await pool.transaction([&](PgConn& c) -> Task<void> {
            co_await c.query(kLock);
            auto r = co_await c.query(
                "SELECT checksum FROM restinu_schema_migrations WHERE scope = $1 AND version = $2",
                m.scope, m.version);
            if (r.rows() == 1) {
                if (r.get(0, 0) != sum) {
                    throw MigrationError("migration " + label(m) +
                                         " changed after it was applied (checksum " +
                                         std::string(r.get(0, 0)) + " in the database, " + sum +
                                         " in this binary); add a new migration instead");
                }
                co_return;
            }
            try {
                co_await c.script(m.sql);
            } catch (const PgError& e) {
                throw MigrationError("migration " + label(m) + " failed: " + e.what());
            }
            co_await c.query(
                "INSERT INTO restinu_schema_migrations (scope, version, name, checksum) "
                "VALUES ($1, $2, $3, $4)",
                m.scope, m.version, m.name, sum);
            did = true;
        });
        if (did) {
            ++applied;
            log::info("migrate", "applied", {{"schema", service}, {"migration", m.name}});
        }
    }
    co_return applied;
}

Task<void> checkMigrations(PgPool& pool, std::string_view service,
                           const std::vector<Migration>& migrations) {
    std::map<std::pair<std::string, int>, std::string> applied;
    try {
        auto r =
            co_await pool.query("SELECT scope, version, checksum FROM restinu_schema_migrations");
        for (std::size_t i = 0; i < r.rows(); ++i) {
            applied[{std::string(r.get(i, 0)), static_cast<int>(r.getInt(i, 1))}] =
                std::string(r.get(i, 2));
        }
    } catch (const PgError& e) {
        if (e.sqlstate() != kUndefinedTable) {
            throw;
        }
    }
    std::string missing;
    for (const auto& m : migrations) {
        auto it = applied.find({std::string(m.scope), m.version});
        if (it == applied.end()) {
            missing += missing.empty() ? label(m) : ", " + label(m);
        } else if (it->second != migrationChecksum(m.sql)) {
            throw MigrationError("migration " + label(m) +
                                 " differs from the one applied to the database");
        }
    }
    if (!missing.empty()) {
        throw MigrationError("the " + std::string(service) + " database lacks migrations: " +
                             missing + "; run: restinu migrate " + std::string(service));
    }
    if (applied.size() > migrations.size()) {
        // A newer binary migrated already (rolling deploy): its migrations must stay
        // compatible with this binary, which is the rule for writing them.
        log::warn("migrate", "the database has migrations newer than this binary",
                  {{"schema", service}, {"applied", applied.size()}});
    }
}

Task<bool> createDatabaseIfMissing(PgPool& maintenance, std::string_view database) {
    if (!validIdentifier(database)) {
        throw MigrationError("database name " + std::string(database) +
                             " must be lower-case letters, digits and _");
    }
    auto r = co_await maintenance.query("SELECT 1 FROM pg_database WHERE datname = $1", database);
    if (r.rows() > 0) {
        co_return false;
    }
    auto conn = co_await maintenance.acquire();
    try {
        // An identifier cannot be a bound parameter; the name was checked above.
        co_await conn.script("CREATE DATABASE \"" + std::string(database) + "\"");
    } catch (const PgError& e) {
        if (e.sqlstate() == kDuplicateDatabase) {
            co_return false;  // another migrator created it meanwhile
        }
        throw;
    }
    co_return true;
}

}  // namespace restinu::rt
