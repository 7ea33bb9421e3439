#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

/// Prometheus metrics: counters, gauges and histograms in labelled families, rendered in the
/// text exposition format (version 0.0.4). Updating a metric is a relaxed atomic operation;
/// looking a labelled child up takes the family's mutex, so hot paths keep the reference.
namespace restinu::rt {

class Counter {
public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    void add(double d);
    void inc() { add(1); }
    void dec() { add(-1); }
    double value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

class Histogram {
public:
    explicit Histogram(const std::vector<double>& bounds);
    void observe(double v);
    /// Cumulative counts per upper bound, then +Inf; the sum; for rendering and tests.
    std::vector<std::uint64_t> cumulativeCounts() const;
    double sum() const { return sum_.load(std::memory_order_relaxed); }
    const std::vector<double>& bounds() const { return bounds_; }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 (the +Inf bucket)
    std::atomic<double> sum_{0};
};

/// Default latency buckets in seconds: 0.5 ms to 10 s.
const std::vector<double>& defaultLatencyBuckets();

template <class M>
class Family {
public:
    Family(std::string name, std::string help, std::vector<std::string> label_names,
           std::function<std::unique_ptr<M>()> make)
        : name_(std::move(name)),
          help_(std::move(help)),
          label_names_(std::move(label_names)),
          make_(std::move(make)) {}

    /// The child for these label values (in the order of the family's label names).
    /// References stay valid for the registry's lifetime.
    M& labels(std::initializer_list<std::string_view> values) {
        std::vector<std::string> key(values.begin(), values.end());
        std::lock_guard lock(mu_);
        auto it = children_.find(key);
        if (it == children_.end()) {
            it = children_.emplace(std::move(key), make_()).first;
        }
        return *it->second;
    }

    template <class Fn>
    void forEach(Fn&& fn) const {
        std::lock_guard lock(mu_);
        for (const auto& [k, v] : children_) {
            fn(k, *v);
        }
    }

    const std::string& name() const { return name_; }
    const std::string& help() const { return help_; }
    const std::vector<std::string>& labelNames() const { return label_names_; }

private:
    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::function<std::unique_ptr<M>()> make_;
    mutable std::mutex mu_;
    std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

class MetricsRegistry {
public:
    /// `const_labels` (e.g. service="user") are added to every series this registry renders.
    explicit MetricsRegistry(std::vector<std::pair<std::string, std::string>> const_labels = {});

    Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels);
    Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels);
    Family<Histogram>& histogram(std::string name, std::string help,
                                 std::vector<std::string> labels,
                                 std::vector<double> bounds = defaultLatencyBuckets());

    /// A callback run just before each render, to refresh gauges from live state (pool sizes).
    void onCollect(std::function<void()> fn);

    std::string render();

private:
    // Throws std::invalid_argument when a label repeats a constant label's name.
    void checkLabels(const std::string& name, const std::vector<std::string>& labels) const;

    std::vector<std::pair<std::string, std::string>> const_labels_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Family<Counter>>> counters_;
    std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
    std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
    std::vector<std::function<void()>> collectors_;
};

}  // namespace restinu::rt
