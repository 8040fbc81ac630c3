#include "core/metrics_text.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

TEST(MetricsTextTest, FamiliesSamplesAndEscapedLabels) {
  MetricsText t;
  t.Family("x_total", "counter", "Things.");
  t.Sample("x_total", {{"group", "a\"b\\c\nd"}}, int64_t{3});
  t.Family("y", "gauge", "Y.");
  t.Sample("y", {}, 0.25);
  EXPECT_EQ(t.Take(),
            "# HELP x_total Things.\n# TYPE x_total counter\n"
            "x_total{group=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP y Y.\n# TYPE y gauge\ny 0.25\n");
}

TEST(FormatMetricValueTest, ShortestTextThatReadsBack) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.005, "0.005"}, {10, "10"},          {0.25, "0.25"},  {3.8, "3.8"},
      {-2, "-2"},       {1.0 / 0.0, "+Inf"}, {1e20, "1e+20"}, {1764900015.5, "1764900015.5"}};
  for (const auto& [v, want] : cases) EXPECT_EQ(FormatMetricValue(v), want) << want;
}

}  // namespace
}  // namespace driftwatch
