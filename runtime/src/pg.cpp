#include "restinu/rt/pg.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cmath>
#include <deque>
#include <exception>
#include <unordered_map>

#include "pg_internal.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"

namespace restinu::rt {

namespace net = boost::asio;
using WaitType = net::posix::descriptor_base::wait_type;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kLogger = "pg";

using PgResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

PgResultPtr makeResult(PGresult* r) {
    return PgResultPtr(r, &PQclear);
}

// libpq messages end with a newline; logs and exceptions read better without it.
std::string trimmed(const char* text) {
    std::string s = text != nullptr ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

std::string connMessage(PGconn* c) {
    return trimmed(PQerrorMessage(c));
}

// FATAL and PANIC end the session (admin shutdown 57P01, idle timeouts, ...), even before
// libpq sees the socket close. SQLSTATE class 08 is not enough: a parameter-count mismatch is
// 08P01 at ERROR severity on a healthy session.
bool endsSession(const PGresult* error) {
    const char* severity = PQresultErrorField(error, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity == nullptr) {
        return false;
    }
    const std::string_view s(severity);
    return s == "FATAL" || s == "PANIC";
}

void noticeProcessor(void* /*arg*/, const char* message) {
    if (log::enabled(log::Level::Debug)) {
        log::debug(kLogger, "server notice", {{"notice", trimmed(message)}});
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PgError, PgParam, PgResult

PgError::PgError(Kind kind, const std::string& message, std::string sqlstate)
    : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}

PgParam::PgParam(const char* v) {
    if (v != nullptr) {
        value_.emplace(v);
    }
}

PgParam::PgParam(double v) {
    if (std::isnan(v)) {
        value_.emplace("NaN");
    } else if (std::isinf(v)) {
        value_.emplace(v > 0 ? "Infinity" : "-Infinity");
    } else {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        value_.emplace(buf, ec == std::errc{} ? end : buf);
    }
}

const std::string& PgParam::text() const noexcept {
    static const std::string kEmpty;
    return value_ ? *value_ : kEmpty;
}

void PgResult::Deleter::operator()(pg_result* r) const noexcept {
    PQclear(r);
}

std::size_t PgResult::rows() const noexcept {
    return res_ ? static_cast<std::size_t>(PQntuples(res_.get())) : 0;
}

int PgResult::columns() const noexcept {
    return res_ ? PQnfields(res_.get()) : 0;
}

int PgResult::column(std::string_view name) const {
    for (int i = 0; i < columns(); ++i) {
        if (name == PQfname(res_.get(), i)) {
            return i;
        }
    }
    return -1;
}

void PgResult::check(std::size_t row, int col) const {
    if (row >= rows() || col < 0 || col >= columns()) {
        throw std::out_of_range("PgResult: row " + std::to_string(row) + ", column " +
                                std::to_string(col) + " is out of range (" +
                                std::to_string(rows()) + "x" + std::to_string(columns()) + ")");
    }
}

std::string_view PgResult::get(std::size_t row, int col) const {
    check(row, col);
    const int r = static_cast<int>(row);
    return {PQgetvalue(res_.get(), r, col),
            static_cast<std::size_t>(PQgetlength(res_.get(), r, col))};
}

bool PgResult::isNull(std::size_t row, int col) const {
    check(row, col);
    return PQgetisnull(res_.get(), static_cast<int>(row), col) != 0;
}

std::optional<std::string_view> PgResult::opt(std::size_t row, int col) const {
    if (isNull(row, col)) {
        return std::nullopt;
    }
    return get(row, col);
}

std::int64_t PgResult::getInt(std::size_t row, int col) const {
    if (isNull(row, col)) {
        throw PgError(PgError::Kind::Query, "PgResult::getInt: value is NULL");
    }
    const std::string_view text = get(row, col);
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw PgError(PgError::Kind::Query,
                      "PgResult::getInt: '" + std::string(text) + "' is not an integer");
    }
    return out;
}

std::uint64_t PgResult::affected() const noexcept {
    if (!res_) {
        return 0;
    }
    const char* text = PQcmdTuples(res_.get());
    std::uint64_t out = 0;
    std::from_chars(text, text + std::char_traits<char>::length(text), out);
    return out;
}

std::string_view PgResult::status() const noexcept {
    return res_ ? std::string_view(PQcmdStatus(res_.get())) : std::string_view{};
}

// ---------------------------------------------------------------------------------------------
// One physical connection: the PGconn, an Asio view of its socket, and the deadline timer.

namespace detail {

class PgConnection : public std::enable_shared_from_this<PgConnection> {
public:
    PgConnection(IoContext& io, PGconn* conn) : conn_(conn, &PQfinish), sock_(io), timer_(io) {}

    ~PgConnection() { unbindSocket(); }

    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    /// Connects without blocking: PQconnectStart, then PQconnectPoll driven by socket waits.
    static Task<std::shared_ptr<PgConnection>> open(IoContext& io, const PgOptions& opts);

    /// Sends one command with `send`, waits for all of its results, and returns the last one.
    /// SQL errors throw PgError(Query) and leave the connection usable; anything else (lost
    /// connection, timeout, cancellation) marks it broken.
    Task<PgResultPtr> exec(const std::function<int(PGconn*)>& send,
                           std::chrono::milliseconds timeout);

    PGconn* raw() const noexcept { return conn_.get(); }

    /// Whether the connection can go back to the pool; `why` says why not.
    bool reusable(const char*& why) const noexcept {
        if (broken_) {
            why = "broken (lost, timed out or cancelled mid-query)";
            return false;
        }
        if (busy_) {
            why = "a query is still in flight";
            return false;
        }
        if (PQstatus(raw()) != CONNECTION_OK) {
            why = "connection closed";
            return false;
        }
        if (PQtransactionStatus(raw()) != PQTRANS_IDLE) {
            why = "released inside a transaction";
            return false;
        }
        return true;
    }

    /// Reads whatever the server sent while the connection was idle (notices, notifications, a
    /// FATAL before shutdown) without blocking; false when the connection is gone.
    bool pollIdle() noexcept {
        if (PQconsumeInput(raw()) == 0 || PQstatus(raw()) != CONNECTION_OK) {
            return false;
        }
        while (PGnotify* n = PQnotifies(raw())) {
            PQfreemem(n);
        }
        return true;
    }

    /// While idle in the pool, a read wait on the socket notices the server closing it.
    template <class OnReadable>
    void startIdleWatch(OnReadable on_readable) {
        idle_ = true;
        const std::uint64_t gen = ++watch_gen_;
        sock_.async_wait(WaitType::wait_read,
                         [weak = weak_from_this(), gen, on_readable](boost::system::error_code ec) {
                             if (ec) {
                                 return;
                             }
                             auto self = weak.lock();
                             if (!self || !self->idle_ || self->watch_gen_ != gen) {
                                 return;  // leased or closed since the wait began
                             }
                             on_readable(self);
                         });
    }

    void stopIdleWatch() noexcept {
        idle_ = false;
        ++watch_gen_;
        boost::system::error_code ignored;
        sock_.cancel(ignored);
    }

    std::unordered_map<std::string, std::string>& prepared() noexcept { return prepared_; }

    /// Waits with no deadline until the server sends something (PgListener between
    /// notifications). Ends early, with PgError(Connection), when the wait fails or the
    /// awaiting coroutine is cancelled through its cancellation slot.
    Task<void> waitReadable() {
        auto [ec] =
            co_await sock_.async_wait(WaitType::wait_read, net::as_tuple(net::use_awaitable));
        if (ec) {
            throw PgError(PgError::Kind::Connection, "pg socket wait failed: " + ec.message());
        }
    }

private:
    friend class OpScope;

    void bindSocket() {
        unbindSocket();
        const int fd = PQsocket(raw());
        if (fd < 0) {
            throw PgError(PgError::Kind::Connection, "libpq has no socket: " + connMessage(raw()));
        }
        boost::system::error_code ec;
        sock_.assign(fd, ec);
        if (ec) {
            throw PgError(PgError::Kind::Connection, "cannot watch the socket: " + ec.message());
        }
    }

    // libpq owns the descriptor: hand it back before Asio would close it.
    void unbindSocket() noexcept {
        if (sock_.is_open()) {
            boost::system::error_code ignored;
            sock_.cancel(ignored);
            (void)sock_.release();
        }
    }

    /// Waits for socket readiness within the current operation's deadline.
    Task<void> wait(WaitType type) {
        if (!timed_out_) {
            auto [ec] = co_await sock_.async_wait(type, net::as_tuple(net::use_awaitable));
            if (!timed_out_) {
                if (ec) {
                    throw PgError(PgError::Kind::Connection,
                                  "pg socket wait failed: " + ec.message());
                }
                co_return;
            }
        }
        throw PgError(op_timeout_kind_, std::string("pg ") + op_what_ + " timed out after " +
                                            std::to_string(op_timeout_.count()) + " ms");
    }

    Task<void> flushOut() {
        for (;;) {
            const int r = PQflush(raw());
            if (r == 0) {
                co_return;
            }
            if (r < 0) {
                throw PgError(PgError::Kind::Connection, "cannot send: " + connMessage(raw()));
            }
            co_await wait(WaitType::wait_write);
            // The server may talk while we write; libpq wants that input consumed.
            if (PQconsumeInput(raw()) == 0) {
                throw PgError(PgError::Kind::Connection, "connection lost: " + connMessage(raw()));
            }
        }
    }

    std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
    net::posix::stream_descriptor sock_;
    net::steady_timer timer_;

    // The running operation (connect or one command). The timer handler only acts when the
    // generation still matches, so a timer that fires after completion is harmless.
    std::uint64_t op_gen_ = 0;
    bool busy_ = false;
    bool timed_out_ = false;
    bool broken_ = false;
    std::chrono::milliseconds op_timeout_{0};
    PgError::Kind op_timeout_kind_ = PgError::Kind::Timeout;
    const char* op_what_ = "query";

    bool idle_ = false;
    std::uint64_t watch_gen_ = 0;

    std::unordered_map<std::string, std::string> prepared_;  // name -> SQL
};

/// Brackets one operation on a connection: arms the deadline, and on exit disarms it and marks
/// the connection broken unless ok() was called (exceptions, coroutine destroyed mid-wait).
class OpScope {
public:
    OpScope(PgConnection& c, std::chrono::milliseconds timeout, PgError::Kind timeout_kind,
            const char* what)
        : c_(c) {
        c_.busy_ = true;
        c_.timed_out_ = false;
        c_.op_timeout_ = timeout;
        c_.op_timeout_kind_ = timeout_kind;
        c_.op_what_ = what;
        const std::uint64_t gen = ++c_.op_gen_;
        c_.timer_.expires_after(timeout);
        c_.timer_.async_wait([weak = c_.weak_from_this(), gen](boost::system::error_code ec) {
            if (ec) {
                return;
            }
            auto self = weak.lock();
            if (!self || self->op_gen_ != gen) {
                return;  // the operation finished before the timer fired
            }
            self->timed_out_ = true;
            boost::system::error_code ignored;
            self->sock_.cancel(ignored);
        });
    }

    ~OpScope() {
        ++c_.op_gen_;
        c_.timer_.cancel();
        c_.busy_ = false;
        if (!ok_) {
            c_.broken_ = true;
        }
    }

    OpScope(const OpScope&) = delete;
    OpScope& operator=(const OpScope&) = delete;

    void ok() noexcept { ok_ = true; }

private:
    PgConnection& c_;
    bool ok_ = false;
};

Task<std::shared_ptr<PgConnection>> PgConnection::open(IoContext& io, const PgOptions& opts) {
    PGconn* raw = PQconnectStart(opts.conninfo.c_str());
    if (raw == nullptr) {
        throw PgError(PgError::Kind::Connection, "cannot connect: out of memory");
    }
    auto c = std::make_shared<PgConnection>(io, raw);
    if (PQstatus(raw) == CONNECTION_BAD) {
        throw PgError(PgError::Kind::Connection, "cannot connect: " + connMessage(raw));
    }
    PQsetNoticeProcessor(raw, &noticeProcessor, nullptr);

    {
        OpScope op(*c, opts.connect_timeout, PgError::Kind::Connection, "connect");
        PostgresPollingStatusType st = PGRES_POLLING_WRITING;
        while (st != PGRES_POLLING_OK) {
            if (st == PGRES_POLLING_FAILED) {
                throw PgError(PgError::Kind::Connection, "cannot connect: " + connMessage(raw));
            }
            // libpq may switch sockets between attempts (several hosts or addresses); the fd
            // number can even be reused, so register afresh for every wait.
            c->bindSocket();
            co_await c->wait(st == PGRES_POLLING_READING ? WaitType::wait_read
                                                         : WaitType::wait_write);
            st = PQconnectPoll(raw);
        }
        c->bindSocket();
        if (PQsetnonblocking(raw, 1) != 0) {
            throw PgError(PgError::Kind::Connection,
                          "cannot make the connection non-blocking: " + connMessage(raw));
        }
        op.ok();
    }
    if (opts.statement_timeout.count() > 0) {
        const std::string set =
            "SET statement_timeout = " + std::to_string(opts.statement_timeout.count());
        // Named: g++ 12 may destroy a capturing temporary in a co_await twice.
        const std::function<int(PGconn*)> send = [&set](PGconn* pc) {
            return PQsendQuery(pc, set.c_str());
        };
        co_await c->exec(send, opts.connect_timeout);
    }
    co_return c;
}

Task<PgResultPtr> PgConnection::exec(const std::function<int(PGconn*)>& send,
                                     std::chrono::milliseconds timeout) {
    if (busy_) {
        throw PgError(PgError::Kind::Query, "another query is in flight on this connection");
    }
    if (broken_ || PQstatus(raw()) != CONNECTION_OK) {
        broken_ = true;
        throw PgError(PgError::Kind::Connection, "connection is broken: " + connMessage(raw()));
    }
    auto keep_alive = shared_from_this();
    OpScope op(*this, timeout, PgError::Kind::Timeout, "query");
    if (send(raw()) == 0) {
        throw PgError(PgError::Kind::Connection, "cannot send query: " + connMessage(raw()));
    }
    co_await flushOut();

    PgResultPtr result = makeResult(nullptr);
    PgResultPtr error = makeResult(nullptr);
    for (;;) {
        while (PQisBusy(raw()) != 0) {
            co_await wait(WaitType::wait_read);
            if (PQconsumeInput(raw()) == 0) {
                throw PgError(PgError::Kind::Connection, "connection lost: " + connMessage(raw()));
            }
        }
        PgResultPtr r = makeResult(PQgetResult(raw()));
        if (!r) {
            break;  // every result consumed: the connection is ready for the next command
        }
        switch (PQresultStatus(r.get())) {
            case PGRES_FATAL_ERROR:
                if (!error) {
                    error = std::move(r);
                }
                break;
            case PGRES_COPY_IN:
            case PGRES_COPY_OUT:
            case PGRES_COPY_BOTH:
                throw PgError(PgError::Kind::Query, "COPY is not supported by rt::PgPool");
            default:
                result = std::move(r);
                break;
        }
    }

    std::string sqlstate;
    std::string message;
    bool session_over = false;
    if (error) {
        const char* state = PQresultErrorField(error.get(), PG_DIAG_SQLSTATE);
        sqlstate = state != nullptr ? state : "";
        message = trimmed(PQresultErrorMessage(error.get()));
        session_over = endsSession(error.get());
    }
    if (PQstatus(raw()) != CONNECTION_OK || session_over) {
        throw PgError(PgError::Kind::Connection,
                      "connection lost: " + (message.empty() ? connMessage(raw()) : message),
                      sqlstate);
    }
    op.ok();
    if (error) {
        // 57014 is query_canceled: statement_timeout or pg_cancel_backend.
        const auto kind = sqlstate == "57014" ? PgError::Kind::Timeout : PgError::Kind::Query;
        throw PgError(kind, "pg query failed [" + sqlstate + "]: " + message, sqlstate);
    }
    co_return result;
}

// The narrow view that PgListener gets of a connection (pg_internal.hpp).

Task<std::shared_ptr<PgConnection>> pgConnect(IoContext& io, const PgOptions& opts) {
    return PgConnection::open(io, opts);
}

Task<void> pgRunScript(std::shared_ptr<PgConnection> c, std::string sql,
                       std::chrono::milliseconds timeout) {
    co_await c->exec([&](PGconn* raw) { return PQsendQuery(raw, sql.c_str()); }, timeout);
}

Task<void> pgWaitReadable(std::shared_ptr<PgConnection> c) {
    co_await c->waitReadable();
}

PGconn* pgRaw(const PgConnection& c) noexcept {
    return c.raw();
}

// ---------------------------------------------------------------------------------------------
// The pool's state, shared with leases so that a lease outliving the pool stays safe.

struct PgMetrics {
    Gauge& idle;
    Gauge& in_use;
    Gauge& waiting;
    Counter& ok;
    Counter& error;
    Histogram& duration;
};

class PgPoolState : public std::enable_shared_from_this<PgPoolState> {
public:
    PgPoolState(IoContext& io, PgOptions opts, MetricsRegistry* registry)
        : io_(io), opts_(std::move(opts)) {
        if (opts_.size == 0) {
            throw std::invalid_argument("PgOptions::size must be at least 1");
        }
        if (registry != nullptr) {
            auto& conns = registry->gauge("restinu_pg_pool_connections",
                                          "PostgreSQL pool connections by state, and callers "
                                          "waiting for one",
                                          {"pool", "state"});
            auto& queries =
                registry->counter("restinu_pg_queries_total",
                                  "PostgreSQL statements run, by outcome", {"pool", "outcome"});
            auto& duration = registry->histogram(
                "restinu_pg_query_duration_seconds",
                "PostgreSQL statement latency, including the wait for results", {"pool"});
            metrics_.emplace(
                PgMetrics{conns.labels({opts_.name, "idle"}), conns.labels({opts_.name, "in_use"}),
                          conns.labels({opts_.name, "waiting"}), queries.labels({opts_.name, "ok"}),
                          queries.labels({opts_.name, "error"}), duration.labels({opts_.name})});
        }
    }

    ~PgPoolState() {
        idle_.clear();
        in_use_ = 0;
        waiters_.clear();
        publish();
    }

    PgPoolState(const PgPoolState&) = delete;
    PgPoolState& operator=(const PgPoolState&) = delete;

    const PgOptions& options() const noexcept { return opts_; }

    Task<std::shared_ptr<PgConnection>> checkout();
    void checkin(std::shared_ptr<PgConnection> c) noexcept;
    void close() noexcept;

    void recordQuery(bool ok, Clock::time_point start) noexcept {
        if (!metrics_) {
            return;
        }
        (ok ? metrics_->ok : metrics_->error).inc();
        metrics_->duration.observe(std::chrono::duration<double>(Clock::now() - start).count());
    }

    PgPool::Stats stats() const noexcept {
        return {idle_.size() + in_use_, idle_.size(), in_use_, waiters_.size()};
    }
    std::uint64_t connects() const noexcept { return connects_; }

private:
    struct Waiter {
        enum class Outcome { Pending, Conn, Slot, Closed };
        explicit Waiter(IoContext& io) : timer(io) {}
        net::steady_timer timer;
        Outcome outcome = Outcome::Pending;
        std::shared_ptr<PgConnection> conn;
    };

    PgError closedError() const {
        return PgError(PgError::Kind::Connection, "pg pool '" + opts_.name + "' is closed");
    }

    Task<std::shared_ptr<PgConnection>> connect();
    void releaseSlot() noexcept;
    void startIdleWatch(const std::shared_ptr<PgConnection>& c);
    void onIdleReadable(const std::shared_ptr<PgConnection>& c) noexcept;
    void discard(std::shared_ptr<PgConnection> c, const char* why) noexcept;
    void logConnectFailure(const char* what) noexcept;

    // Gauges are shared by the pools of every thread with the same name, so publish deltas.
    void publish() noexcept {
        if (!metrics_) {
            return;
        }
        auto sync = [](Gauge& g, double& published, double now) {
            if (now != published) {
                g.add(now - published);
                published = now;
            }
        };
        sync(metrics_->idle, pub_idle_, static_cast<double>(idle_.size()));
        sync(metrics_->in_use, pub_in_use_, static_cast<double>(in_use_));
        sync(metrics_->waiting, pub_waiting_, static_cast<double>(waiters_.size()));
    }

    IoContext& io_;
    PgOptions opts_;
    bool closed_ = false;
    std::vector<std::shared_ptr<PgConnection>> idle_;  // LIFO: hot connections stay hot
    std::size_t in_use_ = 0;                           // leased, or being opened for a caller
    std::deque<std::shared_ptr<Waiter>> waiters_;      // FIFO, all Pending
    std::uint64_t connects_ = 0;

    std::optional<PgMetrics> metrics_;
    double pub_idle_ = 0;
    double pub_in_use_ = 0;
    double pub_waiting_ = 0;

    Clock::time_point last_connect_log_{};
    std::uint64_t suppressed_connect_logs_ = 0;
};

void PgPoolState::logConnectFailure(const char* what) noexcept {
    // A database that is down makes every acquire fail fast; one line a second is enough.
    try {
        const auto now = Clock::now();
        if (now - last_connect_log_ < std::chrono::seconds(1)) {
            ++suppressed_connect_logs_;
            return;
        }
        log::warn(kLogger, "connect failed",
                  {{"pool", opts_.name},
                   {"error", what},
                   {"suppressed", static_cast<std::int64_t>(suppressed_connect_logs_)}});
        last_connect_log_ = now;
        suppressed_connect_logs_ = 0;
    } catch (...) {
    }
}

void PgPoolState::discard(std::shared_ptr<PgConnection> c, const char* why) noexcept {
    try {
        log::warn(kLogger, "discarding connection", {{"pool", opts_.name}, {"reason", why}});
    } catch (...) {
    }
    c.reset();
}

Task<std::shared_ptr<PgConnection>> PgPoolState::connect() {
    try {
        auto c = co_await PgConnection::open(io_, opts_);
        ++connects_;
        co_return c;
    } catch (const PgError& e) {
        logConnectFailure(e.what());
        throw;
    }
}

Task<std::shared_ptr<PgConnection>> PgPoolState::checkout() {
    auto self = shared_from_this();  // the pool may be destroyed while this waits
    if (closed_) {
        throw closedError();
    }
    while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        c->stopIdleWatch();
        if (c->pollIdle()) {
            ++in_use_;
            publish();
            co_return c;
        }
        discard(std::move(c), "closed by the server while idle");
        publish();
    }

    if (in_use_ >= opts_.size) {
        auto w = std::make_shared<Waiter>(io_);
        w->timer.expires_after(opts_.acquire_timeout);
        waiters_.push_back(w);
        publish();

        // Hand-offs while suspended are not lost if this frame is destroyed (io_context
        // teardown, cancellation): whatever the waiter was given goes back to the pool.
        struct WaitGuard {
            PgPoolState& pool;
            std::shared_ptr<Waiter> w;
            bool consumed = false;
            ~WaitGuard() {
                if (w->outcome == Waiter::Outcome::Pending) {
                    std::erase(pool.waiters_, w);
                } else if (!consumed && w->outcome == Waiter::Outcome::Conn) {
                    pool.checkin(std::move(w->conn));
                } else if (!consumed && w->outcome == Waiter::Outcome::Slot) {
                    pool.releaseSlot();
                }
                pool.publish();
            }
        } guard{*this, w};

        auto [ec] = co_await w->timer.async_wait(net::as_tuple(net::use_awaitable));
        switch (w->outcome) {
            case Waiter::Outcome::Conn:
                guard.consumed = true;
                co_return std::move(w->conn);
            case Waiter::Outcome::Slot:
                guard.consumed = true;
                break;  // a connection was dropped: open a new one in its place
            case Waiter::Outcome::Closed:
                throw closedError();
            case Waiter::Outcome::Pending:
                if (closed_) {
                    throw closedError();
                }
                if (ec == net::error::operation_aborted) {
                    throw PgError(PgError::Kind::Connection, "pg acquire cancelled");
                }
                throw PgError(PgError::Kind::PoolTimeout,
                              "pg pool '" + opts_.name + "': no connection free within " +
                                  std::to_string(opts_.acquire_timeout.count()) + " ms (" +
                                  std::to_string(in_use_) + " in use, " +
                                  std::to_string(waiters_.size() - 1) + " others waiting)");
        }
    } else {
        ++in_use_;
        publish();
    }

    // This caller holds a slot (counted in in_use_) and opens a connection for it.
    struct SlotGuard {
        PgPoolState& pool;
        bool keep = false;
        ~SlotGuard() {
            if (!keep) {
                pool.releaseSlot();
            }
        }
    } slot{*this};
    auto c = co_await connect();
    if (closed_) {
        throw closedError();
    }
    slot.keep = true;
    co_return c;
}

void PgPoolState::releaseSlot() noexcept {
    --in_use_;
    if (!closed_ && !waiters_.empty()) {
        auto w = std::move(waiters_.front());
        waiters_.pop_front();
        ++in_use_;
        w->outcome = Waiter::Outcome::Slot;
        w->timer.cancel();
    }
    publish();
}

void PgPoolState::checkin(std::shared_ptr<PgConnection> c) noexcept {
    const char* why = nullptr;
    if (closed_ || !c->reusable(why)) {
        if (!closed_) {
            discard(std::move(c), why);
        }
        c.reset();
        releaseSlot();
        return;
    }
    if (!waiters_.empty()) {
        auto w = std::move(waiters_.front());
        waiters_.pop_front();
        w->outcome = Waiter::Outcome::Conn;
        w->conn = std::move(c);
        w->timer.cancel();
        publish();
        return;
    }
    try {
        startIdleWatch(c);
        idle_.push_back(std::move(c));
        --in_use_;
        publish();
    } catch (...) {
        c.reset();
        releaseSlot();
    }
}

void PgPoolState::startIdleWatch(const std::shared_ptr<PgConnection>& c) {
    c->startIdleWatch([weak = weak_from_this()](const std::shared_ptr<PgConnection>& conn) {
        if (auto pool = weak.lock()) {
            pool->onIdleReadable(conn);
        }
    });
}

void PgPoolState::onIdleReadable(const std::shared_ptr<PgConnection>& c) noexcept {
    auto it = std::find(idle_.begin(), idle_.end(), c);
    if (it == idle_.end()) {
        return;
    }
    if (c->pollIdle()) {
        try {
            startIdleWatch(c);
            return;
        } catch (...) {
        }
    }
    auto dead = std::move(*it);
    idle_.erase(it);
    dead->stopIdleWatch();
    discard(std::move(dead), "closed by the server while idle");
    // A freed slot lets a waiter (if any) open a replacement.
    ++in_use_;
    releaseSlot();
}

void PgPoolState::close() noexcept {
    closed_ = true;
    for (auto& c : idle_) {
        c->stopIdleWatch();
    }
    idle_.clear();
    for (auto& w : waiters_) {
        w->outcome = Waiter::Outcome::Closed;
        w->timer.cancel();
    }
    waiters_.clear();
    publish();
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// PgConn

namespace {

std::vector<const char*> paramValues(const std::vector<PgParam>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        values.push_back(p.cStr());
    }
    return values;
}

int paramCount(const std::vector<PgParam>& params) {
    if (params.size() > 65535) {
        throw PgError(PgError::Kind::Query, "too many query parameters (max 65535)");
    }
    return static_cast<int>(params.size());
}

}  // namespace

PgConn::PgConn() noexcept = default;

PgConn::PgConn(std::shared_ptr<detail::PgPoolState> pool,
               std::shared_ptr<detail::PgConnection> conn) noexcept
    : pool_(std::move(pool)), conn_(std::move(conn)) {}

PgConn::PgConn(PgConn&& other) noexcept
    : pool_(std::move(other.pool_)), conn_(std::move(other.conn_)) {}

PgConn& PgConn::operator=(PgConn&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = std::move(other.pool_);
        conn_ = std::move(other.conn_);
    }
    return *this;
}

PgConn::~PgConn() {
    release();
}

void PgConn::release() noexcept {
    if (conn_) {
        pool_->checkin(std::move(conn_));
        conn_.reset();
    }
    pool_.reset();
}

std::size_t PgConn::preparedCount() const noexcept {
    return conn_ ? conn_->prepared().size() : 0;
}

int PgConn::backendPid() const noexcept {
    return conn_ ? PQbackendPID(conn_->raw()) : 0;
}

Task<PgResult> PgConn::query(std::string_view sql, std::vector<PgParam> params) {
    if (!conn_) {
        throw PgError(PgError::Kind::Query, "query on an empty PgConn");
    }
    auto conn = conn_;  // the lease may be moved from while we wait
    auto pool = pool_;
    const auto start = Clock::now();
    const std::string text(sql);
    const int n = paramCount(params);
    const auto values = paramValues(params);
    try {
        auto res = co_await conn->exec(
            [&](PGconn* c) {
                return PQsendQueryParams(c, text.c_str(), n, nullptr, values.data(), nullptr,
                                         nullptr, 0);
            },
            pool->options().query_timeout);
        pool->recordQuery(true, start);
        co_return PgResult(res.release());
    } catch (...) {
        pool->recordQuery(false, start);
        throw;
    }
}

Task<void> PgConn::script(std::string_view sql) {
    if (!conn_) {
        throw PgError(PgError::Kind::Query, "script on an empty PgConn");
    }
    auto conn = conn_;
    auto pool = pool_;
    const auto start = Clock::now();
    const std::string text(sql);
    try {
        co_await conn->exec([&](PGconn* c) { return PQsendQuery(c, text.c_str()); },
                            pool->options().query_timeout);
        pool->recordQuery(true, start);
    } catch (...) {
        pool->recordQuery(false, start);
        throw;
    }
}

Task<PgResult> PgConn::execute(std::string_view stmt_name, std::string_view sql,
                               std::vector<PgParam> params) {
    if (!conn_) {
        throw PgError(PgError::Kind::Query, "execute on an empty PgConn");
    }
    if (stmt_name.empty()) {
        throw PgError(PgError::Kind::Query, "a prepared statement needs a name");
    }
    if (conn_->prepared().count(std::string(stmt_name)) == 0 &&
        conn_->prepared().size() >= pool_->options().max_prepared) {
        co_return co_await query(sql, std::move(params));  // no room for another statement
    }
    auto conn = conn_;
    auto pool = pool_;
    const auto start = Clock::now();
    const std::string name(stmt_name);
    const std::string text(sql);
    const int n = paramCount(params);
    const auto values = paramValues(params);
    try {
        auto it = conn->prepared().find(name);
        if (it == conn->prepared().end()) {
            co_await conn->exec(
                [&](PGconn* c) { return PQsendPrepare(c, name.c_str(), text.c_str(), n, nullptr); },
                pool->options().query_timeout);
            conn->prepared().emplace(name, text);
        } else if (it->second != text) {
            throw PgError(PgError::Kind::Query,
                          "prepared statement '" + name + "' was prepared with different SQL");
        }
        auto res = co_await conn->exec(
            [&](PGconn* c) {
                return PQsendQueryPrepared(c, name.c_str(), n, values.data(), nullptr, nullptr, 0);
            },
            pool->options().query_timeout);
        pool->recordQuery(true, start);
        co_return PgResult(res.release());
    } catch (...) {
        pool->recordQuery(false, start);
        throw;
    }
}

// ---------------------------------------------------------------------------------------------
// PgPool, PgCluster

PgPool::PgPool(IoContext& io, PgOptions opts, MetricsRegistry* metrics)
    : state_(std::make_shared<detail::PgPoolState>(io, std::move(opts), metrics)) {}

PgPool::~PgPool() {
    state_->close();
}

Task<PgConn> PgPool::acquire() {
    auto state = state_;
    auto conn = co_await state->checkout();
    co_return PgConn(std::move(state), std::move(conn));
}

Task<PgResult> PgPool::query(std::string_view sql, std::vector<PgParam> params) {
    auto conn = co_await acquire();
    co_return co_await conn.query(sql, std::move(params));
}

Task<PgResult> PgPool::execute(std::string_view stmt_name, std::string_view sql,
                               std::vector<PgParam> params) {
    auto conn = co_await acquire();
    co_return co_await conn.execute(stmt_name, sql, std::move(params));
}

Task<void> PgPool::transaction(std::function<Task<void>(PgConn&)> body) {
    auto conn = co_await acquire();
    co_await conn.query("BEGIN");
    std::exception_ptr failure;
    try {
        co_await body(conn);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        if (conn) {
            try {
                co_await conn.query("ROLLBACK");
            } catch (...) {
                // The connection is broken or still in a transaction: checkin discards it.
            }
        }
        std::rethrow_exception(failure);
    }
    auto res = co_await conn.query("COMMIT");
    if (res.status() == "ROLLBACK") {
        throw PgError(PgError::Kind::Query,
                      "pg transaction rolled back at COMMIT: a statement in it failed", "25P02");
    }
}

Task<void> PgPool::ping() {
    co_await query("SELECT 1");
}

PgPool::Stats PgPool::stats() const {
    return state_->stats();
}

std::uint64_t PgPool::connectsTotal() const {
    return state_->connects();
}

void PgPool::close() {
    state_->close();
}

const std::string& PgPool::name() const {
    return state_->options().name;
}

PgCluster::PgCluster(IoContext& io, PgOptions primary, std::vector<std::string> replica_conninfos,
                     MetricsRegistry* metrics) {
    for (std::size_t i = 0; i < replica_conninfos.size(); ++i) {
        PgOptions o = primary;
        o.conninfo = std::move(replica_conninfos[i]);
        o.name = primary.name + "-replica-" + std::to_string(i);
        replicas_.push_back(std::make_unique<PgPool>(io, std::move(o), metrics));
    }
    primary_ = std::make_unique<PgPool>(io, std::move(primary), metrics);
}

PgPool& PgCluster::replica() noexcept {
    if (replicas_.empty()) {
        return *primary_;
    }
    PgPool& p = *replicas_[next_ % replicas_.size()];
    ++next_;
    return p;
}

void PgCluster::close() {
    primary_->close();
    for (auto& r : replicas_) {
        r->close();
    }
}

}  // namespace restinu::rt
