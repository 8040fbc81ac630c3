// What `driftwatch status` says about this agent, gathered from its store:
// enrollment (never the token), the outbox, the newest check and the
// baselines, and optionally whether the collector answers /healthz.
//
// GatherStatus reads the store at options.db_path without creating one
// (agent/store_file.h checks it first): a missing, unreadable or damaged
// store is its error. A collector that cannot be reached is not an error:
// it is in CollectorProbe.
//
// Thread-safety: plain functions and values.
#ifndef DRIFTWATCH_REPORT_AGENT_STATUS_H_
#define DRIFTWATCH_REPORT_AGENT_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/journal.h"
#include "agent/store.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::report {

struct StatusOptions {
  std::string db_path;
  // Asks the collector's /healthz (one GET, probe_timeout_ms at most).
  bool probe_collector = false;
  int probe_timeout_ms = 2000;
};

struct CollectorProbe {
  bool checked = false;  // false: not asked (StatusOptions::probe_collector)
  bool reachable = false;
  std::string error;  // why not, when checked and unreachable
};

struct BaselineAge {
  std::string name;
  int64_t revision = 0;
  int64_t created_ns = 0;
};

struct AgentStatus {
  std::string db_path;
  int64_t now_ns = 0;
  bool enrolled = false;
  std::string collector;  // URL(s); "" when not enrolled
  std::string host_id;
  std::string group;
  int64_t enrolled_ns = 0;  // 0: not recorded
  CollectorProbe probe;
  int64_t outbox_pending = 0;
  int64_t outbox_rejected = 0;
  std::optional<int64_t> oldest_pending_ns;
  std::optional<agent::CheckSummary> last_check;
  std::vector<BaselineAge> baselines;  // the newest revision of each name
  // Realtime (docs/realtime.md): the journal's state; the watcher runs when
  // its heartbeat is fresh.
  agent::JournalState journal;
  bool realtime_running = false;
};

// One line on realtime for people: "on (watcher pid 812 since T); journal
// valid, 3 dirty path(s) since the last check", or "on ...; journal not
// valid: REASON", or "off (REASON)".
std::string RealtimeSummary(const AgentStatus& s);

Result<AgentStatus> GatherStatus(Host& host, const StatusOptions& options);

// Whether nothing needs attention: the collector, when probed, answered.
bool Healthy(const AgentStatus& s);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_AGENT_STATUS_H_
