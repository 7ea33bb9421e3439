#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "restinu/rt/pg.hpp"

/// For commands and startup work, never a loop thread (this header brings in Asio: include it
/// only there).
namespace restinu::rt {

/// A one-connection pool on `io`, for a command or startup work. Commands may run long
/// statements (a read-model rebuild), hence the generous default query timeout.
inline std::unique_ptr<PgPool> oneConnectionPool(
    boost::asio::io_context& io, const std::string& conninfo, std::string name,
    std::chrono::milliseconds query_timeout = std::chrono::minutes(30)) {
    PgOptions o;
    o.conninfo = conninfo;
    o.size = 1;
    o.name = std::move(name);
    o.query_timeout = query_timeout;
    return std::make_unique<PgPool>(io, o);
}

/// Runs `fn(io, pool)` with a one-connection pool to `conninfo` on a private io_context (drive
/// it with runBlocking), closes the pool, and returns what `fn` returned.
template <class Fn>
auto withOneConnection(const std::string& conninfo, std::string name, Fn&& fn,
                       std::chrono::milliseconds query_timeout = std::chrono::minutes(30)) {
    boost::asio::io_context io;
    auto owned = oneConnectionPool(io, conninfo, std::move(name), query_timeout);
    auto& pool = *owned;
    struct Close {
        PgPool& pool;
        ~Close() { pool.close(); }
    } close{pool};
    return std::forward<Fn>(fn)(io, pool);
}

}  // namespace restinu::rt
