// The agent daemon's figures as a node_exporter textfile (metrics_file: in
// agent.yaml; docs/operations.md "Metrics"): written after each check, so
// that the host's node_exporter (--collector.textfile.directory) exposes
// them. The file holds no secret.
//
//   driftwatch_agent_build_info{version}                 1
//   driftwatch_agent_last_check_timestamp_seconds        when the check finished
//   driftwatch_agent_last_check_duration_seconds
//   driftwatch_agent_last_check_result                   0 no drift, 1 drift, 2 failed
//   driftwatch_agent_last_check_drift_events{severity}   reported drift of that check
//   driftwatch_agent_outbox_reports                      reports waiting for delivery
//   driftwatch_agent_outbox_oldest_age_seconds           0 when the outbox is empty
//   driftwatch_agent_last_tree_sync_result               0 synced, 1 failed (after a
//                                                        sync was attempted)
//   driftwatch_agent_last_tree_sync_objects_sent         tree objects the last sync uploaded
//   driftwatch_agent_last_tree_sync_bytes_sent           request bytes of the last sync
//
// Thread-safety: pure functions; WriteAgentMetrics as safe as its Host.
#ifndef DRIFTWATCH_REPORT_AGENT_METRICS_H_
#define DRIFTWATCH_REPORT_AGENT_METRICS_H_

#include <array>
#include <cstdint>
#include <string>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::report {

inline constexpr int kCheckNoDrift = 0;
inline constexpr int kCheckDrift = 1;
inline constexpr int kCheckFailed = 2;

struct AgentFigures {
  int64_t check_finished_ns = 0;
  int64_t check_duration_ns = 0;
  int check_result = kCheckNoDrift;
  std::array<int64_t, 4> drift{};  // low, medium, high, critical
  int64_t outbox_reports = 0;
  int64_t outbox_oldest_ns = 0;  // created time of the oldest; 0 when empty
  int64_t now_ns = 0;            // for the oldest's age
  // The host tree's last sync (docs/wire.md "Trees"); the tree figures are
  // written only once one was attempted.
  bool tree_sync_attempted = false;
  bool tree_sync_failed = false;
  int64_t tree_objects_sent = 0;
  int64_t tree_bytes_sent = 0;
};

std::string RenderAgentMetrics(const AgentFigures& f);

// Writes the text atomically (a reader sees the old file or the new one),
// mode 0644.
Status WriteAgentMetrics(Host& host, const std::string& path, const AgentFigures& f);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_AGENT_METRICS_H_
