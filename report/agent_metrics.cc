#include "report/agent_metrics.h"

#include <algorithm>

#include "core/drift.h"
#include "core/metrics_text.h"

namespace driftwatch::report {

std::string RenderAgentMetrics(const AgentFigures& f) {
  MetricsText out;
  out.Family("driftwatch_agent_build_info", "gauge", "The agent's version; always 1.");
  out.Sample("driftwatch_agent_build_info", {{"version", DRIFTWATCH_VERSION}}, int64_t{1});
  out.Family("driftwatch_agent_last_check_timestamp_seconds", "gauge",
             "When the last check finished, in seconds since the epoch.");
  out.Sample("driftwatch_agent_last_check_timestamp_seconds", {},
             static_cast<double>(f.check_finished_ns) / 1e9);
  out.Family("driftwatch_agent_last_check_duration_seconds", "gauge",
             "How long the last check took.");
  out.Sample("driftwatch_agent_last_check_duration_seconds", {},
             static_cast<double>(f.check_duration_ns) / 1e9);
  out.Family("driftwatch_agent_last_check_result", "gauge",
             "The last check's result: 0 no drift, 1 drift, 2 failed.");
  out.Sample("driftwatch_agent_last_check_result", {}, int64_t{f.check_result});
  out.Family("driftwatch_agent_last_check_drift_events", "gauge",
             "Drift events the last check reported, by severity.");
  for (int i = 1; i <= 4; ++i) {
    out.Sample("driftwatch_agent_last_check_drift_events",
               {{"severity", std::string(SeverityName(static_cast<Severity>(i)))}}, f.drift[i - 1]);
  }
  out.Family("driftwatch_agent_outbox_reports", "gauge",
             "Reports in the outbox waiting for delivery to the collector.");
  out.Sample("driftwatch_agent_outbox_reports", {}, f.outbox_reports);
  out.Family("driftwatch_agent_outbox_oldest_age_seconds", "gauge",
             "Age of the oldest report in the outbox; 0 when it is empty.");
  out.Sample("driftwatch_agent_outbox_oldest_age_seconds", {},
             f.outbox_oldest_ns == 0
                 ? 0.0
                 : static_cast<double>(std::max<int64_t>(f.now_ns - f.outbox_oldest_ns, 0)) / 1e9);
  if (f.tree_sync_attempted) {
    out.Family("driftwatch_agent_last_tree_sync_result", "gauge",
               "The host tree's last sync to the collector: 0 synced, 1 failed.");
    out.Sample("driftwatch_agent_last_tree_sync_result", {}, int64_t{f.tree_sync_failed ? 1 : 0});
    out.Family("driftwatch_agent_last_tree_sync_objects_sent", "gauge",
               "Tree objects the last sync uploaded (the collector lacked them).");
    out.Sample("driftwatch_agent_last_tree_sync_objects_sent", {}, f.tree_objects_sent);
    out.Family("driftwatch_agent_last_tree_sync_bytes_sent", "gauge",
               "Request bytes the last sync sent: offers, objects and the root.");
    out.Sample("driftwatch_agent_last_tree_sync_bytes_sent", {}, f.tree_bytes_sent);
  }
  return out.Take();
}

Status WriteAgentMetrics(Host& host, const std::string& path, const AgentFigures& f) {
  return host.WriteFileAtomic(path, RenderAgentMetrics(f), 0644).WithContext("metrics_file");
}

}  // namespace driftwatch::report
