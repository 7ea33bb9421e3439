#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "channel.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
class MetricsRegistry;
class PassLoop;
}  // namespace restinu::rt

/// Sends queued messages: takes due ones under a lease, hands each to its channel, and records
/// the outcome (sent; failed and queued again with backoff; dead after the channel's last
/// attempt or a permanent refusal). Woken at once by a new message (LISTEN), else it polls.
namespace restinu::notification {

struct DispatchSettings {
    int batch = 50;                                             ///< messages taken at once
    std::chrono::milliseconds lease{std::chrono::seconds(60)};  ///< then another may take one
    std::chrono::milliseconds poll{std::chrono::seconds(1)};
};

/// A channel with its retry policy.
struct Route {
    Channel* channel = nullptr;
    RetryPolicy policy;
};

class Dispatcher {
public:
    /// `conninfo`: the database, for LISTEN notification_messages.
    Dispatcher(rt::IoContext& io, rt::PgPool& pool, std::string conninfo,
               std::map<std::string, Route> routes, DispatchSettings settings,
               rt::MetricsRegistry& metrics);
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    void start();
    void stop();
    /// One pass: takes and sends one batch; how many it took.
    rt::Task<std::size_t> runOnce();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
    std::unique_ptr<rt::PassLoop> loop_;
};

}  // namespace restinu::notification
