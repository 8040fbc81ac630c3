// The agent store's summaries for `driftwatch status` (store.h).
#include "agent/store.h"

namespace driftwatch::agent {

using sqlite::Stmt;

Result<std::optional<CheckSummary>> Store::NewestCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id, COALESCE(snapshot_id, 0), baseline, "
                                           "revision, started_ns, finished_ns FROM checks"
                                           " ORDER BY id DESC LIMIT 1"));
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return std::optional<CheckSummary>();
  CheckSummary out;
  out.check = CheckRow{q.Int(0), q.Int(1), q.Text(2), q.Int(3), q.Int(4), q.Int(5)};
  DW_ASSIGN_OR_RETURN(Stmt counts, db_->Prepare("SELECT kind, severity, count(*) FROM events"
                                                " WHERE check_id = ? GROUP BY kind, severity"));
  counts.Bind(1, out.check.id);
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, counts.Step());
    if (!row) break;
    auto kind = ParseDriftKind(counts.Text(0));
    auto severity = ParseSeverity(counts.Text(1));
    if (!kind.ok() || !severity.ok()) {
      return Status::Corruption(db_->path() + ": check " + std::to_string(out.check.id) +
                                ": an event of kind '" + counts.Text(0) + "' and severity '" +
                                counts.Text(1) + "'");
    }
    out.counts.Add(*kind, *severity, counts.Int(2));
  }
  return std::optional<CheckSummary>(out);
}

}  // namespace driftwatch::agent
