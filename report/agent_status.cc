#include "report/agent_status.h"

#include "agent/store_file.h"
#include "core/drift_json.h"
#include "report/client.h"
#include "report/outbox.h"

namespace driftwatch::report {

Result<AgentStatus> GatherStatus(Host& host, const StatusOptions& options) {
  AgentStatus out;
  out.db_path = options.db_path;
  out.now_ns = host.NowNs();
  DW_RETURN_IF_ERROR(agent::CheckStoreFile(host, options.db_path));
  DW_ASSIGN_OR_RETURN(std::unique_ptr<agent::Store> store,
                      agent::Store::Open(host, options.db_path));
  DW_ASSIGN_OR_RETURN(out.last_check, store->NewestCheck());
  DW_ASSIGN_OR_RETURN(std::vector<agent::BaselineRow> rows, store->Baselines(std::nullopt));
  for (size_t i = 0; i < rows.size(); ++i) {
    // Oldest first, by name: the last row of a name is its newest revision.
    if (i + 1 < rows.size() && rows[i + 1].name == rows[i].name) continue;
    out.baselines.push_back(BaselineAge{rows[i].name, rows[i].revision, rows[i].created_ns});
  }
  store.reset();
  DW_ASSIGN_OR_RETURN(std::unique_ptr<agent::Journal> journal,
                      agent::Journal::Open(host, options.db_path));
  DW_ASSIGN_OR_RETURN(out.journal, journal->State());
  journal.reset();
  out.realtime_running = out.journal.heartbeat_ns != 0 &&
                         out.now_ns - out.journal.heartbeat_ns < agent::kJournalHeartbeatTimeoutNs;

  DW_ASSIGN_OR_RETURN(std::unique_ptr<Outbox> outbox, Outbox::Open(options.db_path));
  DW_ASSIGN_OR_RETURN(out.outbox_pending, outbox->PendingCount());
  DW_ASSIGN_OR_RETURN(out.outbox_rejected, outbox->RejectedCount());
  DW_ASSIGN_OR_RETURN(out.oldest_pending_ns, outbox->OldestPendingNs());
  DW_ASSIGN_OR_RETURN(std::optional<Enrollment> e, outbox->LoadEnrollment());
  if (e) {
    out.enrolled = true;
    out.collector = e->collector;
    out.host_id = e->host_id;
    out.group = e->group;
    out.enrolled_ns = e->enrolled_ns;
    if (options.probe_collector) {
      out.probe.checked = true;
      // No token: /healthz is public, and the token stays in the store.
      CollectorClient client(e->collector, "", e->ca_file, options.probe_timeout_ms);
      Status s = client.Healthz();
      out.probe.reachable = s.ok();
      if (!s.ok()) out.probe.error = s.message();
    }
  }
  return out;
}

std::string RealtimeSummary(const AgentStatus& s) {
  const agent::JournalState& j = s.journal;
  if (!s.realtime_running) {
    std::string why = j.reason;
    const std::string off = "realtime is off: ";
    if (why.rfind(off, 0) == 0) why = why.substr(off.size());
    if (j.heartbeat_ns != 0) why = "the watcher stopped answering";
    return "off (" + (why.empty() ? std::string("no watcher is running") : why) + ")";
  }
  std::string line = "on (watcher pid " + std::to_string(j.watcher_pid) + " since " +
                     FormatRfc3339Nanos(j.epoch).substr(0, 19) + "Z); journal ";
  if (j.valid) {
    return line + "valid, " + std::to_string(j.dirty_paths) + " dirty path(s) since the last check";
  }
  return line + "not valid: " + j.reason;
}

bool Healthy(const AgentStatus& s) { return !s.probe.checked || s.probe.reachable; }

}  // namespace driftwatch::report
