#include "restinu/rt/service.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/bus.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/http_server.hpp"
#include "restinu/rt/identity.hpp"
#include "restinu/rt/json_text.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/redis.hpp"
#include "restinu/rt/spool.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::rt {

namespace net = boost::asio;

struct Shard::Clients {
    std::unique_ptr<PgCluster> pg;
    std::unique_ptr<Redis> redis;
    std::unique_ptr<HttpClient> http;
};

Shard::Shard(IoContext& io, int index, const RuntimeSettings& settings, MetricsRegistry& metrics,
             WorkerPool& workers)
    : io_(io),
      index_(index),
      settings_(settings),
      metrics_(metrics),
      workers_(workers),
      clients_(std::make_unique<Clients>()) {}

Shard::~Shard() {
    // Handlers and owned objects may refer to the clients: drop those first.
    owned_.clear();
    router_ = Router{};
    if (clients_->pg) {
        clients_->pg->primary().close();
    }
    if (clients_->redis) {
        clients_->redis->close();
    }
}

PgPool& Shard::pg() {
    if (!clients_->pg) {
        PgOptions o;
        o.conninfo = settings_.pg_conninfo;
        o.size = settings_.pg_pool_size;
        o.acquire_timeout = settings_.pg_acquire_timeout;
        o.query_timeout = settings_.pg_query_timeout;
        o.statement_timeout = settings_.pg_statement_timeout;
        o.name = "primary";
        clients_->pg = std::make_unique<PgCluster>(io_, o, settings_.pg_replicas, &metrics_);
    }
    return clients_->pg->primary();
}

PgPool& Shard::pgRead() {
    pg();
    return clients_->pg->replica();
}

Redis& Shard::redis() {
    if (!clients_->redis) {
        RedisOptions o;
        o.host = settings_.redis_host;
        o.port = settings_.redis_port;
        clients_->redis = std::make_unique<Redis>(io_, o, &metrics_);
    }
    return *clients_->redis;
}

HttpClient& Shard::http() {
    if (!clients_->http) {
        ClientOptions o;
        o.name = settings_.service;
        clients_->http = std::make_unique<HttpClient>(io_, o, &metrics_);
    }
    return *clients_->http;
}

void Shard::consume(std::string group, std::vector<std::string> aggregate_types,
                    std::function<Task<void>(PgConn&, const Event&)> handler,
                    std::function<void(const Event&)> after_commit) {
    if (index_ != 0 || !settings_.bus_consume) {
        return;
    }
    ConsumerOptions o;
    o.group = std::move(group);
    o.aggregate_types = std::move(aggregate_types);
    o.consumer = settings_.instance;
    o.claim_idle = settings_.bus_claim_idle;
    o.max_attempts = settings_.bus_max_attempts;
    o.redis.host = settings_.redis_host;
    o.redis.port = settings_.redis_port;
    o.after_commit = std::move(after_commit);
    auto& c = keep(std::make_unique<EventConsumer>(io_, pg(), o, std::move(handler), &metrics_));
    c.start();
}

void Shard::addReadinessCheck(std::string name, ReadinessCheck check) {
    checks_.emplace_back(std::move(name), std::move(check));
}

RuntimeSettings readRuntimeSettings(Config& c, const ServiceSpec& spec) {
    RuntimeSettings s;
    s.service = spec.name;
    s.address = c.str("http.address", "127.0.0.1");
    s.port = c.port("http.port", spec.default_port);
    s.admin_address = c.str("http.admin_address", "127.0.0.1");
    s.admin_port = c.port("http.admin_port", spec.default_admin_port);
    // Stable across restarts (consumer names in Redis groups derive from it): host and port.
    char host[256] = "localhost";
    ::gethostname(host, sizeof host - 1);
    s.instance = c.str("instance", spec.name + "@" + host + ":" + std::to_string(s.port));
    auto cores = static_cast<std::int64_t>(std::max(1U, std::thread::hardware_concurrency()));
    s.threads = static_cast<int>(c.integer("http.threads", cores, 1, 256));
    s.body_limit = static_cast<std::size_t>(
        c.integer("http.body_limit", 1 << 20, 1024, std::int64_t{1} << 32));
    s.spool_dir = c.str("http.spool_dir", "");
    s.spool_budget = static_cast<std::uint64_t>(
        c.integer("http.spool_budget", std::int64_t{1} << 30, 1 << 20, std::int64_t{1} << 40));
    s.header_timeout = c.duration("http.header_timeout", std::chrono::seconds(10));
    s.body_timeout = c.duration("http.body_timeout", std::chrono::seconds(30));
    s.idle_timeout = c.duration("http.idle_timeout", std::chrono::seconds(60));
    s.shutdown_grace = c.duration("http.shutdown_grace", std::chrono::seconds(10));
    s.access_log = c.boolean("log.access", true);
    s.worker_threads = static_cast<int>(c.integer("workers.threads", cores, 1, 256));
    // About three seconds of password hashes per worker thread; more answers 503 at once.
    s.worker_queue_limit = static_cast<int>(c.integer(
        "workers.queue_limit", 64 * static_cast<std::int64_t>(s.worker_threads), 1, 1'000'000));
    if (!spec.database.empty()) {
        auto url = c.str("pg.url");
        auto db = c.str("pg.database", spec.database);
        s.pg_conninfo = url + " dbname=" + db;
        for (auto& r : c.list("pg.replicas", std::vector<std::string>{})) {
            s.pg_replicas.push_back(r.append(" dbname=").append(db));
        }
        s.pg_pool_size = static_cast<std::size_t>(c.integer("pg.pool_size", 8, 1, 1000));
        s.pg_acquire_timeout = c.duration("pg.acquire_timeout", std::chrono::seconds(5));
        s.pg_query_timeout = c.duration("pg.query_timeout", std::chrono::seconds(30));
        // The server gives up on a statement a little before the client does (9/10 of it), so
        // a query whose caller has gone does not run on.
        s.pg_statement_timeout = c.duration("pg.statement_timeout", s.pg_query_timeout * 9 / 10);
        if (s.pg_statement_timeout.count() <= 0 || s.pg_statement_timeout >= s.pg_query_timeout) {
            c.reject("pg.statement_timeout", "must be above 0 and below pg.query_timeout");
        }
    }
    s.identity_secret = c.str("identity.secret", "");
    s.identity_max_age = std::chrono::duration_cast<std::chrono::seconds>(
        c.duration("identity.max_age", std::chrono::seconds(10)));
    if (spec.uses_redis || !spec.database.empty()) {
        s.redis_host = c.str("redis.host", "127.0.0.1");
        s.redis_port = c.port("redis.port", 6379);
    }
    if (!spec.database.empty()) {
        s.bus_relay = c.boolean("bus.relay", true);
        s.bus_consume = c.boolean("bus.consume", true);
        s.bus_stream_maxlen = static_cast<std::size_t>(
            c.integer("bus.stream_maxlen", 1'000'000, 1000, std::int64_t{1} << 40));
        s.bus_outbox_retention = c.duration("bus.outbox_retention", std::chrono::hours(24));
        s.bus_claim_idle = c.duration("bus.claim_idle", std::chrono::seconds(30));
        s.bus_max_attempts = static_cast<int>(c.integer("bus.max_attempts", 5, 1, 1000));
    }
    return s;
}

namespace {

constexpr auto kReadyCheckTimeout = std::chrono::seconds(2);

void printUsage(const ServiceSpec& spec) {
    std::printf(
        "usage: restinu %s [--config FILE] [--print-config]\n\n"
        "Runs the %s service until SIGTERM or SIGINT, then drains in-flight requests.\n"
        "Settings come from FILE (YAML) and RESTINU_* environment variables, which win;\n"
        "see docs/configuration.md.\n",
        spec.name.c_str(), spec.name.c_str());
    if (!spec.commands.empty()) {
        std::printf("\ncommands (restinu %s <command> [--config FILE] [args]):\n",
                    spec.name.c_str());
        for (const auto& c : spec.commands) {
            std::printf("  %-20s %s\n", c.name.c_str(), c.summary.c_str());
        }
    }
}

// `restinu <service> <command> ...`: loads the config like the server does, then runs it.
int runCommand(const ServiceSpec& spec, const ServiceCommand& command, int argc, char** argv) {
    std::string config_file;
    std::vector<std::string> args;
    for (int i = 2; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--config" && i + 1 < argc) {
            config_file = argv[++i];
        } else {
            args.emplace_back(a);
        }
    }
    try {
        auto config = Config::load(config_file);
        auto settings = readRuntimeSettings(config, spec);
        log::Level level = log::Level::Warn;
        log::parseLevel(config.oneOf("log.level", "warn", {"debug", "info", "warn", "error"}),
                        level);
        log::init(spec.name, settings.instance, level, false);
        int rc = command.run(args, config, settings);
        log::flush();
        return rc;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "restinu %s %s: %s\n", spec.name.c_str(), command.name.c_str(),
                     e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "restinu %s %s: %s\n", spec.name.c_str(), command.name.c_str(),
                     e.what());
        return 1;
    }
}

// Every service but the edge: the gateway's signed identity headers become `req.identity` and
// `req.client_ip`; a request with identity headers that do not verify, or a POST or PATCH whose
// signature was seen before (a replay), is refused before any handler runs.
void useIdentity(Router& router, const RuntimeSettings& settings, ReplayCache& replays) {
    // Not a coroutine: it decides before the handler runs and hands back the handler's own task
    // (an ApiError thrown here reaches the server's handler as from any handler).
    router.use([&settings, &replays](Request& req, const Handler& next) -> Task<Response> {
        VerifiedIdentity who;
        std::string why;
        auto now = unixSeconds();
        switch (verifyIdentity(req, settings.identity_secret, now, settings.identity_max_age, &who,
                               &why)) {
            case IdentityCheck::Absent:
                break;
            case IdentityCheck::Valid:
                if ((req.method == Method::Post || req.method == Method::Patch) &&
                    !replays.firstSeen(who.mac, who.signed_at + settings.identity_max_age.count(),
                                       now)) {
                    log::warn("identity", "refused a replayed request",
                              {{"request_id", req.request_id}, {"remote", req.remote_ip}});
                    throw ApiError(problems::kInvalidIdentity,
                                   "this signed request was received before");
                }
                req.identity = std::move(who.user);
                req.client_ip = std::move(who.client_ip);
                break;
            case IdentityCheck::Invalid:
                log::warn(
                    "identity", "refused identity headers",
                    {{"error", why}, {"request_id", req.request_id}, {"remote", req.remote_ip}});
                throw ApiError(problems::kInvalidIdentity,
                               "identity headers are accepted only from the gateway");
        }
        return next(req);
    });
}

// The check's failure text, or "" when it passed; never throws.
Task<std::string> checkOutcome(const Shard::ReadinessCheck& check) {
    try {
        co_await check();
        co_return "";
    } catch (const std::exception& e) {
        co_return e.what();
    }
}

// Runs one readiness check with a deadline; returns the failure text or "". (`||` waits for
// the first operation to *succeed*, so the check must not throw: checkOutcome catches.)
Task<std::string> runCheck(const Shard::ReadinessCheck& check) {
    using namespace net::experimental::awaitable_operators;
    net::steady_timer timer(co_await net::this_coro::executor, kReadyCheckTimeout);
    auto result = co_await (checkOutcome(check) || timer.async_wait(net::use_awaitable));
    if (result.index() == 1) {
        co_return "no answer within 2s";
    }
    co_return std::get<0>(result);
}

// One check of runReadinessChecks: its outcome into `out`; the last to finish wakes the caller.
Task<void> checkInto(const Shard::ReadinessCheck& check, std::string& out, std::size_t& remaining,
                     net::steady_timer& all_done) {
    out = co_await runCheck(check);
    if (--remaining == 0) {
        all_done.cancel();
    }
}

}  // namespace

Task<std::vector<std::string>> runReadinessChecks(
    const std::vector<std::pair<std::string, Shard::ReadinessCheck>>& checks) {
    std::vector<std::string> results(checks.size());
    if (checks.empty()) {
        co_return results;
    }
    auto ex = co_await net::this_coro::executor;
    net::steady_timer all_done(ex, net::steady_timer::time_point::max());
    std::size_t remaining = checks.size();
    for (std::size_t i = 0; i < checks.size(); ++i) {
        net::co_spawn(ex, checkInto(checks[i].second, results[i], remaining, all_done),
                      net::detached);
    }
    // Each check ends within its deadline, so this frame outlives every one of them.
    // (Each check's coroutine counts `remaining` down through its reference.)
    while (remaining > 0) {  // NOLINT(bugprone-infinite-loop)
        boost::system::error_code ec;
        co_await all_done.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    co_return results;
}

namespace {

void addHealthz(Router& router) {
    router.get("/healthz", Access::none(), [](Request&) -> Task<Response> {
        co_return Response::json(200, R"({"status":"ok"})");
    });
}

void addMetrics(Router& router, MetricsRegistry& metrics) {
    router.get("/metrics", Access::none(), [&metrics](Request&) -> Task<Response> {
        co_return Response{200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()};
    });
}

// `with_metrics`: whether /metrics is on this (the main) router; with an admin listener it is
// there instead.
void addBuiltinRoutes(Shard& shard, bool with_metrics) {
    auto& router = shard.router();
    addHealthz(router);
    router.get("/readyz", Access::none(), [&shard](Request& req) -> Task<Response> {
        std::string checks;
        std::string failed;
        const auto& all = shard.readinessChecks();
        auto outcomes = co_await runReadinessChecks(all);
        for (std::size_t i = 0; i < all.size(); ++i) {
            const auto& name = all[i].first;
            const auto& err = outcomes[i];
            if (!checks.empty()) {
                checks += ',';
            }
            checks += '"' + name + "\":\"";
            appendJsonEscaped(checks, err.empty() ? "ok" : err);
            checks += '"';
            if (!err.empty()) {
                failed += failed.empty() ? name : ", " + name;
                log::warn("readyz", "dependency not ready",
                          {{"check", name}, {"error", err}, {"request_id", req.request_id}});
            }
        }
        if (!failed.empty()) {
            Problem p{problems::kUnavailable, "not ready: " + failed, {}, {{"Retry-After", "1"}}};
            co_return problemResponse(p, req.path, req.request_id);
        }
        co_return Response::json(200, R"({"status":"ready","checks":{)" + checks + "}}");
    });
    if (with_metrics) {
        addMetrics(router, shard.metrics());
    }
}

// Blocks (on a private io_context, not a loop thread) until the schema is current.
bool checkSchema(const RuntimeSettings& s, const ServiceSpec& spec) {
    return withOneConnection(
        s.pg_conninfo, "startup",
        [&spec](net::io_context& io, PgPool& pool) {
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (std::chrono::steady_clock::now() < deadline) {
                try {
                    runBlocking(io, checkMigrations(pool, spec.name, spec.migrations));
                    return true;
                } catch (const MigrationError& e) {
                    log::error("startup", e.what(), {{"database", spec.database}});
                    return false;
                } catch (const std::exception& e) {
                    log::warn("startup", "database not reachable yet; retrying",
                              {{"database", spec.database}, {"error", e.what()}});
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                }
            }
            return false;
        },
        std::chrono::seconds(30));  // a stalled server must not hold the start for long
}

}  // namespace

void wireShard(Shard& shard, const ServiceSpec& spec, const WireFn& wire, ReplayCache& replays,
               bool with_metrics) {
    addBuiltinRoutes(shard, with_metrics);
    if (!spec.edge) {
        useIdentity(shard.router(), shard.settings(), replays);
    }
    if (wire) {
        wire(shard);
    }
}

int serviceMain(int argc, char** argv, const ServiceSpec& spec) {
    if (argc > 1 && argv[1][0] != '-') {
        for (const auto& c : spec.commands) {
            if (c.name == argv[1]) {
                return runCommand(spec, c, argc, argv);
            }
        }
        std::fprintf(stderr, "restinu %s: unknown command %s (try --help)\n", spec.name.c_str(),
                     argv[1]);
        return 2;
    }
    std::string config_file;
    bool print_config = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--config" && i + 1 < argc) {
            config_file = argv[++i];
        } else if (a == "--print-config") {
            print_config = true;
        } else if (a == "--help" || a == "-h") {
            printUsage(spec);
            return 0;
        } else {
            std::fprintf(stderr, "restinu %s: unknown argument %s (try --help)\n",
                         spec.name.c_str(), argv[i]);
            return 2;
        }
    }

    auto config = Config::load(config_file);
    auto settings = readRuntimeSettings(config, spec);
    log::Level level = log::Level::Info;
    auto level_text = config.oneOf("log.level", "info", {"debug", "info", "warn", "error"});
    log::parseLevel(level_text, level);
    bool json_logs = config.oneOf("log.format", "json", {"json", "text"}) == "json";
    WireFn wire = spec.configure ? spec.configure(config) : WireFn{};
    try {
        config.check();
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "restinu %s: %s\n", spec.name.c_str(), e.what());
        return 2;
    }
    if (print_config) {
        std::fputs(config.dump().c_str(), stdout);
        return 0;
    }

    log::init(spec.name, settings.instance, level, json_logs);
    if (!spec.database.empty() && !checkSchema(settings, spec)) {
        log::error("startup", "refusing to start without a current schema",
                   {{"hint", "run: restinu migrate " + spec.name}});
        log::flush();
        return 1;
    }

    MetricsRegistry metrics({{"service", spec.name}, {"instance", settings.instance}});
    ReplayCache replays;
    auto& dropped_lines =
        metrics
            .counter("restinu_log_dropped_access_lines_total",
                     "Access log lines dropped because stdout could not keep up", {})
            .labels({});
    metrics.onCollect([&dropped_lines] {
        auto now = log::droppedAccessLines();
        if (now > dropped_lines.value()) {
            dropped_lines.inc(now - dropped_lines.value());
        }
    });
    WorkerPool workers(static_cast<std::size_t>(settings.worker_threads),
                       static_cast<std::size_t>(settings.worker_queue_limit));

    struct Loop {
        std::unique_ptr<net::io_context> io;
        std::unique_ptr<Shard> shard;
        std::unique_ptr<HttpServer> server;
        std::thread thread;
    };
    std::vector<Loop> loops(static_cast<std::size_t>(settings.threads));
    Router admin_router;
    std::unique_ptr<HttpServer> admin;
    std::uint16_t port = settings.port;
    try {
        for (std::size_t i = 0; i < loops.size(); ++i) {
            auto& l = loops[i];
            l.io = std::make_unique<net::io_context>(1);
            l.shard =
                std::make_unique<Shard>(*l.io, static_cast<int>(i), settings, metrics, workers);
            if (!spec.database.empty()) {
                auto* shard = l.shard.get();
                shard->addReadinessCheck("postgres", [shard] { return shard->pg().ping(); });
            }
            if (spec.uses_redis || !spec.database.empty()) {
                auto* shard = l.shard.get();
                shard->addReadinessCheck("redis", [shard] { return shard->redis().ping(); });
            }
            if (i == 0 && !spec.database.empty() && settings.bus_relay) {
                // One relay per instance; several instances share the work safely.
                auto& shard = *l.shard;
                RelayOptions ro;
                ro.name = spec.name;
                ro.stream_maxlen = settings.bus_stream_maxlen;
                ro.outbox_retention = settings.bus_outbox_retention;
                auto& relay = shard.keep(std::make_unique<OutboxRelay>(
                    shard.io(), shard.pg(), shard.redis(), settings.pg_conninfo, ro, &metrics));
                relay.start();
            }
            wireShard(*l.shard, spec, wire, replays, settings.admin_port == 0);
            ServerOptions so;
            so.service = spec.name;
            so.address = settings.address;
            so.port = port;
            so.body_limit = settings.body_limit;
            so.spool = l.shard->router().spool();
            SpooledBody::setBudget(settings.spool_budget);  // process-wide; the same each time
            so.spool_dir = settings.spool_dir;
            so.header_timeout = settings.header_timeout;
            so.body_timeout = settings.body_timeout;
            so.idle_timeout = settings.idle_timeout;
            so.access_log = settings.access_log;
            l.server = std::make_unique<HttpServer>(*l.io, so, l.shard->router(), metrics);
            port = l.server->listen();
        }
        if (settings.admin_port != 0) {
            // One small listener on the first loop: /metrics and /healthz, no access log.
            addHealthz(admin_router);
            addMetrics(admin_router, metrics);
            ServerOptions ao;
            ao.service = spec.name + "-admin";
            ao.address = settings.admin_address;
            ao.port = settings.admin_port;
            ao.access_log = false;
            admin = std::make_unique<HttpServer>(*loops[0].io, ao, admin_router, metrics);
            admin->listen();
        }
    } catch (const std::exception& e) {
        log::error("startup", "cannot start", {{"error", e.what()}});
        log::flush();
        return 1;
    }

    // Signals first, so that a SIGTERM right after start is a graceful stop, not a kill.
    net::io_context main_io;
    net::signal_set signals(main_io, SIGINT, SIGTERM);
    if (admin) {
        admin->start();
    }
    for (auto& l : loops) {
        l.server->start();
        l.thread = std::thread([io = l.io.get()] {
            auto guard = net::make_work_guard(*io);
            io->run();
        });
    }
    log::info("startup", "listening",
              {{"address", settings.address},
               {"port", port},
               {"threads", settings.threads},
               {"workers", settings.worker_threads},
               {"admin_port", static_cast<int>(settings.admin_port)}});

    std::atomic<std::size_t> drained{0};
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec) {
            return;
        }
        log::info("shutdown", "draining", {{"signal", signo}});
        // A second signal while draining means "now".
        signals.async_wait([](const boost::system::error_code& ec2, int signo2) {
            if (!ec2) {
                log::warn("shutdown", "second signal: exiting without waiting",
                          {{"signal", signo2}});
                log::flush();
                std::_Exit(128 + signo2);
            }
        });
        if (admin) {
            admin->shutdown(std::chrono::milliseconds(0));
        }
        for (auto& l : loops) {
            l.server->shutdown(settings.shutdown_grace, [&drained, &l, &main_io, &loops] {
                l.io->stop();
                if (++drained == loops.size()) {
                    net::post(main_io, [&main_io] { main_io.stop(); });
                }
            });
        }
    });
    main_io.run();
    for (auto& l : loops) {
        l.thread.join();
    }
    // Servers and shards (with their clients) go before the io_contexts they use.
    admin.reset();
    for (auto& l : loops) {
        l.server.reset();
        l.shard.reset();
    }
    loops.clear();
    workers.stop();
    log::info("shutdown", "stopped");
    log::flush();
    return 0;
}

}  // namespace restinu::rt
