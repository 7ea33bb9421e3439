#pragma once

#include <boost/asio/io_context.hpp>
#include <random>
#include <string>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "test_env.hpp"

namespace restinu::testenv {

/// A new database named `<prefix>_<random>` on the test server with the runtime's migrations
/// and those of `services/<service>/migrations` applied, read from the source tree
/// (RESTINU_SOURCE_DIR). Returns its name. For a test suite's SetUpTestSuite.
inline std::string freshDatabase(const std::string& prefix, const std::string& service) {
    std::mt19937_64 rng{std::random_device{}()};
    auto name = prefix + "_" + std::to_string(rng() % 1000000000);
    boost::asio::io_context io;
    rt::PgOptions mo;
    mo.conninfo = pgConninfo();
    mo.size = 1;
    rt::PgPool maintenance(io, mo);
    rt::runBlocking(io, rt::createDatabaseIfMissing(maintenance, name));
    maintenance.close();
    rt::PgOptions o;
    o.conninfo = pgConninfo() + " dbname=" + name;
    o.size = 1;
    rt::PgPool pool(io, o);
    rt::MigrationSet ms;
    ms.addDir("runtime", std::string(RESTINU_SOURCE_DIR) + "/runtime/migrations");
    ms.addDir(service, std::string(RESTINU_SOURCE_DIR) + "/services/" + service + "/migrations");
    rt::runBlocking(io, rt::applyMigrations(pool, service, ms.list()));
    pool.close();
    return name;
}

}  // namespace restinu::testenv
