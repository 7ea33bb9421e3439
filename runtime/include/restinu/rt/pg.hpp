#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "restinu/rt/task.hpp"

// libpq's result type, forward-declared so that this header does not pull in libpq-fe.h.
struct pg_result;

/// Asynchronous PostgreSQL access over libpq's non-blocking API, driven by the Asio loop.
///
/// Every socket wait runs on the pool's io_context and is bounded by a timeout; no blocking
/// libpq call runs on the loop thread (with one caveat: libpq resolves host *names* with a
/// blocking getaddrinfo(), so production conninfo should use an IP address or `hostaddr`).
namespace restinu::rt {

class MetricsRegistry;

struct PgOptions {
    /// libpq connection string, e.g. "host=127.0.0.1 port=5432 user=app dbname=app".
    std::string conninfo;
    /// The `pool` label on metrics and logs.
    std::string name = "primary";
    /// Maximum number of physical connections; they are opened lazily.
    std::size_t size = 8;
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds acquire_timeout{5000};
    std::chrono::milliseconds query_timeout{30000};
    /// When above zero, every connection sets the server's `statement_timeout` to this right
    /// after connecting, so that a statement whose caller gave up (query_timeout discards the
    /// connection, but the server only notices when it next writes) stops on the server too.
    /// Keep it below query_timeout.
    std::chrono::milliseconds statement_timeout{0};
    /// At most this many named statements are kept per connection (each holds its plan in the
    /// server's memory); execute() with a further name runs the statement unnamed instead.
    std::size_t max_prepared = 256;
};

/// Every failure of this module: connect, wait, query. Never a crash, never a silent retry.
class PgError : public std::runtime_error {
public:
    enum class Kind {
        Connection,   ///< cannot connect (refused, connect timeout) or the connection broke
        Timeout,      ///< a statement exceeded query_timeout; its connection was discarded
        PoolTimeout,  ///< no connection became free within acquire_timeout
        Query,        ///< the server rejected the statement; sqlstate() says why
    };

    PgError(Kind kind, const std::string& message, std::string sqlstate = {});

    Kind kind() const noexcept { return kind_; }
    /// The five-character SQLSTATE (e.g. "22P02", "23505") when the server sent one, else "".
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    Kind kind_;
    std::string sqlstate_;
};

/// One query parameter, always sent as a bound parameter in text format (never spliced into
/// SQL). Implicit from strings, integers, bool ("true"/"false"), double, std::nullopt (SQL
/// NULL) and std::optional<T> (NULL when empty).
class PgParam {
public:
    PgParam(std::string v) : value_(std::move(v)) {}
    PgParam(std::string_view v) : value_(std::string(v)) {}
    /// A null pointer is SQL NULL.
    PgParam(const char* v);
    PgParam(char c) : value_(std::string(1, c)) {}
    PgParam(bool v) : value_(v ? "true" : "false") {}
    template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>)
        PgParam(I v)
        : value_(std::to_string(v)) {}
    /// Shortest text that round-trips; NaN and infinities use PostgreSQL's spelling.
    PgParam(double v);
    PgParam(std::nullopt_t) {}
    template <class T>
    PgParam(const std::optional<T>& v) : PgParam(v ? PgParam(*v) : PgParam(std::nullopt)) {}

    bool isNull() const noexcept { return !value_.has_value(); }
    /// The text sent to the server; "" for NULL (check isNull() first).
    const std::string& text() const noexcept;
    /// For libpq: the C string, or nullptr for NULL.
    const char* cStr() const noexcept { return value_ ? value_->c_str() : nullptr; }

private:
    std::optional<std::string> value_;
};

/// One or more values that each convert to PgParam (and not a std::vector<PgParam>).
template <class... Ts>
concept PgParamPack = sizeof...(Ts) > 0 && (std::is_constructible_v<PgParam, Ts> && ...);

/// A complete result set (all rows are in memory). Values are text; get() views stay valid
/// while the PgResult lives. Move-only.
class PgResult {
public:
    PgResult() noexcept = default;
    /// Takes ownership of a libpq result.
    explicit PgResult(pg_result* res) noexcept : res_(res) {}

    std::size_t rows() const noexcept;
    int columns() const noexcept;
    /// The index of the column called `name`, or -1 if there is none.
    int column(std::string_view name) const;
    /// The value as text; "" for NULL. Throws std::out_of_range on a bad row or column.
    std::string_view get(std::size_t row, int col) const;
    bool isNull(std::size_t row, int col) const;
    std::optional<std::string_view> opt(std::size_t row, int col) const;
    /// The value parsed as a signed integer; throws PgError(Query) on NULL or non-integer text.
    std::int64_t getInt(std::size_t row, int col) const;
    /// Rows affected by INSERT/UPDATE/DELETE/... (PQcmdTuples); 0 when not applicable.
    std::uint64_t affected() const noexcept;
    /// The command tag, e.g. "INSERT 0 1", "COMMIT".
    std::string_view status() const noexcept;

private:
    struct Deleter {
        void operator()(pg_result* r) const noexcept;
    };
    void check(std::size_t row, int col) const;
    std::unique_ptr<pg_result, Deleter> res_;
};

namespace detail {
template <class>
struct TaskValue;
template <class T, class Executor>
struct TaskValue<boost::asio::awaitable<T, Executor>> {
    using type = T;
};
class PgPoolState;
class PgConnection;
}  // namespace detail

/// A lease on one pooled connection, from PgPool::acquire(). Move-only; its destructor gives
/// the connection back to the pool, or discards it when it is broken, timed out, or was left
/// inside a transaction.
///
/// A lease should not outlive its pool; if it does, it closes its connection instead of
/// returning it. It must not outlive the pool's io_context or MetricsRegistry.
///
/// @par Thread safety
/// Same as PgPool: use it only on the pool's io_context thread, one query at a time (a
/// second concurrent query on the same lease throws PgError(Query)).
class PgConn {
public:
    PgConn() noexcept;
    PgConn(PgConn&& other) noexcept;
    PgConn& operator=(PgConn&& other) noexcept;
    PgConn(const PgConn&) = delete;
    PgConn& operator=(const PgConn&) = delete;
    ~PgConn();

    explicit operator bool() const noexcept { return conn_ != nullptr; }

    /// Runs one statement with bound parameters ($1, $2, ...). Throws PgError. `sql` must stay
    /// alive until the returned task completes (it does when awaited directly).
    Task<PgResult> query(std::string_view sql, std::vector<PgParam> params = {});
    /// Like query(), through a named prepared statement: prepared once per physical
    /// connection, then executed, so after a few runs the server may keep one generic plan
    /// instead of planning each time. A name must always be used with the same SQL. A
    /// connection that already holds PgOptions::max_prepared statements runs a new name
    /// unnamed, as query() does.
    Task<PgResult> execute(std::string_view stmt_name, std::string_view sql,
                           std::vector<PgParam> params = {});

    /// query(sql, a, b, ...): the parameters listed directly. Prefer this form inside
    /// coroutines: g++ 12 rejects a braced list in a co_await expression ("array used as
    /// initializer"), so `co_await c.query(sql, {a, b})` does not compile there.
    template <class... Ts>
    requires PgParamPack<Ts...> Task<PgResult> query(std::string_view sql, Ts&&... params) {
        return query(sql, std::vector<PgParam>{PgParam(std::forward<Ts>(params))...});
    }
    template <class... Ts>
    requires PgParamPack<Ts...> Task<PgResult> execute(std::string_view stmt_name,
                                                       std::string_view sql, Ts&&... params) {
        return execute(stmt_name, sql, std::vector<PgParam>{PgParam(std::forward<Ts>(params))...});
    }

    /// Runs SQL that takes no parameters and may hold several statements (migrations, DDL),
    /// through the simple query protocol. Never build `sql` from user input: there is nothing
    /// to bind, which is why it accepts no parameters at all.
    Task<void> script(std::string_view sql);

    /// Gives the connection back now (the destructor does the same).
    void release() noexcept;

    /// How many statements were prepared on this physical connection (for tests and stats).
    std::size_t preparedCount() const noexcept;
    /// The backend's process id, stable for the life of the physical connection.
    int backendPid() const noexcept;

private:
    friend class PgPool;
    PgConn(std::shared_ptr<detail::PgPoolState> pool,
           std::shared_ptr<detail::PgConnection> conn) noexcept;

    std::shared_ptr<detail::PgPoolState> pool_;
    std::shared_ptr<detail::PgConnection> conn_;
};

/// A lazily filled pool of up to `size` connections with a FIFO queue of waiters.
///
/// Idle connections keep a read wait on their socket, so one that the server closed (restart,
/// terminate) is dropped while idle and replaced on the next acquire, without failing a query.
///
/// @par Thread safety
/// Not thread-safe, by design: a pool is bound to one io_context and used only from the thread
/// that runs it. Services run one io_context per core and give each thread its own pools
/// (shard per core, no locks). Destroy the pool before its io_context; call close() (or the
/// destructor) on that thread.
class PgPool {
public:
    /// `metrics` (optional) must outlive the pool and its leases.
    PgPool(IoContext& io, PgOptions opts, MetricsRegistry* metrics = nullptr);
    ~PgPool();
    PgPool(const PgPool&) = delete;
    PgPool& operator=(const PgPool&) = delete;

    /// A lease on a connection: an idle one, a new one (while fewer than `size` exist), or the
    /// next one released, waiting FIFO up to acquire_timeout (then PgError(PoolTimeout)).
    Task<PgConn> acquire();
    Task<PgResult> query(std::string_view sql, std::vector<PgParam> params = {});
    Task<PgResult> execute(std::string_view stmt_name, std::string_view sql,
                           std::vector<PgParam> params = {});
    /// The parameters listed directly; see PgConn::query(sql, a, b, ...).
    template <class... Ts>
    requires PgParamPack<Ts...> Task<PgResult> query(std::string_view sql, Ts&&... params) {
        return query(sql, std::vector<PgParam>{PgParam(std::forward<Ts>(params))...});
    }
    template <class... Ts>
    requires PgParamPack<Ts...> Task<PgResult> execute(std::string_view stmt_name,
                                                       std::string_view sql, Ts&&... params) {
        return execute(stmt_name, sql, std::vector<PgParam>{PgParam(std::forward<Ts>(params))...});
    }
    /// BEGIN; body; COMMIT on one connection. If the body throws: ROLLBACK and rethrow. If the
    /// server rolled back at COMMIT (an error inside the body was swallowed), throws
    /// PgError(Query) with sqlstate "25P02".
    Task<void> transaction(std::function<Task<void>(PgConn&)> body);
    /// The same for a body that returns a value (`Task<T>`): the value leaves the transaction
    /// once it committed, instead of through flags the body sets.
    ///     auto outcome = co_await pool.transaction([&](PgConn& tx) -> Task<Outcome> { ... });
    template <class Fn>
    requires(!std::is_same_v<std::invoke_result_t<Fn&, PgConn&>, Task<void>>)
        std::invoke_result_t<Fn&, PgConn&> transaction(Fn body) {
        using T = typename detail::TaskValue<std::invoke_result_t<Fn&, PgConn&>>::type;
        std::optional<T> out;
        // Named, not a temporary inside co_await (g++ 12 destroys such lambdas twice).
        std::function<Task<void>(PgConn&)> run = [&out, &body](PgConn& tx) -> Task<void> {
            out.emplace(co_await body(tx));
        };
        co_await transaction(std::move(run));
        co_return std::move(*out);
    }
    /// SELECT 1, for /readyz.
    Task<void> ping();

    struct Stats {
        std::size_t total;    ///< open or opening connections
        std::size_t idle;     ///< in the pool, ready
        std::size_t in_use;   ///< leased (or being opened for a caller)
        std::size_t waiting;  ///< callers queued in acquire()
    };
    Stats stats() const;
    /// How many physical connections the pool has opened in its lifetime.
    std::uint64_t connectsTotal() const;

    /// Closes idle connections and fails waiters with PgError(Connection); later acquires
    /// fail too, and leased connections are closed when released. Called on shutdown.
    void close();

    const std::string& name() const;

private:
    std::shared_ptr<detail::PgPoolState> state_;
};

/// Read/write split: one primary pool and optional read-replica pools (same options as the
/// primary except the conninfo; replicas are named "<name>-replica-<i>").
///
/// @par Thread safety
/// Same as PgPool: one cluster per io_context thread.
class PgCluster {
public:
    PgCluster(IoContext& io, PgOptions primary, std::vector<std::string> replica_conninfos,
              MetricsRegistry* metrics = nullptr);

    PgPool& primary() noexcept { return *primary_; }
    /// Round robin over the replicas; the primary when there are none.
    PgPool& replica() noexcept;
    std::size_t replicaCount() const noexcept { return replicas_.size(); }
    void close();

private:
    std::unique_ptr<PgPool> primary_;
    std::vector<std::unique_ptr<PgPool>> replicas_;
    std::size_t next_ = 0;
};

}  // namespace restinu::rt
