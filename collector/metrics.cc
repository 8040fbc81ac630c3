#include "collector/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace driftwatch::collector {
namespace {

// Caps the series of RequestLatency whatever the routes: one more route
// than the API has goes to "/api/v1/{other}" already (RouteTemplate).
constexpr size_t kMaxLatencySeries = 512;

}  // namespace

void Histogram::Observe(int64_t ns) {
  const double s = static_cast<double>(ns) / 1e9;
  size_t i = 0;
  while (i < kLatencyBuckets.size() && s > kLatencyBuckets[i]) ++i;
  buckets_[i]++;
  sum_ns_ += ns;
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot out;
  int64_t running = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    running += buckets_[i].load();
    out.cumulative[i] = running;
  }
  out.count = running;
  out.sum_seconds = static_cast<double>(sum_ns_.load()) / 1e9;
  return out;
}

void HistogramSamples(std::string_view name, const Labels& labels, const Histogram::Snapshot& h,
                      MetricsText* out) {
  const std::string base(name);
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    Labels with_le = labels;
    with_le.emplace_back("le", i < kLatencyBuckets.size() ? FormatMetricValue(kLatencyBuckets[i])
                                                          : std::string("+Inf"));
    out->Sample(base + "_bucket", with_le, h.cumulative[i]);
  }
  out->Sample(base + "_sum", labels, h.sum_seconds);
  out->Sample(base + "_count", labels, h.count);
}

void RequestLatency::Observe(const std::string& route, int status, int64_t ns) {
  const std::string status_class = std::to_string(std::clamp(status / 100, 1, 5)) + "xx";
  Histogram* h = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(route, status_class);
    auto it = series_.find(key);
    if (it == series_.end()) {
      if (series_.size() >= kMaxLatencySeries) key.first = "/api/v1/{other}";
      it = series_.try_emplace(key, std::make_unique<Histogram>()).first;
    }
    h = it->second.get();
  }
  h->Observe(ns);
}

void RequestLatency::Render(MetricsText* out) const {
  constexpr std::string_view kName = "driftwatch_http_request_duration_seconds";
  out->Family(kName, "histogram",
              "Time from a request's headers to its answer, by route and status class.");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, h] : series_) {
    HistogramSamples(kName, {{"route", key.first}, {"status", key.second}}, h->Take(), out);
  }
}

}  // namespace driftwatch::collector
