#include "core/metrics_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace driftwatch {

std::string FormatMetricValue(double v) {
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
  out_ += FormatMetricValue(value);
  out_ += '\n';
}

void MetricsText::Sample(std::string_view name, const Labels& labels, int64_t value) {
  Start(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

}  // namespace driftwatch
