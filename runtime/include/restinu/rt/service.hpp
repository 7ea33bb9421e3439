#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/config.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/router.hpp"
#include "restinu/rt/task.hpp"

/// What every service's main does, once: flags, config, logging, one io_context (and one HTTP
/// server) per loop thread, its database and Redis clients, `/healthz`, `/readyz` and
/// `/metrics`, signals and graceful shutdown. A service supplies only its name, its database
/// and the function that wires its routes on each loop thread (userver's DaemonMain + component
/// list, with plain functions instead of a registry).
namespace restinu::rt {

class MetricsRegistry;
class PgPool;
class Redis;
class WorkerPool;
class ReplayCache;
class HttpClient;
class PgConn;
struct Event;

/// Settings the runtime reads for every service (keys in docs/configuration.md).
struct RuntimeSettings {
    std::string service;
    std::string instance;
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    /// The admin listener (/metrics, /healthz) when not 0: /metrics then leaves the main port,
    /// so that an edge service does not publish its internals (ADR 0009).
    std::string admin_address = "127.0.0.1";
    std::uint16_t admin_port = 0;
    int threads = 1;
    std::size_t body_limit = 1 << 20;
    /// Where uploads on spooled routes are written while they arrive (`http.spool_dir`; empty:
    /// the system's temporary folder).
    std::string spool_dir;
    /// The most bytes the spooled uploads of this process hold at once (`http.spool_budget`,
    /// 1 GiB); one more upload is 503 instead of filling the disk.
    std::uint64_t spool_budget = std::uint64_t{1} << 30;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds shutdown_grace{10'000};
    bool access_log = true;
    // PostgreSQL (when the service has a database)
    std::string pg_conninfo;  ///< base conninfo + the service's dbname
    std::vector<std::string> pg_replicas;
    std::size_t pg_pool_size = 8;
    std::chrono::milliseconds pg_acquire_timeout{5'000};
    std::chrono::milliseconds pg_query_timeout{30'000};
    /// The server-side limit on each statement (below pg_query_timeout; see PgOptions).
    std::chrono::milliseconds pg_statement_timeout{27'000};
    // Redis (when the service uses it)
    std::string redis_host = "127.0.0.1";
    std::uint16_t redis_port = 6379;
    int worker_threads = 2;
    int worker_queue_limit = 128;  ///< jobs waiting or running on the worker pool before 503
    // Event bus (services with a database publish their outbox)
    bool bus_relay = true;
    /// Whether Shard::consume starts its consumers (false: the shard only serves requests, as
    /// in-process tests that feed their projections themselves).
    bool bus_consume = true;
    std::size_t bus_stream_maxlen = 1'000'000;
    std::chrono::milliseconds bus_outbox_retention{std::chrono::hours(24)};
    std::chrono::milliseconds bus_claim_idle{30'000};
    int bus_max_attempts = 5;
    // Identity headers from the gateway (identity.hpp)
    std::string identity_secret;  ///< shared with the gateway; empty: no identity accepted
    std::chrono::seconds identity_max_age{10};
};

/// One loop thread's view of the service: its io_context, its clients, its router.
class Shard {
public:
    using ReadinessCheck = std::function<Task<void>()>;

    Shard(IoContext& io, int index, const RuntimeSettings& settings, MetricsRegistry& metrics,
          WorkerPool& workers);
    ~Shard();
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    IoContext& io() { return io_; }
    int index() const { return index_; }
    const RuntimeSettings& settings() const { return settings_; }
    MetricsRegistry& metrics() { return metrics_; }
    WorkerPool& workers() { return workers_; }
    Router& router() { return router_; }

    /// This shard's pool for the service's database (created on first use).
    PgPool& pg();
    /// This shard's read-replica pool (the primary when none are configured).
    PgPool& pgRead();
    /// This shard's Redis client (created on first use).
    Redis& redis();
    /// This shard's HTTP client for calls to other services (created on first use).
    HttpClient& http();

    /// `/readyz` answers 200 only when every check completes without throwing.
    void addReadinessCheck(std::string name, ReadinessCheck check);
    const std::vector<std::pair<std::string, ReadinessCheck>>& readinessChecks() const {
        return checks_;
    }

    /// Consumes events of `aggregate_types` as consumer group `group` (once per instance: only
    /// the first shard runs it, in stream order). See rt::EventConsumer.
    /// `after_commit`, if set, runs for each event once its effect has committed.
    void consume(std::string group, std::vector<std::string> aggregate_types,
                 std::function<Task<void>(PgConn&, const Event&)> handler,
                 std::function<void(const Event&)> after_commit = {});

    /// Keeps `obj` alive as long as the shard (handlers capture references to it).
    template <class T>
    T& keep(std::unique_ptr<T> obj) {
        T& ref = *obj;
        owned_.push_back(std::shared_ptr<void>(std::move(obj)));
        return ref;
    }

private:
    IoContext& io_;
    int index_;
    const RuntimeSettings& settings_;
    MetricsRegistry& metrics_;
    WorkerPool& workers_;
    Router router_;
    std::vector<std::pair<std::string, ReadinessCheck>> checks_;
    std::vector<std::shared_ptr<void>> owned_;
    struct Clients;
    std::unique_ptr<Clients> clients_;
};

using WireFn = std::function<void(Shard&)>;

/// Runs every check at once (each with a 2 s deadline) and returns, in the same order, "" for
/// each that passed or what went wrong: /readyz waits for the slowest check, not their sum.
Task<std::vector<std::string>> runReadinessChecks(
    const std::vector<std::pair<std::string, Shard::ReadinessCheck>>& checks);

/// A one-shot command run instead of the server (`restinu user create-admin --email E`). It gets
/// its arguments after the command's name (`--config FILE` already taken out), the loaded
/// config and the runtime settings, and returns the process's exit code.
struct ServiceCommand {
    std::string name;
    std::string summary;  ///< one line for --help
    std::function<int(const std::vector<std::string>& args, Config& config,
                      const RuntimeSettings& settings)>
        run;
};

struct ServiceSpec {
    std::string name;      ///< "user"; also the `service` label and log field
    std::string database;  ///< "users_db"; empty when the service has none. A service with a
                           ///< database also publishes its outbox, so it uses Redis too.
    bool uses_redis = false;
    std::uint16_t default_port = 0;
    /// The admin listener's default port; 0: none (metrics on the main port).
    std::uint16_t default_admin_port = 0;
    /// The public edge (the gateway): it strips identity headers itself. Every other service
    /// checks their signature before any handler runs and answers 401 to a forged one.
    bool edge = false;
    /// One-shot commands of the service: `restinu <service> <command> [args]`.
    std::vector<ServiceCommand> commands;
    /// The database's migrations; the service refuses to start until they are all applied.
    std::vector<Migration> migrations;
    /// Reads the service's own config keys (before validation) and returns the function that
    /// wires one shard: routes, stores, readiness checks.
    std::function<WireFn(Config&)> configure;
};

/// Parses `argv` (`--config FILE`, `--print-config`, `--help`), loads and checks the config,
/// checks the database schema is migrated, serves until SIGTERM/SIGINT, drains, and returns the
/// process exit code (0 clean stop, 1 runtime failure, 2 bad config or usage).
int serviceMain(int argc, char** argv, const ServiceSpec& spec);

/// Wires one loop thread's shard as serviceMain does: the built-in routes (/healthz, /readyz,
/// and /metrics when `with_metrics`), the check of the gateway's signed identity (not for the
/// edge), then the service's own `wire`. The in-process test client builds its shard with it.
void wireShard(Shard& shard, const ServiceSpec& spec, const WireFn& wire, ReplayCache& replays,
               bool with_metrics);

/// Reads the settings every service shares; exposed for tests and for `restinu migrate`.
RuntimeSettings readRuntimeSettings(Config& config, const ServiceSpec& spec);

}  // namespace restinu::rt
