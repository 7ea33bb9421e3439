#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "restinu/rt/task.hpp"

namespace restinu::rt {

/// Threads for CPU-heavy work (password hashing, image resizing, PDF) so that loop threads
/// never run it. `co_await pool.run(fn)` runs `fn` on a worker and resumes the caller on its
/// own loop thread with the result, or with the exception `fn` threw.
///
/// @par Thread safety
/// run() may be called from any thread.
class WorkerPool {
public:
    explicit WorkerPool(std::size_t threads) : pool_(threads) {}
    ~WorkerPool() { stop(); }
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    template <class Fn>
    Task<std::invoke_result_t<Fn>> run(Fn fn) {
        using R = std::invoke_result_t<Fn>;
        co_return co_await boost::asio::co_spawn(
            pool_.get_executor(), [f = std::move(fn)]() mutable -> Task<R> { co_return f(); },
            boost::asio::use_awaitable);
    }

    /// Waits for queued work to finish and joins the threads.
    void stop() { pool_.join(); }

private:
    boost::asio::thread_pool pool_;
};

}  // namespace restinu::rt
