#include "balancer.hpp"

#include <algorithm>

namespace restinu::gateway {

Pool::Pool(std::vector<Upstream> hosts, OutlierPolicy policy, std::uint64_t seed)
    : policy_(policy), rng_(seed != 0 ? seed : std::random_device{}()) {
    hosts_.reserve(hosts.size());
    for (auto& h : hosts) {
        HostState s;
        s.address = std::move(h);
        hosts_.push_back(std::move(s));
    }
}

bool Pool::usable(const HostState& h, Clock::time_point now) const {
    return h.healthy && !h.ejected(now);
}

std::size_t Pool::available(Clock::time_point now) const {
    return static_cast<std::size_t>(std::count_if(
        hosts_.begin(), hosts_.end(), [&](const HostState& h) { return usable(h, now); }));
}

std::size_t Pool::ejectedCount(Clock::time_point now) const {
    return static_cast<std::size_t>(std::count_if(
        hosts_.begin(), hosts_.end(), [&](const HostState& h) { return h.ejected(now); }));
}

std::optional<std::size_t> Pool::pick(Clock::time_point now,
                                      const std::vector<std::size_t>& tried) {
    auto was_tried = [&](std::size_t i) {
        return std::find(tried.begin(), tried.end(), i) != tried.end();
    };
    // Candidates in order of preference: usable and untried; then (panic) any untried; then
    // any at all (every instance was tried: a second try on the same one beats giving up).
    std::vector<std::size_t> candidates;
    candidates.reserve(hosts_.size());
    for (int pass = 0; pass < 3 && candidates.empty(); ++pass) {
        for (std::size_t i = 0; i < hosts_.size(); ++i) {
            const auto& h = hosts_[i];
            if (h.outstanding >= policy_.max_requests) {
                continue;  // breaker open for this instance
            }
            if ((pass == 0 && (!usable(h, now) || was_tried(i))) || (pass == 1 && was_tried(i))) {
                continue;
            }
            candidates.push_back(i);
        }
    }
    if (candidates.empty()) {
        return std::nullopt;
    }
    if (candidates.size() == 1) {
        return candidates[0];
    }
    // Two distinct random candidates; the one with fewer requests in flight wins.
    std::uniform_int_distribution<std::size_t> dist(0, candidates.size() - 1);
    auto a = dist(rng_);
    auto b = dist(rng_);
    while (b == a) {
        b = dist(rng_);
    }
    const auto& ha = hosts_[candidates[a]];
    const auto& hb = hosts_[candidates[b]];
    return ha.outstanding <= hb.outstanding ? candidates[a] : candidates[b];
}

void Pool::started(std::size_t i) {
    ++hosts_[i].outstanding;
    ++hosts_[i].requests;
}

void Pool::eject(HostState& h, Clock::time_point now) {
    auto limit = std::max<std::size_t>(
        1, hosts_.size() * static_cast<std::size_t>(policy_.max_ejection_percent) / 100);
    if (ejectedCount(now) >= limit) {
        return;  // keep enough instances in service; the failures keep counting
    }
    ++h.times_ejected;
    auto length = policy_.base_ejection * h.times_ejected;
    h.ejected_until = now + std::min(length, policy_.max_ejection);
    h.consecutive_failures = 0;
}

void Pool::finished(std::size_t i, Outcome outcome, Clock::time_point now) {
    auto& h = hosts_[i];
    --h.outstanding;
    if (outcome == Outcome::Success) {
        h.consecutive_failures = 0;
        // A clean run as long as the last ejection forgives the earlier ejections.
        if (h.times_ejected > 0 && now >= h.ejected_until + policy_.base_ejection) {
            h.times_ejected = 0;
        }
        return;
    }
    if (h.ejected(now)) {
        return;  // a request that was already in flight when it was ejected
    }
    if (++h.consecutive_failures >= policy_.consecutive_failures) {
        eject(h, now);
    }
}

void Pool::healthChecked(std::size_t i, bool ok, Clock::time_point now) {
    auto& h = hosts_[i];
    if (ok) {
        h.health_failures = 0;
        if (!h.healthy && ++h.health_successes >= policy_.healthy_threshold) {
            h.healthy = true;
            h.health_successes = 0;
            h.ejected_until = now;  // back in service at once
            h.consecutive_failures = 0;
        }
        return;
    }
    h.health_successes = 0;
    if (h.healthy && ++h.health_failures >= policy_.unhealthy_threshold) {
        h.healthy = false;
        h.health_failures = 0;
    }
}

bool RetryBudget::tryRetry() {
    auto allowed = std::max(min_concurrency_, active_ * percent_ / 100);
    if (retries_ >= allowed) {
        return false;
    }
    ++retries_;
    return true;
}

}  // namespace restinu::gateway
