#include "restinu/rt/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace restinu::rt {
namespace {

void addDouble(std::atomic<double>& a, double d) {
    double cur = a.load(std::memory_order_relaxed);
    while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
    }
}

void appendNumber(std::string& out, double v) {
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out += buf;
}

void appendLabelValue(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

void appendHelpText(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

// {a="1",b="2"[,extra]} or nothing when there are no labels.
void appendLabels(std::string& out, const std::vector<std::pair<std::string, std::string>>& consts,
                  const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name = {}, std::string_view extra_value = {}) {
    bool any = false;
    auto add = [&](std::string_view n, std::string_view v) {
        out += any ? ',' : '{';
        any = true;
        out += n;
        out += "=\"";
        appendLabelValue(out, v);
        out += '"';
    };
    for (const auto& [n, v] : consts) {
        add(n, v);
    }
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        add(names[i], values[i]);
    }
    if (!extra_name.empty()) {
        add(extra_name, extra_value);
    }
    if (any) {
        out += '}';
    }
}

void appendHeader(std::string& out, const std::string& name, const std::string& help,
                  std::string_view type) {
    out += "# HELP ";
    out += name;
    out += ' ';
    appendHelpText(out, help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

}  // namespace

void Gauge::add(double d) {
    addDouble(value_, d);
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
    std::sort(bounds_.begin(), bounds_.end());
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        counts_[i].store(0, std::memory_order_relaxed);
    }
}

void Histogram::observe(double v) {
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    addDouble(sum_, v);
}

std::vector<std::uint64_t> Histogram::cumulativeCounts() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        acc += counts_[i].load(std::memory_order_relaxed);
        out[i] = acc;
    }
    return out;
}

const std::vector<double>& defaultLatencyBuckets() {
    static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    return kBuckets;
}

MetricsRegistry::MetricsRegistry(std::vector<std::pair<std::string, std::string>> const_labels)
    : const_labels_(std::move(const_labels)) {}

void MetricsRegistry::checkLabels(const std::string& name,
                                  const std::vector<std::string>& labels) const {
    // A label named like a constant one would appear twice in a series, which Prometheus
    // refuses (the whole scrape fails).
    for (const auto& l : labels) {
        for (const auto& [c, v] : const_labels_) {
            if (l == c) {
                std::string why = "metric ";
                why.append(name).append(": label \"").append(l);
                why.append("\" is already a constant label of this registry");
                throw std::invalid_argument(why);
            }
        }
    }
}

Family<Counter>& MetricsRegistry::counter(std::string name, std::string help,
                                          std::vector<std::string> labels) {
    checkLabels(name, labels);
    std::lock_guard lock(mu_);
    for (auto& f : counters_) {
        if (f->name() == name) {
            return *f;
        }
    }
    counters_.push_back(
        std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels),
                                          [] { return std::make_unique<Counter>(); }));
    return *counters_.back();
}

Family<Gauge>& MetricsRegistry::gauge(std::string name, std::string help,
                                      std::vector<std::string> labels) {
    checkLabels(name, labels);
    std::lock_guard lock(mu_);
    for (auto& f : gauges_) {
        if (f->name() == name) {
            return *f;
        }
    }
    gauges_.push_back(std::make_unique<Family<Gauge>>(std::move(name), std::move(help),
                                                      std::move(labels),
                                                      [] { return std::make_unique<Gauge>(); }));
    return *gauges_.back();
}

Family<Histogram>& MetricsRegistry::histogram(std::string name, std::string help,
                                              std::vector<std::string> labels,
                                              std::vector<double> bounds) {
    checkLabels(name, labels);
    std::lock_guard lock(mu_);
    for (auto& f : histograms_) {
        if (f->name() == name) {
            return *f;
        }
    }
    histograms_.push_back(std::make_unique<Family<Histogram>>(
        std::move(name), std::move(help), std::move(labels),
        [b = std::move(bounds)] { return std::make_unique<Histogram>(b); }));
    return *histograms_.back();
}

void MetricsRegistry::onCollect(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    collectors_.push_back(std::move(fn));
}

std::string MetricsRegistry::render() {
    std::vector<std::function<void()>> collectors;
    {
        std::lock_guard lock(mu_);
        collectors = collectors_;
    }
    for (auto& c : collectors) {
        c();
    }
    std::string out;
    out.reserve(8192);
    std::lock_guard lock(mu_);
    for (const auto& f : counters_) {
        appendHeader(out, f->name(), f->help(), "counter");
        f->forEach([&](const std::vector<std::string>& values, const Counter& c) {
            out += f->name();
            appendLabels(out, const_labels_, f->labelNames(), values);
            out += ' ';
            out += std::to_string(c.value());
            out += '\n';
        });
    }
    for (const auto& f : gauges_) {
        appendHeader(out, f->name(), f->help(), "gauge");
        f->forEach([&](const std::vector<std::string>& values, const Gauge& g) {
            out += f->name();
            appendLabels(out, const_labels_, f->labelNames(), values);
            out += ' ';
            appendNumber(out, g.value());
            out += '\n';
        });
    }
    for (const auto& f : histograms_) {
        appendHeader(out, f->name(), f->help(), "histogram");
        f->forEach([&](const std::vector<std::string>& values, const Histogram& h) {
            auto counts = h.cumulativeCounts();
            const auto& bounds = h.bounds();
            for (std::size_t i = 0; i <= bounds.size(); ++i) {
                std::string le;
                if (i < bounds.size()) {
                    appendNumber(le, bounds[i]);
                } else {
                    le = "+Inf";
                }
                out += f->name();
                out += "_bucket";
                appendLabels(out, const_labels_, f->labelNames(), values, "le", le);
                out += ' ';
                out += std::to_string(counts[i]);
                out += '\n';
            }
            out += f->name();
            out += "_sum";
            appendLabels(out, const_labels_, f->labelNames(), values);
            out += ' ';
            appendNumber(out, h.sum());
            out += '\n';
            out += f->name();
            out += "_count";
            appendLabels(out, const_labels_, f->labelNames(), values);
            out += ' ';
            out += std::to_string(counts.back());
            out += '\n';
        });
    }
    return out;
}

}  // namespace restinu::rt
