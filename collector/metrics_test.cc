#include "collector/metrics.h"

#include <gtest/gtest.h>

namespace driftwatch::collector {
namespace {

constexpr int64_t kMs = 1000000;

TEST(HistogramTest, CumulativeBucketsCountAndSum) {
  Histogram h;
  h.Observe(1 * kMs);      // <= 0.005
  h.Observe(5 * kMs);      // <= 0.005 (bounds are inclusive)
  h.Observe(300 * kMs);    // <= 0.5
  h.Observe(20000 * kMs);  // +Inf
  const Histogram::Snapshot s = h.Take();
  const std::array<int64_t, 12> want = {2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4};
  EXPECT_EQ(s.cumulative, want);
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.sum_seconds, 20.306);
}

TEST(RequestLatencyTest, OneHistogramPerRouteAndStatusClass) {
  RequestLatency l;
  l.Observe("/api/v1/hosts", 200, 2 * kMs);
  l.Observe("/api/v1/hosts", 204, 2 * kMs);
  l.Observe("/api/v1/hosts", 404, 2 * kMs);
  MetricsText t;
  l.Render(&t);
  const std::string text = t.Take();
  EXPECT_NE(text.find("# TYPE driftwatch_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_NE(text.find("driftwatch_http_request_duration_seconds_bucket{route=\"/api/v1/hosts\","
                      "status=\"2xx\",le=\"0.005\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("driftwatch_http_request_duration_seconds_bucket{route=\"/api/v1/hosts\","
                      "status=\"2xx\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("driftwatch_http_request_duration_seconds_count{route=\"/api/v1/hosts\","
                      "status=\"4xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("driftwatch_http_request_duration_seconds_sum{route=\"/api/v1/hosts\","
                      "status=\"4xx\"} 0.002\n"),
            std::string::npos)
      << text;
  // 2 series x (12 buckets + sum + count), after HELP and TYPE.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2 + 2 * 14);
}

}  // namespace
}  // namespace driftwatch::collector
