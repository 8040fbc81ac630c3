// The collector's YAML configuration (--config), documented in
// docs/collector.md:
//
//   version: 1
//   retention: 90d          # events detected earlier are deleted; 0 keeps all
//   silent_after: 2h        # silent without a report this long (when the agent
//                           # never said its interval; else 3 intervals)
//   max_body_bytes: 8388608
//   max_events_per_report: 20971  # default: max_body_bytes / 400
//   alerts:
//     - name: ops
//       min_severity: high
//       groups: [web]       # optional; default every group
//       webhook: http://127.0.0.1:9000/hook
//       format: json        # or slack
//       syslog: true
//
// Errors name FILE:LINE:COL. Unknown keys are errors, so a typo never
// silently disables an alert. Unknown versions are kUnsupported.
//
// Thread-safety: pure functions; the config is a value.
#ifndef DRIFTWATCH_COLLECTOR_CONFIG_H_
#define DRIFTWATCH_COLLECTOR_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/drift.h"
#include "core/status.h"

namespace driftwatch::collector {

struct AlertRule {
  std::string name;
  Severity min_severity = Severity::kHigh;
  std::vector<std::string> groups;  // empty = every group
  std::string webhook;              // "" = no webhook
  bool slack = false;               // Slack-compatible body {"text": ...}
  bool syslog = false;
};

// Wire sizes of one drift event: the smallest possible, and a typical one
// (path, rule, old and new attributes with a content hash).
inline constexpr size_t kMinEventWireBytes = 64;
inline constexpr size_t kTypicalEventWireBytes = 400;

struct CollectorConfig {
  int64_t retention_ns = 0;  // 0 = keep events forever
  int64_t silent_after_ns = int64_t{2} * 3600 * 1000000000;
  size_t max_body_bytes = 8 << 20;
  int max_json_depth = 16;
  // Follows max_body_bytes unless set (kTypicalEventWireBytes per event);
  // at most max_body_bytes / kMinEventWireBytes.
  size_t max_events_per_report = (size_t{8} << 20) / 400;
  int max_page = 1000;
  std::vector<AlertRule> alerts;
};

Result<CollectorConfig> ParseCollectorConfig(std::string_view yaml, const std::string& file_name);
Result<CollectorConfig> LoadCollectorConfig(const std::string& path);

// "90d", "2h", "15m", "30s", "250ms", or plain seconds; 0 is allowed.
Result<int64_t> ParseDurationNs(std::string_view text);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_CONFIG_H_
