#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>

#include "restinu/rt/task.hpp"

namespace restinu::rt {

/// Runs `task` on `io` from a thread that is not a loop thread (a CLI command, a startup check)
/// and returns its result or rethrows its exception. Returns as soon as the task is done, even
/// when clients on `io` still have background waits (an idle connection's watch).
template <class T>
T runBlocking(IoContext& io, Task<T> task) {
    auto fut = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
    while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        io.restart();
        io.run_one();
    }
    return fut.get();
}

}  // namespace restinu::rt
