#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {

namespace detail {
struct PgListenerRun;
}  // namespace detail

/// A PostgreSQL LISTEN/NOTIFY subscriber on its own dedicated connection, driven by the Asio
/// loop like PgPool (non-blocking libpq: PQconnectStart/Poll, PQsendQuery, PQconsumeInput and
/// PQnotifies after the socket becomes readable).
///
/// start() spawns one background coroutine that connects, LISTENs on every channel (names are
/// quoted with PQescapeIdentifier, so they match pg_notify()'s first argument exactly,
/// case included) and delivers each notification to `on_notify` in the order the server sent
/// it. When the connection is lost (server restart, terminated backend) it reconnects by
/// itself, with a jittered backoff from 50 ms doubling to 2 s, LISTENs again and then calls
/// the on_reconnect callback: notifications sent while it was disconnected are lost, so a
/// caller that relies on them (an outbox relay) must re-scan its source there. The same holds
/// before the first LISTEN: scan once after listening() turns true, not before start().
///
/// Callbacks run on the io_context thread, inside the listener's coroutine; they must not
/// block. An exception from a callback is logged and swallowed. A callback may call stop()
/// or destroy the listener; no callback runs after stop() returns.
///
/// @par Thread safety
/// Not thread-safe: a listener is bound to one io_context and used only from the thread that
/// runs it (construct, start, stop and destroy it there). Destroy it before its io_context.
class PgListener {
public:
    using OnNotify = std::function<void(std::string_view channel, std::string_view payload)>;
    using OnReconnect = std::function<void()>;

    /// Throws std::invalid_argument when there is no channel or a name is empty, longer than
    /// 63 bytes (PostgreSQL would truncate it) or contains a NUL byte.
    PgListener(IoContext& io, std::string conninfo, std::vector<std::string> channels,
               OnNotify on_notify,
               std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));
    /// Stops: no callback runs after it, and the background coroutine ends on its own (it only
    /// holds shared state, never the listener).
    ~PgListener();
    PgListener(const PgListener&) = delete;
    PgListener& operator=(const PgListener&) = delete;

    /// Called after each successful re-LISTEN that follows a lost connection (not after the
    /// first LISTEN). Set it before start().
    void setOnReconnect(OnReconnect on_reconnect);

    /// Spawns the background loop on the io_context. A no-op while running; after stop() it
    /// starts a new loop on a new connection (and reconnects() starts again from 0).
    void start();
    /// Cancels whatever the loop is waiting for (connect, LISTEN, socket, backoff) and closes
    /// its connection once the loop has unwound. Idempotent.
    void stop();

    /// True once LISTEN succeeded on the current connection; false while reconnecting.
    bool listening() const;
    /// Successful re-LISTENs after a lost connection since start().
    std::uint64_t reconnects() const;

private:
    IoContext& io_;
    std::string conninfo_;
    std::vector<std::string> channels_;
    OnNotify on_notify_;
    OnReconnect on_reconnect_;
    std::chrono::milliseconds connect_timeout_;
    std::shared_ptr<detail::PgListenerRun> run_;
};

}  // namespace restinu::rt
