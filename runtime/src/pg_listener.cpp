#include "restinu/rt/pg_listener.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <random>
#include <stdexcept>
#include <utility>

#include "pg_internal.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::rt {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace detail {

/// One start()..stop() of a listener, shared by the PgListener and its coroutine so that the
/// coroutine never touches the listener itself. The co_spawn completion handler holds it too:
/// `cancel` must outlive every Asio operation of the coroutine (their slots point into it).
struct PgListenerRun {
    PgListenerRun(IoContext& io_context, PgOptions options, std::vector<std::string> names,
                  PgListener::OnNotify notify, PgListener::OnReconnect reconnect)
        : io(io_context),
          opts(std::move(options)),
          channels(std::move(names)),
          on_notify(std::move(notify)),
          on_reconnect(std::move(reconnect)) {}

    IoContext& io;
    PgOptions opts;
    std::vector<std::string> channels;
    PgListener::OnNotify on_notify;
    PgListener::OnReconnect on_reconnect;
    net::cancellation_signal cancel;
    bool stopped = false;
    bool listening = false;
    std::uint64_t reconnects = 0;
};

}  // namespace detail

namespace {

using detail::PgConnection;
using detail::PgListenerRun;

constexpr std::string_view kLogger = "pg";
constexpr std::chrono::milliseconds kBackoffMin = 50ms;
constexpr std::chrono::milliseconds kBackoffMax = 2s;
// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
constexpr std::size_t kMaxChannelBytes = 63;

using NotifyPtr = std::unique_ptr<PGnotify, decltype(&PQfreemem)>;
using CharPtr = std::unique_ptr<char, decltype(&PQfreemem)>;

/// libpq's message on one line: its line breaks and tabs become spaces, the end is trimmed.
std::string oneLine(std::string_view text) {
    std::string s;
    s.reserve(text.size());
    for (const char ch : text) {
        const bool space = ch == '\n' || ch == '\t' || ch == ' ';
        if (!space || (!s.empty() && s.back() != ' ')) {
            s += space ? ' ' : ch;
        }
    }
    while (!s.empty() && s.back() == ' ') {
        s.pop_back();
    }
    return s;
}

std::string trimmed(const char* text) {
    return oneLine(text != nullptr ? text : "");
}

/// "LISTEN "a";LISTEN "b";" with every name quoted by libpq, so any name is safe and matches
/// pg_notify()'s argument exactly (case included).
std::string listenSql(PGconn* c, const std::vector<std::string>& channels) {
    std::string sql;
    for (const auto& name : channels) {
        CharPtr quoted(PQescapeIdentifier(c, name.data(), name.size()), &PQfreemem);
        if (!quoted) {
            throw PgError(PgError::Kind::Connection,
                          "cannot quote channel name: " + trimmed(PQerrorMessage(c)));
        }
        sql += "LISTEN ";
        sql += quoted.get();
        sql += ';';
    }
    return sql;
}

void logCallbackFailure(const char* which, const char* what) noexcept {
    try {
        log::error(kLogger, "listener callback threw", {{"callback", which}, {"error", what}});
    } catch (...) {
    }
}

/// Hands every notification libpq has queued to on_notify, in order; stops as soon as the run
/// is stopped (a callback may stop or destroy the listener).
void deliver(PgListenerRun& run, PGconn* c) {
    while (!run.stopped) {
        NotifyPtr n(PQnotifies(c), &PQfreemem);
        if (!n) {
            return;
        }
        try {
            run.on_notify(n->relname, n->extra != nullptr ? n->extra : "");
        } catch (const std::exception& e) {
            logCallbackFailure("on_notify", e.what());
        } catch (...) {
            logCallbackFailure("on_notify", "unknown exception");
        }
    }
}

/// One wait in [d/2, d]: listeners that lost the same server do not all come back at once.
std::chrono::milliseconds jittered(std::chrono::milliseconds d, std::minstd_rand& rng) {
    std::uniform_int_distribution<std::int64_t> dist(d.count() / 2, d.count());
    return std::chrono::milliseconds(dist(rng));
}

/// Tracks one outage so that it is logged once when it begins and once when it ends, however
/// many attempts it takes.
struct Outage {
    bool active = false;
    Clock::time_point since{};
    std::uint64_t attempts = 0;

    void failed(const PgListenerRun& run, bool was_listening, const std::string& error) {
        ++attempts;
        if (active) {
            if (log::enabled(log::Level::Debug)) {
                log::debug(kLogger, "listener reconnect attempt failed",
                           {{"attempt", attempts}, {"error", error}});
            }
            return;
        }
        active = true;
        since = Clock::now();
        log::warn(kLogger,
                  was_listening ? "listener connection lost, reconnecting"
                                : "listener cannot connect, retrying",
                  {{"channels", run.channels.size()}, {"error", error}});
    }

    void recovered() {
        if (!active) {
            return;
        }
        const auto down =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since);
        log::info(kLogger, "listener listening again",
                  {{"failures", attempts}, {"down_ms", down.count()}});
        active = false;
        attempts = 0;
    }
};

/// Connects, LISTENs, delivers; on any failure waits (backoff) and starts over, until stopped.
/// Cancellation (stop()) reaches whichever operation is pending through the co_spawn slot.
Task<void> listenLoop(std::shared_ptr<PgListenerRun> run) {
    net::steady_timer backoff_timer(run->io);
    std::minstd_rand rng(std::random_device{}());
    auto backoff = kBackoffMin;
    bool listened_before = false;
    Outage outage;

    while (!run->stopped) {
        std::string error;
        bool was_listening = false;
        try {
            auto conn = co_await detail::pgConnect(run->io, run->opts);
            PGconn* raw = detail::pgRaw(*conn);
            co_await detail::pgRunScript(conn, listenSql(raw, run->channels),
                                         run->opts.connect_timeout);
            if (run->stopped) {
                break;
            }
            run->listening = true;
            was_listening = true;
            backoff = kBackoffMin;
            outage.recovered();
            if (listened_before) {
                ++run->reconnects;
                if (run->on_reconnect) {
                    try {
                        run->on_reconnect();
                    } catch (const std::exception& e) {
                        logCallbackFailure("on_reconnect", e.what());
                    } catch (...) {
                        logCallbackFailure("on_reconnect", "unknown exception");
                    }
                }
            } else {
                log::info(kLogger, "listener listening", {{"channels", run->channels.size()}});
            }
            listened_before = true;

            // Notifications may already have come in with LISTEN's results.
            deliver(*run, raw);
            while (!run->stopped) {
                co_await detail::pgWaitReadable(conn);
                if (PQconsumeInput(raw) == 0 || PQstatus(raw) != CONNECTION_OK) {
                    throw PgError(PgError::Kind::Connection,
                                  "connection lost: " + trimmed(PQerrorMessage(raw)));
                }
                deliver(*run, raw);
            }
        } catch (const std::exception& e) {
            error = oneLine(e.what());
        }
        // The connection is closed (PQfinish) here, whatever happened.
        run->listening = false;
        if (run->stopped) {
            break;
        }
        outage.failed(*run, was_listening, error);

        backoff_timer.expires_after(jittered(backoff, rng));
        backoff = std::min(backoff * 2, kBackoffMax);
        co_await backoff_timer.async_wait(net::as_tuple(net::use_awaitable));
    }
    run->listening = false;
}

void validateChannels(const std::vector<std::string>& channels) {
    if (channels.empty()) {
        throw std::invalid_argument("PgListener needs at least one channel");
    }
    for (const auto& name : channels) {
        if (name.empty() || name.size() > kMaxChannelBytes ||
            name.find('\0') != std::string::npos) {
            throw std::invalid_argument("PgListener: bad channel name '" + name +
                                        "' (1 to 63 bytes, no NUL)");
        }
    }
}

}  // namespace

PgListener::PgListener(IoContext& io, std::string conninfo, std::vector<std::string> channels,
                       OnNotify on_notify, std::chrono::milliseconds connect_timeout)
    : io_(io),
      conninfo_(std::move(conninfo)),
      channels_(std::move(channels)),
      on_notify_(std::move(on_notify)),
      connect_timeout_(connect_timeout) {
    validateChannels(channels_);
    if (!on_notify_) {
        throw std::invalid_argument("PgListener needs an on_notify callback");
    }
}

PgListener::~PgListener() {
    stop();
}

void PgListener::setOnReconnect(OnReconnect on_reconnect) {
    on_reconnect_ = std::move(on_reconnect);
}

void PgListener::start() {
    if (run_ && !run_->stopped) {
        return;
    }
    PgOptions opts;
    opts.conninfo = conninfo_;
    opts.name = "listener";
    opts.connect_timeout = connect_timeout_;
    run_ = std::make_shared<detail::PgListenerRun>(io_, std::move(opts), channels_, on_notify_,
                                                   on_reconnect_);
    // The handler keeps the run (and so its cancellation signal) alive until the coroutine
    // has fully unwound.
    net::co_spawn(
        io_, listenLoop(run_),
        net::bind_cancellation_slot(run_->cancel.slot(), [run = run_](std::exception_ptr e) {
            if (!e) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                if (!run->stopped) {
                    log::error(kLogger, "listener stopped unexpectedly", {{"error", ex.what()}});
                }
            } catch (...) {
            }
        }));
}

void PgListener::stop() {
    if (!run_ || run_->stopped) {
        return;
    }
    run_->stopped = true;
    run_->listening = false;
    run_->cancel.emit(net::cancellation_type::terminal);
}

bool PgListener::listening() const {
    return run_ && run_->listening;
}

std::uint64_t PgListener::reconnects() const {
    return run_ ? run_->reconnects : 0;
}

}  // namespace restinu::rt
