#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "restinu/rt/task.hpp"

/// Request bodies too large to hold in memory (photo uploads): the HTTP server writes them to a
/// temporary file as they arrive (ServerOptions::spool), and the HTTP client can send one on.
/// The file's blocking work (write, read, hash) runs on the runtime's file threads (fileIo()),
/// never on a loop thread.
namespace restinu::rt {

class WorkerPool;

/// The process's spool budget is used up (SpooledBody::setBudget).
class SpoolFull : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The process-wide threads for blocking file work (two; created on first use). Spooling, the
/// client's reads of a spooled body, and services' own file stores share them.
WorkerPool& fileIo();

/// A request body in a temporary file: created empty, appended to, then finished (its size and
/// SHA-256 are fixed from then on). The file is unlinked as soon as it is created, so it leaves
/// no trace whatever happens to the process; readers use the descriptor (pread) or the path
/// `/proc/self/fd/N`, valid while this object lives.
///
/// @par Thread safety
/// One writer at a time (the server's read loop, through fileIo()); after finish(), any
/// number of readers.
class SpooledBody {
public:
    /// A new empty body in `dir` (the system's temporary folder when empty). Throws
    /// std::system_error naming the folder when it cannot be created.
    static std::shared_ptr<SpooledBody> create(const std::string& dir);
    ~SpooledBody();
    SpooledBody(const SpooledBody&) = delete;
    SpooledBody& operator=(const SpooledBody&) = delete;

    /// Blocking: appends `data` and hashes it. Call from a file thread. Throws SpoolFull when
    /// the process's spooled bytes would pass the budget (setBudget), and writes nothing then.
    void append(std::string_view data);
    /// Fixes the size and the digest. Call once, after the last append.
    void finish();
    /// Blocking: up to `n` bytes from `offset` (fewer only at the end).
    std::string read(std::uint64_t offset, std::size_t n) const;

    /// Appends `data` on a file thread (the caller's loop goes on meanwhile).
    Task<void> appendAsync(std::string data);

    std::uint64_t size() const { return size_; }
    /// Lowercase hex SHA-256 of the whole body; empty before finish().
    const std::string& sha256() const { return sha256_; }
    int fd() const { return fd_; }
    /// A path that opens this body (`/proc/self/fd/N`), for libraries that want a file name.
    std::string path() const;

    /// The most bytes all live spooled bodies of this process may hold together (default 1 GiB,
    /// `http.spool_budget`): an upload past it is refused (503) instead of filling the disk.
    static void setBudget(std::uint64_t bytes);
    /// Bytes all live spooled bodies hold now.
    static std::uint64_t spooledBytes();

private:
    SpooledBody() = default;
    struct Hash;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::string sha256_;
    std::unique_ptr<Hash> hash_;
};

}  // namespace restinu::rt
