#include "commands.hpp"

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "events_command.hpp"
#include "migrations.hpp"
#include "registry_specs.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/service.hpp"
#include "seed_command.hpp"

namespace restinu::app {
namespace {

namespace net = boost::asio;

// `restinu <service> ...`: argv[0] names the service.
int runService(int argc, char** argv) {
    return rt::serviceMain(argc, argv, specFor(argv[0]));
}

int migrateOne(std::string_view name, bool create_database, rt::Config& config) {
    auto spec = specFor(name);
    auto settings = rt::readRuntimeSettings(config, spec);
    auto base = config.str("pg.url");
    config.check();
    if (create_database) {
        auto database = config.str("pg.database", spec.database);
        rt::withOneConnection(
            base + " dbname=postgres", "maintenance", [&](auto& io, rt::PgPool& maintenance) {
                if (rt::runBlocking(io, rt::createDatabaseIfMissing(maintenance, database))) {
                    std::printf("migrate %s: created database %s\n", spec.name.c_str(),
                                database.c_str());
                }
            });
    }
    int applied =
        rt::withOneConnection(settings.pg_conninfo, "migrate", [&](auto& io, rt::PgPool& pool) {
            return rt::runBlocking(io, rt::applyMigrations(pool, spec.name, spec.migrations));
        });
    std::printf("migrate %s: %d migration%s applied, %zu in all (%s)\n", spec.name.c_str(), applied,
                applied == 1 ? "" : "s", spec.migrations.size(), spec.database.c_str());
    return 0;
}

int runMigrate(int argc, char** argv) {
    std::vector<std::string> targets;
    bool create_database = false;
    std::string config_file;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--create-database") {
            create_database = true;
        } else if (a == "--config" && i + 1 < argc) {
            config_file = argv[++i];
        } else if (a == "--help" || a == "-h") {
            std::string with_database;
            for (const auto& svc : registry::services()) {
                if (!svc.database.empty()) {
                    with_database += (with_database.empty() ? "" : ", ") + std::string(svc.name);
                }
            }
            std::printf(
                "usage: restinu migrate <service>|all [--create-database] [--config FILE]\n\n"
                "Applies the service's pending SQL migrations to its own database (pg.url plus\n"
                "dbname=<its database>). --create-database first creates the database when it\n"
                "does not exist. Services with a database: %s.\n",
                with_database.c_str());
            return 0;
        } else if (a == "all") {
            for (const auto& svc : registry::services()) {
                if (!svc.database.empty()) {
                    targets.emplace_back(svc.name);
                }
            }
        } else if (!specFor(a).database.empty()) {
            targets.emplace_back(a);
        } else {
            std::fprintf(stderr, "restinu migrate: %s is not a service with a database\n", argv[i]);
            return 2;
        }
    }
    if (targets.empty()) {
        std::fprintf(stderr, "restinu migrate: name a service, or all (try --help)\n");
        return 2;
    }
    for (const auto& t : targets) {
        auto config = rt::Config::load(config_file);
        try {
            migrateOne(t, create_database, config);
        } catch (const rt::ConfigError& e) {
            std::fprintf(stderr, "restinu migrate %s: %s\n", t.c_str(), e.what());
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "restinu migrate %s: %s\n", t.c_str(), e.what());
            return 1;
        }
    }
    return 0;
}

// `restinu purchase ...` is `restinu payment purchase ...`, the operators' short form.
int runPurchase(int argc, char** argv) {
    std::vector<char*> args{const_cast<char*>("payment"), const_cast<char*>("purchase")};
    for (int i = 1; i < argc; ++i) {
        args.push_back(argv[i]);
    }
    args.push_back(nullptr);
    return runService(static_cast<int>(args.size()) - 1, args.data());
}

int runBenchServer(int argc, char** argv) {
    rt::ServiceSpec s;
    s.name = "bench";
    s.default_port = 8090;
    return rt::serviceMain(argc, argv, s);
}

}  // namespace

rt::ServiceSpec specFor(std::string_view name) {
    const auto* row = registry::find(name);
    for (const auto& [n, fn] : specFunctions()) {
        if (n == name && row != nullptr) {
            auto s = fn();
            // The registry's row is the truth for what the subcommand table and the tools use.
            s.database = std::string(row->database);
            s.default_port = row->default_port;
            s.migrations = migrationsFor(name, !s.database.empty());
            return s;
        }
    }
    return {};
}

std::string databaseOf(std::string_view service) {
    return specFor(service).database;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> kCommands = [] {
        std::vector<Command> out;
        for (const auto& svc : registry::services()) {
            out.push_back({svc.name, svc.summary, &runService});
        }
        std::vector<Command> tools{
            {"migrate", "apply a service's SQL migrations: restinu migrate <service>|all",
             &runMigrate},
            {"seed",
             "fill the databases with realistic demo data: restinu seed --listings N --users M",
             &runSeed},
            {"events", "the event bus: streams and lag, dead letters, replay, republish",
             &runEvents},
            {"purchase",
             "the purchase saga for operators: restinu purchase list|show|retry|compensate",
             &runPurchase},
            {"bench-server", "the runtime's plain /healthz server, for bench/", &runBenchServer},
        };
        out.insert(out.end(), tools.begin(), tools.end());
        return out;
    }();
    return kCommands;
}

}  // namespace restinu::app
