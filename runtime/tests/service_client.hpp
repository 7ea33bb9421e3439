#pragma once

// An in-process client for one service: its routes, access rules, middleware (the identity
// check included) and problem rendering, wired exactly as `restinu <service>` wires a loop
// thread (rt::wireShard), without a socket. Service integration tests send requests through it
// as the gateway would, so they exercise routes as clients see them, not handler methods.

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/identity.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/router.hpp"
#include "restinu/rt/service.hpp"
#include "restinu/rt/spool.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::testing {

/// A route as a client names it: a method and a path template.
struct Route {
    rt::Method method;
    std::string_view pattern;

    /// The target: each `{name}` of the pattern replaced by its value, then `?query` if any.
    std::string target(const std::vector<std::pair<std::string_view, std::string>>& values = {},
                       const std::string& query = "") const {
        std::string out(pattern);
        for (const auto& [name, value] : values) {
            auto brace = "{" + std::string(name) + "}";
            if (auto at = out.find(brace); at != std::string::npos) {
                out.replace(at, brace.size(), value);
            }
        }
        return query.empty() ? out : out + "?" + query;
    }
};

class ServiceClient {
public:
    /// `yaml`: the service's configuration, as its config file would hold it.
    ServiceClient(const rt::ServiceSpec& spec, const std::string& yaml)
        : config_(rt::Config::fromText(yaml, {})),
          settings_(rt::readRuntimeSettings(config_, spec)),
          metrics_({{"service", spec.name}}),
          workers_(2) {
        // The wiring function owns the service's settings: it lives as long as the shard, as in
        // serviceMain.
        wire_ = spec.configure ? spec.configure(config_) : rt::WireFn{};
        config_.check();  // a bad test config fails here, naming the key
        shard_ = std::make_unique<rt::Shard>(io_, 0, settings_, metrics_, workers_);
        rt::wireShard(*shard_, spec, wire_, replays_, true);
    }

    struct Reply {
        int status = 0;
        boost::json::value body;  ///< parsed when the answer is JSON
        rt::Response raw;
    };

    struct Call {
        Call(rt::Method m, std::string t, std::string b = "")
            : method(m), target(std::move(t)), body(std::move(b)) {}
        rt::Method method = rt::Method::Get;
        std::string target;  ///< path and query
        std::string body;
        /// The caller the gateway vouches for; nullopt: an anonymous request (still signed,
        /// with the client's address, as the gateway signs every request).
        std::optional<rt::Identity> who;
        std::string client_ip = "10.0.0.1";
        std::vector<std::pair<std::string, std::string>> headers;  ///< e.g. If-Match
        bool signed_by_gateway = true;  ///< false: as if sent to the service directly
    };

    /// Sends `c` and waits for the answer (driving the io_context meanwhile).
    Reply send(Call c) {
        auto res = rt::runBlocking(io_, answer(std::move(c)));
        Reply r{res.status, {}, res};
        if (!res.body.empty() && res.content_type.find("json") != std::string::npos) {
            r.body = boost::json::parse(res.body);
        }
        return r;
    }

    /// The answer to `c` as a task, for tests that run requests concurrently.
    rt::Task<rt::Response> answer(Call c) {
        std::string request_id = "test-" + std::to_string(++sent_);
        auto headers = c.headers;
        headers.emplace_back("Content-Type", "application/json");
        headers.emplace_back("X-Request-Id", request_id);
        auto method_name = std::string(rt::methodName(c.method));
        // A spooled route's body reaches the handler as a file, as the server hands it over.
        std::shared_ptr<rt::SpooledBody> spooled;
        const auto& spool = shard_->router().spool();
        if (spool &&
            spool(c.method, std::string_view(c.target).substr(0, c.target.find('?'))) > 0) {
            spooled = rt::SpooledBody::create("");
            spooled->append(c.body);
            spooled->finish();
            c.body.clear();
        }
        if (c.signed_by_gateway) {
            const rt::SignedMessage message{
                method_name, c.target, request_id, c.body,
                spooled ? std::string_view(spooled->sha256()) : std::string_view{}};
            for (auto& h : rt::signIdentity(c.who ? &*c.who : nullptr, c.client_ip, message,
                                            settings_.identity_secret, rt::unixSeconds())) {
                headers.push_back(std::move(h));
            }
        }
        rt::Request req;
        req.method = c.method;
        req.method_name = method_name;
        req.target = c.target;
        auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        req.query = q == std::string_view::npos ? std::string_view{} : req.target.substr(q + 1);
        for (const auto& [k, v] : headers) {
            req.headers.emplace_back(k, v);
        }
        req.body = c.body;
        req.spooled = std::move(spooled);
        req.request_id = request_id;
        req.remote_ip = "127.0.0.1";  // the gateway
        req.client_ip = req.remote_ip;
        rt::Handler not_routed;
        rt::Response res;
        try {
            res = co_await shard_->router().respond(req, not_routed);
        } catch (...) {
            res = rt::failureResponse(req);
        }
        co_return res;
    }

    rt::Shard& shard() { return *shard_; }
    /// The service's metrics (its pools' statement counters, for tests of what a call cost).
    rt::MetricsRegistry& metrics() { return metrics_; }
    /// The loop the service runs on; the test's own pools and tasks run on it too.
    boost::asio::io_context& io() { return io_; }
    const rt::RuntimeSettings& settings() const { return settings_; }

private:
    // In this order: when the client goes, the shard goes first, then the loop with the tasks
    // still suspended on it (their frames may touch the metrics), then what they touch.
    rt::Config config_;
    rt::RuntimeSettings settings_;
    rt::MetricsRegistry metrics_;
    rt::WorkerPool workers_;
    rt::ReplayCache replays_;
    boost::asio::io_context io_;
    rt::WireFn wire_;
    std::unique_ptr<rt::Shard> shard_;
    std::uint64_t sent_ = 0;
};

}  // namespace restinu::testing
