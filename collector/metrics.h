// The collector's histograms on /metrics (written with core/metrics_text.h):
// fixed buckets, exposed as _bucket{le}, _sum and _count. The list of metrics
// is in docs/operations.md "Metrics".
//
// Thread-safety: Histogram and RequestLatency are safe from any thread
// (atomics; RequestLatency's map behind its mutex).
#ifndef DRIFTWATCH_COLLECTOR_METRICS_H_
#define DRIFTWATCH_COLLECTOR_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/metrics_text.h"

namespace driftwatch::collector {

// Upper bounds in seconds (Prometheus' default buckets); +Inf is implied.
inline constexpr std::array<double, 11> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1,    2.5,   5,    10};

class Histogram {
 public:
  void Observe(int64_t ns);
  // Cumulative bucket counts (kLatencyBuckets, then +Inf), count and sum.
  struct Snapshot {
    std::array<int64_t, kLatencyBuckets.size() + 1> cumulative{};
    int64_t count = 0;
    double sum_seconds = 0;
  };
  Snapshot Take() const;

 private:
  std::array<std::atomic<int64_t>, kLatencyBuckets.size() + 1> buckets_{};  // not cumulative
  std::atomic<int64_t> sum_ns_{0};
};

// The _bucket, _sum and _count samples of a histogram of the family `name`.
void HistogramSamples(std::string_view name, const Labels& labels, const Histogram::Snapshot& h,
                      MetricsText* out);

// Request latency by route template (request_log.h) and status class
// ("2xx" ... "5xx"). The number of series is bounded by the templates.
class RequestLatency {
 public:
  void Observe(const std::string& route, int status, int64_t ns);
  // driftwatch_http_request_duration_seconds, one histogram per series.
  void Render(MetricsText* out) const;

 private:
  mutable std::mutex mu_;  // guards series_ (the histograms are atomics)
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Histogram>> series_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_METRICS_H_
