// The agent daemon's configuration, /etc/driftwatch/agent.yaml
// (docs/collector.md, "Agent configuration"):
//
//   version: 1
//   collector: https://collector.example:8443   # default: the enrolled URL
//   token_file: /etc/driftwatch/agent.token     # default: enrollment state in db
//   host_id: web-1                              # required with token_file
//   ca_file: /etc/driftwatch/ca.pem
//   db: /var/lib/driftwatch/agent.db
//   rules: /etc/driftwatch/rules.yaml
//   root: /
//   baseline: default
//   interval: 1h        # between checks
//   jitter: 5m          # random extra delay, spreads a fleet's checks
//   poll_interval: 60s  # command polls and outbox retries
//   outbox_max: 1000
//
// Errors name FILE:LINE:COL; unknown keys are errors; unknown versions are
// kUnsupported.
//
// Thread-safety: pure functions; the config is a value.
#ifndef DRIFTWATCH_AGENT_REPORT_AGENT_CONFIG_H_
#define DRIFTWATCH_AGENT_REPORT_AGENT_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::report {

constexpr const char* kDefaultAgentConfig = "/etc/driftwatch/agent.yaml";

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
};

Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml, const std::string& file_name);
// Reads the file through `host`: a regular file of at most 1 MiB (a FIFO,
// device or directory is kInvalidArgument, refused without blocking).
Result<DaemonConfig> LoadDaemonConfig(Host& host, const std::string& path);

// "90d", "2h", "15m", "30s", "250ms", or plain seconds.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_AGENT_REPORT_AGENT_CONFIG_H_
