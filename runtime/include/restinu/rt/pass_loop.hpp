#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "restinu/rt/task.hpp"

namespace restinu::rt {

/// A background worker's loop: runs `pass` on `io` until stop(); again at once while a pass says
/// there is more to do (it returns true), else after `poll` or as soon as wake() is called. A
/// pass that throws is logged under `logger` (and `on_error` told, for a metric) and the loop
/// goes on at the next poll: a worker never dies of one bad pass. The senders, dispatchers and
/// indexers of the services use it.
///
/// @par Thread safety
/// Use it on `io`'s thread only. The loop keeps itself alive while it runs, so destroying the
/// PassLoop (which stops it) is safe at any time.
class PassLoop {
public:
    PassLoop(IoContext& io, std::chrono::milliseconds poll, std::string logger,
             std::function<Task<bool>()> pass,
             std::function<void(const std::exception&)> on_error = {});
    ~PassLoop();
    PassLoop(const PassLoop&) = delete;
    PassLoop& operator=(const PassLoop&) = delete;

    void start();
    void stop();
    /// Runs the next pass now instead of at the end of the wait; called during a pass, the next
    /// pass follows it at once (what woke it may have come too late for this one).
    void wake();
    bool running() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace restinu::rt
