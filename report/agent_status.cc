#include "report/agent_status.h"

#include "agent/store_file.h"
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

bool Healthy(const AgentStatus& s) { return !s.probe.checked || s.probe.reachable; }

}  // namespace driftwatch::report
