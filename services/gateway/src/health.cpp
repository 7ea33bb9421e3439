#include "health.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "restinu/rt/log.hpp"
#include "restinu/rt/service.hpp"

namespace restinu::gateway {

namespace net = boost::asio;

HealthChecker::HealthChecker(rt::Shard& shard, const Settings& settings, Upstreams& upstreams)
    : shard_(shard), settings_(settings), upstreams_(upstreams), timer_(shard.io()) {}

rt::Task<void> HealthChecker::ready(std::string service) {
    auto& sp = upstreams_.at(service);
    auto now = Clock::now();
    std::vector<std::size_t> order;
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < sp.pool.size(); ++i) {
            bool usable = sp.pool.host(i).healthy && !sp.pool.host(i).ejected(now);
            if (usable == (pass == 0)) {
                order.push_back(i);
            }
        }
    }
    std::string errors;
    for (auto i : order) {
        auto err = co_await probe(sp.pool.host(i).address);
        if (err.empty()) {
            co_return;
        }
        errors += sp.pool.host(i).address.text() + ": " + err + "; ";
    }
    throw std::runtime_error("no ready instance: " + errors);
}

rt::Task<std::string> HealthChecker::probe(Upstream up) {
    rt::ClientRequest r;
    r.host = up.host;
    r.port = up.port;
    r.target = "/readyz";
    r.timeout = settings_.health_timeout;
    std::string error;
    try {
        auto res = co_await shard_.http().request(r);
        if (res.status != 200) {
            error = "answered " + std::to_string(res.status);
        }
    } catch (const std::exception& e) {
        error = e.what();
    }
    co_return error;
}

rt::Task<void> HealthChecker::checkOne(std::string service, std::size_t i) {
    auto& sp = upstreams_.at(service);
    auto up = sp.pool.host(i).address;
    auto error = co_await probe(up);
    if (stopped_) {
        co_return;
    }
    bool was_healthy = sp.pool.host(i).healthy;
    sp.pool.healthChecked(i, error.empty(), Clock::now());
    bool healthy = sp.pool.host(i).healthy;
    if (was_healthy != healthy && shard_.index() == 0) {
        rt::log::warn("health", healthy ? "instance healthy again" : "instance unhealthy",
                      {{"service", service}, {"upstream", up.text()}, {"error", error}});
    }
}

rt::Task<void> HealthChecker::loop() {
    while (!stopped_) {
        for (const auto& [name, sp] : upstreams_.all()) {
            for (std::size_t i = 0; i < sp->pool.size(); ++i) {
                net::co_spawn(shard_.io(), checkOne(name, i), net::detached);
            }
        }
        timer_.expires_after(settings_.health_interval);
        boost::system::error_code ec;
        co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
    }
}

void HealthChecker::stop() {
    stopped_ = true;
    timer_.cancel();
}

}  // namespace restinu::gateway
