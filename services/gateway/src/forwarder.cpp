#include "forwarder.hpp"

#include <optional>

#include "edge.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/identity.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/service.hpp"
#include "restinu/rt/spool.hpp"

namespace restinu::gateway {
namespace {

bool idempotentMethod(rt::Method m) {
    return m == rt::Method::Get || m == rt::Method::Head || m == rt::Method::Put ||
           m == rt::Method::Delete || m == rt::Method::Options;
}

rt::Response problem(const rt::Request& req, rt::ProblemType type, std::string detail,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    rt::Problem p{type, std::move(detail), {}, std::move(headers)};
    return rt::problemResponse(p, req.path, req.request_id);
}

}  // namespace

Upstreams::Upstreams(rt::Shard& shard, const Settings& settings) {
    auto& m = shard.metrics();
    auto& requests = m.counter("restinu_gateway_upstream_requests_total",
                               "Tries sent to each upstream instance, by outcome",
                               {"target", "upstream", "outcome"});
    auto& durations = m.histogram("restinu_gateway_upstream_duration_seconds",
                                  "Time from sending a try to its answer", {"target", "upstream"});
    // "target", not "service": every series already has service="gateway".
    auto& retries = m.counter("restinu_gateway_retries_total", "Retries sent", {"target"});
    auto& ejections = m.counter("restinu_gateway_ejections_total",
                                "Instances ejected by outlier detection", {"target"});
    for (const auto& [name, hosts] : settings.upstreams) {
        auto sp = std::make_unique<ServicePool>(
            ServicePool{name,
                        Pool(hosts, settings.outlier),
                        RetryBudget(settings.retry_budget_percent, settings.retry_min_concurrency),
                        {},
                        &retries.labels({name}),
                        &ejections.labels({name})});
        for (const auto& h : hosts) {
            auto text = h.text();
            sp->metrics.push_back(UpstreamMetrics{&requests.labels({name, text, "ok"}),
                                                  &requests.labels({name, text, "connect_failure"}),
                                                  &requests.labels({name, text, "failure"}),
                                                  &durations.labels({name, text})});
        }
        pools_.emplace(name, std::move(sp));
    }
}

rt::ClientRequest upstreamRequest(const rt::Request& req, const rt::AccessClaims* claims,
                                  const std::vector<std::string>& trusted_proxies) {
    rt::ClientRequest out;
    out.method = req.method;
    out.target = std::string(req.target);
    out.body = std::string(req.body);
    out.body_file = req.spooled;
    out.headers.reserve(req.headers.size() + 8);
    auto connection = req.header("Connection");
    for (const auto& [k, v] : req.headers) {
        // A verified bearer token stays here: the signed identity says who is calling, as
        // Envoy's JWT filter removes the token it verified (forward: false).
        if (!isHopByHop(k) && !namedByConnection(k, connection) && !rt::isIdentityHeader(k) &&
            !rt::iequals(k, "X-Request-Id") && !rt::iequals(k, "X-Forwarded-For") &&
            !rt::iequals(k, "traceparent") && !rt::iequals(k, "tracestate") &&
            !(claims != nullptr && rt::iequals(k, "Authorization"))) {
            out.headers.emplace_back(std::string(k), std::string(v));
        }
    }
    out.headers.emplace_back("X-Request-Id", req.request_id);
    out.headers.emplace_back(
        "X-Forwarded-For",
        forwardedFor(req.remote_ip, req.header("X-Forwarded-For"), trusted_proxies));
    auto incoming_trace = req.header("traceparent");
    out.headers.emplace_back("traceparent", nextTraceparent(incoming_trace));
    if (validTraceparent(incoming_trace) && req.hasHeader("tracestate")) {
        out.headers.emplace_back("tracestate", std::string(req.header("tracestate")));
    }
    return out;
}

void signIdentity(rt::ClientRequest& out, const rt::Request& req, const rt::AccessClaims* claims,
                  const std::string& secret, std::int64_t now_unix) {
    static const std::vector<std::string> kNoRoles;
    const rt::SignedMessage message{
        req.method_name, req.target, req.request_id, req.body,
        req.spooled ? std::string_view(req.spooled->sha256()) : std::string_view{}};
    rt::appendSignedIdentity(out.headers,
                             claims != nullptr ? std::string_view(claims->subject) : "",
                             claims != nullptr ? claims->roles : kNoRoles,
                             claims != nullptr ? std::string_view(claims->session_id) : "",
                             req.client_ip, message, secret, now_unix);
}

rt::Response toResponse(rt::ClientResponse res) {
    rt::Response r;
    r.status = res.status;
    r.content_type = std::string(res.header("Content-Type"));
    for (auto& [k, v] : res.headers) {
        if (!isHopByHop(k) && !rt::iequals(k, "Content-Type") && !rt::iequals(k, "X-Request-Id")) {
            r.headers.emplace_back(std::move(k), std::move(v));
        }
    }
    r.body = std::move(res.body);
    return r;
}

rt::Task<rt::Response> Forwarder::forward(const rt::Request& req, const std::string& service,
                                          const RouteRule* rule, const rt::AccessClaims* claims) {
    auto& sp = upstreams_.at(service);
    auto timeout =
        rule != nullptr && rule->timeout.count() > 0 ? rule->timeout : settings_.upstream_timeout;
    int max_retries =
        rule != nullptr && rule->max_retries >= 0 ? rule->max_retries : settings_.max_retries;
    auto now = Clock::now();  // one clock read serves the deadline and the first attempt
    auto deadline = now + timeout;

    auto out = upstreamRequest(req, claims, settings_.trusted_proxies);
    out.pipeline = rule != nullptr && rule->pipeline;
    const auto unsigned_headers = out.headers.size();
    signIdentity(out, req, claims, settings_.identity_secret, rt::unixSeconds());

    BudgetedRequest counted(sp.budget);
    RetryPermit permit;  // held while a retry (not a requeue) is in flight
    std::vector<std::size_t> tried;
    int attempt = 0;
    bool idempotent = idempotentMethod(req.method);
    for (;;) {
        if (attempt > 0) {
            now = Clock::now();
            // A fresh signature for each retry: the first may be older than the services'
            // identity.max_age by now.
            out.headers.resize(unsigned_headers);
            signIdentity(out, req, claims, settings_.identity_secret, rt::unixSeconds());
        }
        auto pick = sp.pool.pick(now, tried);
        if (!pick) {
            co_return problem(req, rt::problems::kUnavailable,
                              "every instance of the " + service + " service is at capacity",
                              {{"Retry-After", "1"}});
        }
        auto i = *pick;
        tried.push_back(i);
        const auto& up = sp.pool.host(i).address;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        if (left.count() <= 0) {
            co_return problem(req, rt::problems::kGatewayTimeout,
                              "the " + service + " service did not answer in time");
        }
        out.host = up.host;
        out.port = up.port;
        out.timeout = left;
        sp.pool.started(i);
        std::optional<rt::ClientResponse> res;
        std::optional<rt::HttpClientError::Kind> kind;
        std::string error;
        auto sent = now;
        try {
            res = co_await shard_.http().request(out);
        } catch (const rt::HttpClientError& e) {
            kind = e.kind();
            error = e.what();
        } catch (const std::exception& e) {
            kind = rt::HttpClientError::Kind::Protocol;
            error = e.what();
        }
        auto done = Clock::now();
        permit.release();
        auto& um = sp.metrics[i];
        um.duration->observe(std::chrono::duration<double>(done - sent).count());
        Outcome outcome = Outcome::Success;
        if (kind == rt::HttpClientError::Kind::Connect) {
            outcome = Outcome::ConnectFailure;
            um.connect_failure->inc();
        } else if (kind || res->status >= 500) {
            outcome = Outcome::Failure;
            um.failure->inc();
        } else {
            um.ok->inc();
        }
        bool was_ejected = sp.pool.host(i).ejected(done);
        sp.pool.finished(i, outcome, done);
        if (!was_ejected && sp.pool.host(i).ejected(done)) {
            sp.ejections->inc();
            rt::log::warn("balancer", "instance ejected",
                          {{"service", service},
                           {"upstream", up.text()},
                           {"times", sp.pool.host(i).times_ejected}});
        }
        if (kind) {
            rt::log::warn("proxy", "upstream failed",
                          {{"request_id", req.request_id},
                           {"service", service},
                           {"upstream", up.text()},
                           {"error", error}});
        }

        // Nothing was sent after a connect failure: any method may go elsewhere. A reset or a
        // gateway-error answer may have had effects: only idempotent methods are retried.
        bool reset = kind == rt::HttpClientError::Kind::Closed ||
                     kind == rt::HttpClientError::Kind::Protocol;
        bool gateway_error =
            res && (res->status == 502 || res->status == 503 || res->status == 504);
        // A try that ended in a connect failure sent nothing, so sending the request to
        // another instance adds no load: it goes again outside the budget, as Finagle's
        // requeues do, so that the requests caught by an instance's death all find another
        // (still within max_retries and the deadline). Other retries take a place in the
        // budget. (A pipelined GET whose batch died is sent again by the client on a fresh
        // connection first; when that connect fails, it is requeued here.)
        bool requeue = kind == rt::HttpClientError::Kind::Connect;
        bool retryable = requeue || (idempotent && (reset || gateway_error));
        if (retryable && attempt < max_retries && done < deadline) {
            if (!requeue) {
                permit = RetryPermit::take(sp.budget);
            }
            if (requeue || permit) {
                ++attempt;
                sp.retries->inc();
                continue;
            }
        }
        if (res) {
            co_return toResponse(std::move(*res));
        }
        if (kind == rt::HttpClientError::Kind::Timeout) {
            co_return problem(req, rt::problems::kGatewayTimeout,
                              "the " + service + " service did not answer in time");
        }
        if (kind == rt::HttpClientError::Kind::Connect) {
            co_return problem(req, rt::problems::kUnavailable,
                              "no instance of the " + service + " service is reachable",
                              {{"Retry-After", "1"}});
        }
        co_return problem(req, rt::problems::kBadGateway,
                          "the " + service + " service closed the connection without an answer");
    }
}

}  // namespace restinu::gateway
