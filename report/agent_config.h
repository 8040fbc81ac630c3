// The agent daemon's configuration, /etc/driftwatch/agent.yaml
// (docs/collector.md, "Agent configuration"). Every key is optional and has
// a default; the file only overrides:
//
//   version: 1                                  # if present, must be 1
//   collector: https://collector.example:8443   # default: the enrolled URL
//   token_file: /etc/driftwatch/agent.token     # default: enrollment state in db
//   host_id: web-1                              # required with token_file
//   ca_file: /etc/driftwatch/ca.pem
//   db: /var/lib/driftwatch/agent.db
//   rules: /etc/driftwatch/rules.yaml
//   root: /
//   baseline: default   # `group`: the group's baseline at the collector
//   interval: 1h        # between checks
//   jitter: 5m          # random extra delay, spreads a fleet's checks
//   poll_interval: 60s  # command polls, outbox and enrollment retries
//   outbox_max: 1000
//   jobs: 0             # hashing threads; 0 = number of CPUs
//   nice: 10            # CPU nice value and best-effort I/O level 7; 0 = leave
//   verify_packages: false
//   min_severity: info  # drift below it is kept in history, not reported
//   enroll_file: /etc/driftwatch/enroll.yaml
//   metrics_file: /var/lib/prometheus/node-exporter/driftwatch.prom  # default: none
//   realtime: true      # watch changes as they happen (docs/realtime.md)
//   allow_remote_restore: false  # run the collector's restore commands
//   require_signed_baselines: false  # check refuses unsigned baselines
//   trusted_keys: [/etc/driftwatch/keys/ops.pub]  # PEM public keys
//   containers:         # the runtimes' state roots besides those found on the host
//     docker_roots: [/srv/docker]            # Docker data roots
//     containerd_roots: [/srv/containerd]    # containerd --root
//     containerd_states: [/run/containerd]   # containerd --state
//     storage_roots: [/srv/containers/storage]  # containers/storage (podman, CRI-O)
//
// Errors name FILE:LINE:COL; unknown keys are errors; unknown versions are
// kUnsupported. An empty string for collector, token_file, host_id,
// ca_file or metrics_file means "not set" (FormatDaemonConfig writes them that way).
//
// Thread-safety: pure functions (LoadDaemonConfig reads through `host`); the
// config is a value.
#ifndef DRIFTWATCH_REPORT_AGENT_CONFIG_H_
#define DRIFTWATCH_REPORT_AGENT_CONFIG_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/drift.h"
#include "core/duration.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::report {

constexpr const char* kDefaultAgentConfig = "/etc/driftwatch/agent.yaml";
constexpr const char* kDefaultEnrollFile = "/etc/driftwatch/enroll.yaml";

// Where the container runtimes keep their state, besides what is found on
// the host (docs/containers.md "Other runtimes"); absolute paths.
struct ContainerRoots {
  std::vector<std::string> docker_roots;
  std::vector<std::string> containerd_roots;
  std::vector<std::string> containerd_states;
  std::vector<std::string> storage_roots;
  friend bool operator==(const ContainerRoots&, const ContainerRoots&) = default;
};

struct DaemonConfig {
  std::string collector;
  std::string token_file;
  std::string host_id;
  std::string ca_file;
  std::string db;     // default agent::DefaultDbPath()
  std::string rules;  // default agent::DefaultRulesPath()
  std::string root = "/";
  std::string baseline = "default";
  int64_t interval_ns = int64_t{3600} * 1000000000;
  int64_t jitter_ns = int64_t{300} * 1000000000;
  int64_t poll_interval_ns = int64_t{60} * 1000000000;
  int64_t outbox_max = 1000;
  int jobs = 0;   // 0..256
  int nice = 10;  // 0..19
  bool verify_packages = false;
  std::optional<Severity> min_severity;  // nullopt: "info", every event is reported
  std::string enroll_file = kDefaultEnrollFile;
  std::string metrics_file;  // node_exporter textfile (agent_metrics.h); "" = none
  // Realtime drift and the journal (docs/realtime.md), where the kernel and
  // the process allow it (FsEventsUnsupportedReason()).
  bool realtime = true;
  // Restore commands from the collector are run (docs/content.md); when
  // false they are refused (acknowledged ok=false).
  bool allow_remote_restore = false;
  // Checks refuse a baseline revision without a valid signature by a
  // trusted key (docs/integrity.md, "Signed baselines"): the keys of
  // `trusted_keys` (PEM public key files) and the collector's key pinned at
  // enrollment.
  bool require_signed_baselines = false;
  std::vector<std::string> trusted_keys;
  ContainerRoots containers;

  // Where the values came from: the file read ("" = none) and the keys it set.
  std::string source;
  std::set<std::string> from_file;
};

// Every key at its default (db and rules from agent::DefaultDbPath() and
// agent::DefaultRulesPath(), which honour $DRIFTWATCH_DB and $DRIFTWATCH_RULES).
DaemonConfig DefaultDaemonConfig();

Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml, const std::string& file_name);
// Reads the file through `host`: a regular file of at most 1 MiB (a FIFO,
// device or directory is kInvalidArgument, refused without blocking).
// With `required` false a file that does not exist yields
// DefaultDaemonConfig(); with `required` true it is kNotFound.
Result<DaemonConfig> LoadDaemonConfig(Host& host, const std::string& path, bool required = true);

// The configuration as YAML that ParseDaemonConfig accepts back: every key,
// each with a comment saying whether the file set it or it is the default.
std::string FormatDaemonConfig(const DaemonConfig& config);

// The inverse of ParseDurationNs (core/duration.h): the largest unit that
// is exact ("1h", "90s", "250ms").
std::string FormatDuration(int64_t ns);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_AGENT_CONFIG_H_
