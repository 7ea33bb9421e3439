#pragma once

// Runtime-private: what pg.cpp shares with pg_listener.cpp. Never included by a public header.

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>

#include "restinu/rt/pg.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt::detail {

class PgConnection;

/// Opens a connection as the pool does: PQconnectStart/PQconnectPoll driven by socket waits,
/// bounded by opts.connect_timeout (only conninfo and connect_timeout are used). Throws PgError.
Task<std::shared_ptr<PgConnection>> pgConnect(IoContext& io, const PgOptions& opts);

/// Runs parameterless SQL (it may hold several statements) through the simple query protocol,
/// bounded by `timeout`. Throws PgError; anything but a Query error leaves the connection broken.
Task<void> pgRunScript(std::shared_ptr<PgConnection> c, std::string sql,
                       std::chrono::milliseconds timeout);

/// Waits with no deadline until the socket is readable; throws PgError(Connection) when the
/// wait fails or the coroutine is cancelled through its cancellation slot.
Task<void> pgWaitReadable(std::shared_ptr<PgConnection> c);

PGconn* pgRaw(const PgConnection& c) noexcept;

}  // namespace restinu::rt::detail
