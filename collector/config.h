// The collector's YAML configuration (--config), documented in
// docs/collector.md:
//
//   version: 1
//   retention: 90d          # events detected earlier are deleted; 0 keeps all
//   silent_after: 2h        # silent without a report this long (when the agent
//                           # never said its interval; else 3 intervals)
//   max_body_bytes: 8388608
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
#include "core/host.h"
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

struct CollectorConfig {
  int64_t retention_ns = 0;  // 0 = keep events forever
  int64_t silent_after_ns = int64_t{2} * 3600 * 1000000000;
  size_t max_body_bytes = 8 << 20;
  int max_json_depth = 16;
  size_t max_events_per_report = 100000;
  int max_page = 1000;
  std::vector<AlertRule> alerts;
};

Result<CollectorConfig> ParseCollectorConfig(std::string_view yaml, const std::string& file_name);
// Reads the file through `host`: a regular file of at most kMaxConfigBytes
// (a FIFO, device or directory is kInvalidArgument, refused without blocking).
inline constexpr size_t kMaxConfigBytes = 1 << 20;
Result<CollectorConfig> LoadCollectorConfig(Host& host, const std::string& path);

// "90d", "2h", "15m", "30s", "250ms", or plain seconds; 0 is allowed.
Result<int64_t> ParseDurationNs(std::string_view text);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_CONFIG_H_
