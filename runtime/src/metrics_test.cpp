#include "restinu/rt/metrics.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace restinu::rt {
namespace {

TEST(Metrics, RendersPrometheusTextWithConstLabels) {
    MetricsRegistry reg(std::vector<std::pair<std::string, std::string>>{{"service", "user"}});
    reg.counter("restinu_test_total", "Things counted", {"route", "status"})
        .labels({"/a/{id}", "200"})
        .inc(3);
    reg.gauge("restinu_test_gauge", "A level", {}).labels({}).set(2.5);
    auto text = reg.render();
    EXPECT_NE(
        text.find("# HELP restinu_test_total Things counted\n"
                  "# TYPE restinu_test_total counter\n"
                  "restinu_test_total{service=\"user\",route=\"/a/{id}\",status=\"200\"} 3\n"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("restinu_test_gauge{service=\"user\"} 2.5\n"), std::string::npos) << text;
}

TEST(Metrics, HistogramBucketsAreCumulative) {
    MetricsRegistry reg;
    auto& h = reg.histogram("restinu_lat_seconds", "Latency", {}, {0.1, 1}).labels({});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(0.5);
    h.observe(5);
    auto text = reg.render();
    EXPECT_NE(text.find("restinu_lat_seconds_bucket{le=\"0.10000000000000001\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("restinu_lat_seconds_bucket{le=\"1\"} 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("restinu_lat_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << text;
    EXPECT_NE(text.find("restinu_lat_seconds_count 4\n"), std::string::npos) << text;
    EXPECT_NE(text.find("restinu_lat_seconds_sum 6.0499999999999998\n"), std::string::npos) << text;
}

TEST(Metrics, LabelValuesAreEscaped) {
    MetricsRegistry reg;
    reg.counter("c_total", "x", {"l"}).labels({"a\"b\\c\nd"}).inc();
    EXPECT_NE(reg.render().find("c_total{l=\"a\\\"b\\\\c\\nd\"} 1"), std::string::npos);
}

TEST(Metrics, SameNameReturnsSameFamily) {
    MetricsRegistry reg;
    auto& a = reg.counter("x_total", "x", {});
    auto& b = reg.counter("x_total", "x", {});
    EXPECT_EQ(&a, &b);
}

TEST(Metrics, CollectorsRunBeforeRender) {
    MetricsRegistry reg;
    auto& g = reg.gauge("pool", "p", {}).labels({});
    int calls = 0;
    reg.onCollect([&] {
        ++calls;
        g.set(7);
    });
    EXPECT_NE(reg.render().find("pool 7\n"), std::string::npos);
    EXPECT_EQ(calls, 1);
}

}  // namespace
// A family label named like a constant label (the gateway's service="user" next to the
// registry's service="gateway") would repeat in every series, which Prometheus refuses.
TEST(Metrics, ALabelRepeatingAConstantLabelIsRefused) {
    MetricsRegistry m({{"service", "gateway"}, {"instance", "gw@h:1"}});
    EXPECT_THROW(m.counter("x_total", "x", {"service"}), std::invalid_argument);
    EXPECT_THROW(m.gauge("y", "y", {"a", "instance"}), std::invalid_argument);
    EXPECT_THROW(m.histogram("z_seconds", "z", {"service"}), std::invalid_argument);
    EXPECT_NO_THROW(m.counter("ok_total", "ok", {"target"}));
}

}  // namespace restinu::rt
