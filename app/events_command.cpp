#include "events_command.hpp"

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/bus.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/redis.hpp"
#include "restinu/rt/service.hpp"

namespace restinu::app {
namespace {

constexpr const char* kUsage =
    "usage: restinu events <command> [--config FILE]\n\n"
    "  streams                          every stream, its length, and each group's pending\n"
    "                                   entries and lag\n"
    "  dead-letters GROUP [--limit N]   the group's dead letters with their errors\n"
    "  replay GROUP (--all | ENTRY_ID...) [--service SVC]\n"
    "                                   move dead letters back to the group (with --service,\n"
    "                                   also reset their failure count in SVC's database)\n"
    "  replay-range GROUP STREAM FROM TO\n"
    "                                   deliver a range of a stream (XRANGE ids, - and + for\n"
    "                                   the ends) to one group again; the group's inbox skips\n"
    "                                   events it applied already\n"
    "  republish SERVICE --since TIME   publish SERVICE's outbox again from TIME (e.g. after\n"
    "                                   Redis lost data); consumers' inboxes drop duplicates\n\n"
    "Redis comes from redis.host/redis.port (RESTINU_REDIS__HOST/PORT), PostgreSQL from pg.url.\n";

struct Args {
    std::vector<std::string> positional;
    std::string config_file;
    std::string service;
    std::string since;
    std::size_t limit = 100;
    bool all = false;
};

rt::RedisOptions redisFrom(rt::Config& config) {
    rt::RedisOptions o;
    o.host = config.str("redis.host", "127.0.0.1");
    o.port = config.port("redis.port", 6379);
    o.name = "events-cli";
    o.command_timeout = std::chrono::seconds(10);
    return o;
}

std::string pad(const std::string& s, std::size_t n) {
    return s.size() >= n ? s + " " : s + std::string(n - s.size(), ' ');
}

int streams(rt::Redis& redis, boost::asio::io_context& io) {
    auto all = rt::runBlocking(io, rt::listStreams(redis));
    std::printf("%s%s%s%s%s\n", pad("STREAM", 40).c_str(), pad("LENGTH", 10).c_str(),
                pad("GROUP", 32).c_str(), pad("PENDING", 10).c_str(), "LAG");
    for (const auto& s : all) {
        if (s.groups.empty()) {
            std::printf("%s%s-\n", pad(s.stream, 40).c_str(),
                        pad(std::to_string(s.length), 10).c_str());
        }
        for (const auto& g : s.groups) {
            std::printf("%s%s%s%s%s\n", pad(s.stream, 40).c_str(),
                        pad(std::to_string(s.length), 10).c_str(), pad(g.name, 32).c_str(),
                        pad(std::to_string(g.pending), 10).c_str(),
                        g.lag < 0 ? "?" : std::to_string(g.lag).c_str());
        }
    }
    return 0;
}

int deadLetters(rt::Redis& redis, boost::asio::io_context& io, const Args& a) {
    auto list = rt::runBlocking(io, rt::listDeadLetters(redis, a.positional.at(1), a.limit));
    if (list.empty()) {
        std::printf("no dead letters for %s\n", a.positional.at(1).c_str());
    }
    for (const auto& d : list) {
        std::printf("%s  %s  %s %s/%s  attempts=%d\n    error: %s\n", d.entry_id.c_str(),
                    d.event.id.c_str(), d.event.type.c_str(), d.event.aggregate_type.c_str(),
                    d.event.aggregate_id.c_str(), d.attempts, d.error.c_str());
    }
    return 0;
}

}  // namespace

int runEvents(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (s == "--help" || s == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (s == "--config" && i + 1 < argc) {
            a.config_file = argv[++i];
        } else if (s == "--service" && i + 1 < argc) {
            a.service = argv[++i];
        } else if (s == "--since" && i + 1 < argc) {
            a.since = argv[++i];
        } else if (s == "--limit" && i + 1 < argc) {
            char* end = nullptr;
            a.limit = static_cast<std::size_t>(std::strtoul(argv[++i], &end, 10));
            if (end == nullptr || *end != '\0' || a.limit == 0) {
                std::fprintf(stderr, "restinu events: --limit takes a positive number\n");
                return 2;
            }
        } else if (s == "--all") {
            a.all = true;
        } else {
            a.positional.push_back(s);
        }
    }
    const auto& p = a.positional;
    auto need = [&](std::size_t n) {
        if (p.size() < n) {
            std::fputs(kUsage, stderr);
            return false;
        }
        return true;
    };
    if (!need(1)) {
        return 2;
    }
    auto config = rt::Config::load(a.config_file);
    auto redis_opts = redisFrom(config);
    std::string pg_url;
    if (p[0] == "republish" || !a.service.empty()) {
        pg_url = config.str("pg.url");
    }
    try {
        config.check();
    } catch (const rt::ConfigError& e) {
        std::fprintf(stderr, "restinu events: %s\n", e.what());
        return 2;
    }
    boost::asio::io_context io;
    rt::Redis redis(io, redis_opts);
    auto dbPool = [&](const std::string& service) {
        return rt::oneConnectionPool(io, pg_url + " dbname=" + databaseOf(service), "events-cli");
    };
    try {
        if (p[0] == "streams") {
            return streams(redis, io);
        }
        if (p[0] == "dead-letters" && need(2)) {
            return deadLetters(redis, io, a);
        }
        if (p[0] == "replay" && need(2)) {
            std::vector<std::string> ids(p.begin() + 2, p.end());
            if (ids.empty() && !a.all) {
                std::fputs("restinu events replay: name entry ids or --all\n", stderr);
                return 2;
            }
            std::unique_ptr<rt::PgPool> pool;
            if (!a.service.empty()) {
                pool = dbPool(a.service);
            }
            auto n = rt::runBlocking(io, rt::replayDeadLetters(redis, p[1], ids, pool.get()));
            std::printf("replayed %zu dead letter%s to %s\n", n, n == 1 ? "" : "s", p[1].c_str());
            return 0;
        }
        if (p[0] == "replay-range" && need(5)) {
            auto n = rt::runBlocking(io, rt::replayRange(redis, p[1], p[2], p[3], p[4]));
            std::printf("replayed %zu event%s of %s to %s\n", n, n == 1 ? "" : "s", p[2].c_str(),
                        p[1].c_str());
            return 0;
        }
        if (p[0] == "republish" && need(2)) {
            if (a.since.empty() || databaseOf(p[1]).empty()) {
                std::fputs("restinu events republish: SERVICE (with a database) and --since TIME\n",
                           stderr);
                return 2;
            }
            auto pool = dbPool(p[1]);
            auto r =
                rt::runBlocking(io, pool->query("UPDATE restinu_outbox SET published_at = NULL "
                                                "WHERE published_at >= $1::timestamptz",
                                                a.since));
            std::printf("%llu event%s of %s will be published again\n",
                        static_cast<unsigned long long>(r.affected()), r.affected() == 1 ? "" : "s",
                        p[1].c_str());
            return 0;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "restinu events %s: %s\n", p[0].c_str(), e.what());
        return 1;
    }
    std::fputs(kUsage, stderr);
    return 2;
}

}  // namespace restinu::app
