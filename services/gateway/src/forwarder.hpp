#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "balancer.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/task.hpp"
#include "settings.hpp"

namespace restinu::rt {
class Shard;
class Counter;
class Histogram;
}  // namespace restinu::rt

/// Stage 4 of the gateway: forwarding. The request goes to an instance of its service chosen by
/// the balancer (balancer.hpp), signed with the caller's identity; a try that failed in a way
/// that allows it is sent again to another instance, within the route's deadline, its
/// max_retries and the service's retry budget.
namespace restinu::gateway {

struct UpstreamMetrics {
    rt::Counter* ok = nullptr;
    rt::Counter* connect_failure = nullptr;
    rt::Counter* failure = nullptr;
    rt::Histogram* duration = nullptr;
};

/// One service's instances on one loop thread: balancer state, retry budget, metrics.
struct ServicePool {
    std::string name;
    Pool pool;
    RetryBudget budget;
    std::vector<UpstreamMetrics> metrics;  ///< one per instance, in the pool's order
    rt::Counter* retries = nullptr;
    rt::Counter* ejections = nullptr;
};

/// Every service's pool on one loop thread (shared by forwarding and health checks).
class Upstreams {
public:
    Upstreams(rt::Shard& shard, const Settings& settings);
    ServicePool& at(const std::string& service) { return *pools_.at(service); }
    const std::map<std::string, std::unique_ptr<ServicePool>, std::less<>>& all() const {
        return pools_;
    }

private:
    std::map<std::string, std::unique_ptr<ServicePool>, std::less<>> pools_;
};

/// The request to send upstream, without its signed identity (signIdentity adds it, last):
/// hop-by-hop headers, client identity headers and a verified bearer token (`claims` set)
/// are dropped; X-Request-Id, X-Forwarded-For and a new traceparent are set.
rt::ClientRequest upstreamRequest(const rt::Request& req, const rt::AccessClaims* claims,
                                  const std::vector<std::string>& trusted_proxies);

/// Appends the signed identity of `claims` (anonymous when null) and `req.client_ip`, signed at
/// `now_unix`. Every forwarded request is signed: the service learns the client's address from it.
void signIdentity(rt::ClientRequest& out, const rt::Request& req, const rt::AccessClaims* claims,
                  const std::string& secret, std::int64_t now_unix);

/// The upstream's answer as the gateway's: hop-by-hop headers and its X-Request-Id dropped.
rt::Response toResponse(rt::ClientResponse res);

class Forwarder {
public:
    Forwarder(rt::Shard& shard, const Settings& settings, Upstreams& upstreams)
        : shard_(shard), settings_(settings), upstreams_(upstreams) {}

    /// `claims`: the verified caller, or null for an anonymous request.
    rt::Task<rt::Response> forward(const rt::Request& req, const std::string& service,
                                   const RouteRule* rule, const rt::AccessClaims* claims);

private:
    rt::Shard& shard_;
    const Settings& settings_;
    Upstreams& upstreams_;
};

}  // namespace restinu::gateway
