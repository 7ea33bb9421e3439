#include "restinu/gateway/service.hpp"

#include <map>
#include <memory>

#include "restinu/rt/http_client.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/problem.hpp"
#include "route_table.hpp"

namespace restinu::gateway {
namespace {

// Default upstream addresses: each service's default port on loopback.
const std::map<std::string, std::string, std::less<>> kDefaultUpstreams{
    {"user", "127.0.0.1:8101"},         {"property", "127.0.0.1:8102"},
    {"notification", "127.0.0.1:8103"}, {"payment", "127.0.0.1:8104"},
    {"blockchain", "127.0.0.1:8105"},
};

struct Settings {
    std::map<std::string, std::vector<Upstream>, std::less<>> upstreams;
    std::chrono::milliseconds upstream_timeout{15'000};
};

/// One loop thread's forwarding state: a round-robin position per service.
class Proxy {
public:
    Proxy(rt::Shard& shard, const Settings& settings) : shard_(shard), settings_(settings) {}

    rt::Task<rt::Response> forward(rt::Request& req, std::string_view service) {
        const auto& instances = settings_.upstreams.find(service)->second;
        auto start = next_[std::string(service)]++;
        rt::ClientRequest out;
        out.method = req.method;
        out.target = std::string(req.target);
        out.body = std::string(req.body);
        out.timeout = settings_.upstream_timeout;
        out.headers.reserve(req.headers.size() + 2);
        for (const auto& [k, v] : req.headers) {
            if (!isHopByHop(k) && !rt::iequals(k, "X-Request-Id") &&
                !rt::iequals(k, "X-Forwarded-For")) {
                out.headers.emplace_back(std::string(k), std::string(v));
            }
        }
        out.headers.emplace_back("X-Request-Id", req.request_id);
        out.headers.emplace_back("X-Forwarded-For", req.remote_ip);
        for (std::size_t i = 0; i < instances.size(); ++i) {
            const auto& up = instances[(start + i) % instances.size()];
            out.host = up.host;
            out.port = up.port;
            try {
                auto res = co_await shard_.http().request(out);
                co_return toResponse(std::move(res));
            } catch (const rt::HttpClientError& e) {
                rt::log::warn("proxy", "upstream failed",
                              {{"request_id", req.request_id},
                               {"service", service},
                               {"upstream", up.text()},
                               {"error", e.what()}});
                if (e.kind() == rt::HttpClientError::Kind::Timeout) {
                    throw rt::ApiError(
                        rt::problems::kGatewayTimeout,
                        "the " + std::string(service) + " service did not answer in time");
                }
                if (e.kind() != rt::HttpClientError::Kind::Connect) {
                    throw rt::ApiError(rt::problems::kBadGateway,
                                       "the " + std::string(service) +
                                           " service closed the connection without an answer");
                }
                // Nothing was sent: the next instance may take it.
            }
        }
        rt::Problem p{rt::problems::kUnavailable,
                      "no instance of the " + std::string(service) + " service is reachable",
                      {},
                      {{"Retry-After", "1"}}};
        throw rt::ApiError(std::move(p));
    }

    rt::Task<void> ready(std::string_view service) {
        const auto& instances = settings_.upstreams.find(service)->second;
        std::string errors;
        for (const auto& up : instances) {
            rt::ClientRequest r;
            r.host = up.host;
            r.port = up.port;
            r.target = "/readyz";
            r.timeout = std::chrono::milliseconds(1500);
            try {
                auto res = co_await shard_.http().request(r);
                if (res.status == 200) {
                    co_return;  // one ready instance is enough to serve
                }
                errors += up.text() + " answered " + std::to_string(res.status) + "; ";
            } catch (const std::exception& e) {
                errors += up.text() + ": " + e.what() + "; ";
            }
        }
        throw std::runtime_error("no ready instance: " + errors);
    }

private:
    static rt::Response toResponse(rt::ClientResponse res) {
        rt::Response r;
        r.status = res.status;
        r.content_type = std::string(res.header("Content-Type"));
        for (auto& [k, v] : res.headers) {
            if (!isHopByHop(k) && !rt::iequals(k, "Content-Type") &&
                !rt::iequals(k, "X-Request-Id")) {
                r.headers.emplace_back(std::move(k), std::move(v));
            }
        }
        r.body = std::move(res.body);
        return r;
    }

    rt::Shard& shard_;
    const Settings& settings_;
    std::map<std::string, std::size_t, std::less<>> next_;
};

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "gateway";
    s.default_port = 8080;
    s.edge = true;  // strips client identity headers; never trusts them
    s.configure = [](rt::Config& config) -> rt::WireFn {
        auto settings = std::make_shared<Settings>();
        settings->upstream_timeout =
            config.duration("gateway.upstream_timeout", std::chrono::seconds(15));
        for (const auto& service : routedServices()) {
            auto key = "upstreams." + service;
            auto list = config.list(key, std::vector<std::string>{kDefaultUpstreams.at(service)});
            auto& parsed = settings->upstreams[service];
            for (const auto& text : list) {
                if (auto u = parseUpstream(text)) {
                    parsed.push_back(*u);
                }
            }
            if (parsed.empty() || parsed.size() != list.size()) {
                config.reject(key, "must be a list of host:port");
            }
        }
        return [settings](rt::Shard& shard) {
            auto& proxy = shard.keep(std::make_unique<Proxy>(shard, *settings));
            for (const auto& route : publicRoutes()) {
                auto service = route.service;
                auto pattern = std::string(route.prefix) + "/{rest...}";
                for (auto m : {rt::Method::Get, rt::Method::Head, rt::Method::Post, rt::Method::Put,
                               rt::Method::Patch, rt::Method::Delete, rt::Method::Options}) {
                    shard.router().add(m, pattern, [&proxy, service](rt::Request& req) {
                        return proxy.forward(req, service);
                    });
                }
            }
            for (const auto& service : routedServices()) {
                shard.addReadinessCheck(service,
                                        [&proxy, service] { return proxy.ready(service); });
            }
        };
    };
    return s;
}

}  // namespace restinu::gateway
