#include "collector/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace driftwatch::collector {
namespace {

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  // The shortest text that reads back as v: le="0.005", not 0.0050000000000000001.
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

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

void MetricsText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsText::Start(std::string_view name, const Labels& labels) {
  out_ += name;
  if (labels.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out_ += ',';
    out_ += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '"') {
        out_ += "\\\"";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
    out_ += '"';
  }
  out_ += "} ";
}

void MetricsText::Sample(std::string_view name, const Labels& labels, double value) {
  Start(name, labels);
  out_ += FormatDouble(value);
  out_ += '\n';
}

void MetricsText::Sample(std::string_view name, const Labels& labels, int64_t value) {
  Start(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void MetricsText::HistogramSamples(std::string_view name, const Labels& labels,
                                   const Histogram::Snapshot& h) {
  const std::string base(name);
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    Labels with_le = labels;
    with_le.emplace_back(
        "le", i < kLatencyBuckets.size() ? FormatDouble(kLatencyBuckets[i]) : std::string("+Inf"));
    Sample(base + "_bucket", with_le, h.cumulative[i]);
  }
  Sample(base + "_sum", labels, h.sum_seconds);
  Sample(base + "_count", labels, h.count);
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
    out->HistogramSamples(kName, {{"route", key.first}, {"status", key.second}}, h->Take());
  }
}

}  // namespace driftwatch::collector
