#pragma once

#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "restinu/rt/task.hpp"

namespace restinu::rt {

/// Threads for CPU-heavy work (password hashing, image resizing, PDF) so that loop threads
/// never run it. `co_await pool.run(fn)` runs `fn` on a worker and resumes the caller on its
/// own loop thread with the result, or with the exception `fn` threw.
///
/// g++ 12 bug: a lambda *temporary* that captures by value (a std::string, say) written inside
/// a co_await expression is destroyed twice. Name it first:
///     auto job = [password] { return hashPassword(password); };
///     auto hash = co_await workers.run(std::move(job));
///
/// The queue is bounded: with `max_queued` jobs waiting or running, run() refuses more by
/// throwing ApiError 503 (`unavailable`, `Retry-After: 1`), so an overload answers at once
/// instead of queueing work whose callers will have given up (0: no bound).
///
/// @par Thread safety
/// run() may be called from any thread.
class WorkerPool {
public:
    explicit WorkerPool(std::size_t threads, std::size_t max_queued = 0)
        : pool_(threads), max_queued_(max_queued) {}
    ~WorkerPool() { stop(); }
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    template <class Fn>
    Task<std::invoke_result_t<Fn>> run(Fn fn) {
        // Not a coroutine itself, and no coroutine lambda on the pool: g++ 12 destroys some
        // coroutine temporaries twice. A callback chain through async_initiate is plain.
        using R = std::invoke_result_t<Fn>;
        admit();
        if constexpr (std::is_void_v<R>) {
            return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                               void(std::exception_ptr)>(
                [this](auto handler, Fn f) {
                    boost::asio::post(
                        pool_, [this, h = std::move(handler), f = std::move(f)]() mutable {
                            std::exception_ptr error;
                            try {
                                f();
                            } catch (...) {
                                error = std::current_exception();
                            }
                            queued_.fetch_sub(1, std::memory_order_relaxed);
                            auto ex = boost::asio::get_associated_executor(h);
                            boost::asio::dispatch(
                                ex, [h = std::move(h), error]() mutable { std::move(h)(error); });
                        });
                },
                boost::asio::use_awaitable, std::move(fn));
        } else {
            return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                               void(std::exception_ptr, R)>(
                [this](auto handler, Fn f) {
                    boost::asio::post(
                        pool_, [this, h = std::move(handler), f = std::move(f)]() mutable {
                            std::exception_ptr error;
                            std::optional<R> value;
                            try {
                                value.emplace(f());
                            } catch (...) {
                                error = std::current_exception();
                            }
                            queued_.fetch_sub(1, std::memory_order_relaxed);
                            auto ex = boost::asio::get_associated_executor(h);
                            boost::asio::dispatch(
                                ex, [h = std::move(h), error, value = std::move(value)]() mutable {
                                    std::move(h)(error, value ? std::move(*value) : R{});
                                });
                        });
                },
                boost::asio::use_awaitable, std::move(fn));
        }
    }

    /// Runs `fn` on a worker with no one waiting for it (clean-up work; not counted against
    /// the queue's bound, never refused). `fn` must not throw.
    template <class Fn>
    void post(Fn fn) {
        boost::asio::post(pool_, std::move(fn));
    }

    /// Waits for queued work to finish and joins the threads.
    void stop() { pool_.join(); }

    /// Jobs waiting or running now.
    std::size_t queued() const { return queued_.load(std::memory_order_relaxed); }

private:
    // Counts the job in, or throws the 503 when the queue is full.
    void admit() {
        auto before = queued_.fetch_add(1, std::memory_order_relaxed);
        if (max_queued_ != 0 && before >= max_queued_) {
            queued_.fetch_sub(1, std::memory_order_relaxed);
            throwBusy();
        }
    }
    [[noreturn]] static void throwBusy();

    boost::asio::thread_pool pool_;
    std::size_t max_queued_;
    std::atomic<std::size_t> queued_{0};
};

}  // namespace restinu::rt
