// The collector's YAML configuration (--config), documented in
// docs/collector.md:
//
//   version: 1
//   listen: 127.0.0.1:8080  # HOST:PORT
//   store: sqlite:///var/lib/driftwatch-collector/collector.db  # or postgresql://...
//   db: /var/lib/driftwatch-collector/collector.db  # a SQLite file; instead of store
//   store_pool: 4           # PostgreSQL connections
//   tls_cert: /etc/driftwatch/collector.pem   # TLS with tls_key
//   tls_key: /etc/driftwatch/collector.key
//   web_root: /usr/share/driftwatch/web
//   log_file: /var/log/driftwatch/collector.log  # default: stderr
//   log_format: text        # or json (log.h)
//   log_level: info         # debug, info, warn or error
//   retention: 90d          # events detected earlier are deleted; 0 keeps all
//   silent_after: 2h        # silent without a report this long (when the agent
//                           # never said its interval; else 3 intervals)
//   max_body_bytes: 8388608
//   http:                   # the HTTP front end's limits (server.h)
//     workers: 8
//     max_queued: 256
//     max_connections: 4096
//     max_header_bytes: 16384
//     max_header_fields: 100
//     max_inflight_body_bytes: 67108864
//     header_timeout: 10s
//     body_timeout: 60s
//     write_timeout: 30s
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
// silently disables an alert. Unknown versions are kUnsupported. `store` and
// `db` exclude each other. Command-line flags override the file's service
// keys (listen ... log_level); an empty string means "not set".
//
// On SIGHUP the collector re-reads the file (docs/collector.md "Reloading"):
// RestartOnlyKeys() names the keys that cannot change while it runs.
//
// Thread-safety: pure functions; the config is a value.
#ifndef DRIFTWATCH_COLLECTOR_CONFIG_H_
#define DRIFTWATCH_COLLECTOR_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/drift.h"
#include "core/duration.h"
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

// The HTTP front end's threads and limits (server.h says what each bounds).
struct HttpLimits {
  int io_threads = 2;
  int workers = 8;
  size_t max_queued = 256;
  size_t max_connections = 4096;
  size_t max_header_bytes = 16 << 10;
  size_t max_header_fields = 100;
  size_t max_body_bytes = 8 << 20;  // the top-level max_body_bytes
  size_t max_inflight_body_bytes = 64 << 20;
  int64_t header_timeout_ms = 10000;
  int64_t body_timeout_ms = 60000;
  int64_t write_timeout_ms = 30000;
};
// Wire sizes of one drift event: the smallest possible, and a typical one
// (path, rule, old and new attributes with a content hash).
inline constexpr size_t kMinEventWireBytes = 64;
inline constexpr size_t kTypicalEventWireBytes = 400;

struct CollectorConfig {
  // Where and how the server runs; "" / 0 = not set (the flag, else the
  // built-in default, applies).
  std::string listen;
  std::string store;  // a store URL (store_url.h)
  std::string db;     // a SQLite file
  int store_pool = 0;
  std::string tls_cert;
  std::string tls_key;
  std::string web_root;
  std::string log_file;
  std::string log_format;  // "text" or "json"; "" = text
  std::string log_level;   // "debug", "info", "warn", "error"; "" = info

  int64_t retention_ns = 0;  // 0 = keep events forever
  int64_t silent_after_ns = int64_t{2} * 3600 * 1000000000;
  size_t max_body_bytes = 8 << 20;
  int max_json_depth = 16;
  // Follows max_body_bytes unless set (kTypicalEventWireBytes per event);
  // at most max_body_bytes / kMinEventWireBytes.
  size_t max_events_per_report = (size_t{8} << 20) / 400;
  int max_page = 1000;
  std::vector<AlertRule> alerts;
  HttpLimits http;  // http.max_body_bytes == max_body_bytes
};

Result<CollectorConfig> ParseCollectorConfig(std::string_view yaml, const std::string& file_name);
// Reads the file through `host`: a regular file of at most kMaxConfigBytes
// (a FIFO, device or directory is kInvalidArgument, refused without blocking).
inline constexpr size_t kMaxConfigBytes = 1 << 20;
Result<CollectorConfig> LoadCollectorConfig(Host& host, const std::string& path);

// The keys that differ between `running` and `next` and take effect only at a
// restart (listen, store, db, store_pool, tls_cert, tls_key, web_root,
// http.io_threads, http.workers), by their names in the file; each is set
// back to its running value in *next, so that *next is what a reload applies.
std::vector<std::string> KeepRestartOnlyKeys(const CollectorConfig& running, CollectorConfig* next);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_CONFIG_H_
