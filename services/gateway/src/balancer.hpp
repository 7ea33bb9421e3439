#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "route_table.hpp"

/// Choosing an instance of a service, and keeping away from bad ones (ADR 0005). Pure logic with
/// an injected clock: the proxy feeds it outcomes and health-check results, tests feed it
/// anything. One Pool per service per loop thread, so nothing here locks.
namespace restinu::gateway {

using Clock = std::chrono::steady_clock;

struct OutlierPolicy {
    /// Consecutive connect failures or 5xx answers that eject an instance (Envoy's
    /// consecutive_5xx / consecutive_gateway_failure, default 5).
    int consecutive_failures = 5;
    /// First ejection lasts this; the n-th consecutive one n times as long, up to max.
    std::chrono::milliseconds base_ejection{30'000};
    std::chrono::milliseconds max_ejection{300'000};
    /// At most this share of a pool is ejected at once; one instance always may be.
    int max_ejection_percent = 50;
    /// Active checks: failed checks in a row that mark an instance unhealthy, and passed checks
    /// in a row that mark it healthy again (which also lifts an ejection, as Envoy's
    /// successful_active_health_check_uneject_host).
    int unhealthy_threshold = 2;
    int healthy_threshold = 1;
    /// Circuit breaker per instance (Envoy's max_requests): requests in flight beyond this are
    /// not sent to it; when every instance is full the gateway answers 503 at once.
    int max_requests = 1024;
};

enum class Outcome {
    Success,         ///< any answer below 500 (a 404 is the service's business, not a failure)
    ConnectFailure,  ///< nothing was sent
    Failure,         ///< a 5xx answer, a reset or a timeout
};

struct HostState {
    Upstream address;
    int outstanding = 0;
    int consecutive_failures = 0;
    int times_ejected = 0;
    Clock::time_point ejected_until{};
    bool healthy = true;
    int health_failures = 0;
    int health_successes = 0;
    std::uint64_t requests = 0;

    bool ejected(Clock::time_point now) const { return now < ejected_until; }
};

/// Power of two choices on least outstanding requests over the instances that are healthy, not
/// ejected and below their breaker limit. When none is (every instance down or ejected), it
/// "panics" like Envoy and chooses among all instances below their limit, so that a recovered
/// instance is found even before its health check passes.
class Pool {
public:
    Pool(std::vector<Upstream> hosts, OutlierPolicy policy, std::uint64_t seed = 0);

    /// The instance for the next try, skipping `tried` (indices already tried for this request)
    /// when another choice exists; nullopt when every instance is at its breaker limit.
    std::optional<std::size_t> pick(Clock::time_point now, const std::vector<std::size_t>& tried);

    void started(std::size_t i);
    void finished(std::size_t i, Outcome outcome, Clock::time_point now);
    void healthChecked(std::size_t i, bool ok, Clock::time_point now);

    const HostState& host(std::size_t i) const { return hosts_[i]; }
    std::size_t size() const { return hosts_.size(); }
    /// Instances neither ejected nor unhealthy.
    std::size_t available(Clock::time_point now) const;
    const OutlierPolicy& policy() const { return policy_; }

private:
    bool usable(const HostState& h, Clock::time_point now) const;
    void eject(HostState& h, Clock::time_point now);
    std::size_t ejectedCount(Clock::time_point now) const;

    std::vector<HostState> hosts_;
    OutlierPolicy policy_;
    std::mt19937_64 rng_;
};

/// Envoy's retry budget: retries in flight may be at most `percent` of the requests in flight,
/// but `min_concurrency` retries are always allowed, so a quiet pool can still retry.
class RetryBudget {
public:
    RetryBudget(int percent, int min_concurrency)
        : percent_(percent), min_concurrency_(min_concurrency) {}

    void requestStarted() { ++active_; }
    void requestFinished() { --active_; }
    /// Takes a retry slot if the budget allows; release it with retryFinished().
    bool tryRetry();
    void retryFinished() { --retries_; }

    int activeRequests() const { return active_; }
    int activeRetries() const { return retries_; }

private:
    int percent_;
    int min_concurrency_;
    int active_ = 0;
    int retries_ = 0;
};

/// A request counted by a budget while it lives (the base that retries are a share of).
class BudgetedRequest {
public:
    explicit BudgetedRequest(RetryBudget& budget) : budget_(budget) { budget_.requestStarted(); }
    ~BudgetedRequest() { budget_.requestFinished(); }
    BudgetedRequest(const BudgetedRequest&) = delete;
    BudgetedRequest& operator=(const BudgetedRequest&) = delete;

private:
    RetryBudget& budget_;
};

/// A retry slot of a budget, held while the retry runs and given back when released or
/// destroyed, whichever way the request ends. Empty when the budget refused (or was not asked).
class RetryPermit {
public:
    RetryPermit() = default;
    /// A slot from `budget` if it allows one; otherwise an empty permit.
    static RetryPermit take(RetryBudget& budget) {
        RetryPermit p;
        if (budget.tryRetry()) {
            p.budget_ = &budget;
        }
        return p;
    }
    RetryPermit(RetryPermit&& o) noexcept : budget_(std::exchange(o.budget_, nullptr)) {}
    RetryPermit& operator=(RetryPermit&& o) noexcept {
        if (this != &o) {
            release();
            budget_ = std::exchange(o.budget_, nullptr);
        }
        return *this;
    }
    RetryPermit(const RetryPermit&) = delete;
    RetryPermit& operator=(const RetryPermit&) = delete;
    ~RetryPermit() { release(); }

    explicit operator bool() const { return budget_ != nullptr; }
    void release() {
        if (budget_ != nullptr) {
            budget_->retryFinished();
            budget_ = nullptr;
        }
    }

private:
    RetryBudget* budget_ = nullptr;
};

}  // namespace restinu::gateway
