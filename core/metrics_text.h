// Prometheus text exposition (format 0.0.4), as /metrics serves it and
// node_exporter's textfile collector reads it: a writer of metric families
// that passes `promtool check metrics` when used as documented (HELP and TYPE
// once per family, before its samples; counters end in _total).
//
// Thread-safety: a value; one thread at a time.
#ifndef DRIFTWATCH_CORE_METRICS_TEXT_H_
#define DRIFTWATCH_CORE_METRICS_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace driftwatch {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The shortest text that reads back as v; integers without a fraction;
// "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double v);

class MetricsText {
 public:
  // Starts a family: its HELP and TYPE lines ("counter", "gauge",
  // "histogram").
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family (name may carry a suffix such as
  // _bucket). Label values are escaped (\\, \", \n).
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, const Labels& labels, int64_t value);
  std::string Take() { return std::move(out_); }

 private:
  void Start(std::string_view name, const Labels& labels);
  std::string out_;
};

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_METRICS_TEXT_H_
