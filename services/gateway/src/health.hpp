#pragma once

#include <boost/asio/steady_timer.hpp>
#include <string>

#include "forwarder.hpp"
#include "restinu/rt/task.hpp"
#include "settings.hpp"

/// Stage 5 of the gateway (beside the request path): active health checks. Every
/// `health_interval` each instance's /readyz is probed; the balancer keeps away from instances
/// that fail `unhealthy_threshold` checks in a row. The gateway's own /readyz asks that some
/// instance of each service is ready now.
namespace restinu::gateway {

class HealthChecker {
public:
    HealthChecker(rt::Shard& shard, const Settings& settings, Upstreams& upstreams);

    /// Probes every instance now and every health_interval, until stop().
    rt::Task<void> loop();
    void stop();

    /// For /readyz: some instance of `service` answers its own /readyz now (usable ones
    /// first); throws what each instance answered otherwise.
    rt::Task<void> ready(std::string service);

private:
    /// "" when `up` answers 200 on /readyz in time, else what went wrong.
    rt::Task<std::string> probe(Upstream up);
    rt::Task<void> checkOne(std::string service, std::size_t i);

    rt::Shard& shard_;
    const Settings& settings_;
    Upstreams& upstreams_;
    boost::asio::steady_timer timer_;
    bool stopped_ = false;
};

}  // namespace restinu::gateway
