// The agent store's record of restores (store.h, schema v5 in docs/store.md).
#include "agent/store.h"

namespace driftwatch::agent {

using sqlite::Stmt;

Result<int64_t> Store::RecordRestore(const RestoreRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = 0;
  DW_RETURN_IF_ERROR(sqlite::InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT INTO restores(created_ns, author, reason,"
                                               " baseline, revision, refused)"
                                               " VALUES(?, ?, ?, ?, ?, ?)"));
    ins.Bind(1, row.created_ns)
        .Bind(2, row.author)
        .Bind(3, row.reason)
        .Bind(4, row.baseline)
        .Bind(5, row.revision)
        .Bind(6, row.refused);
    DW_RETURN_IF_ERROR(ins.Run());
    id = db_->LastInsertId();
    DW_ASSIGN_OR_RETURN(Stmt act, db_->Prepare("INSERT INTO restore_actions(restore_id, seq, path,"
                                               " action, detail, ok) VALUES(?, ?, ?, ?, ?, ?)"));
    int64_t seq = 0;
    for (const RestoreAction& a : row.actions) {
      act.Reset();
      act.Bind(1, id)
          .Bind(2, seq++)
          .BindBlob(3, a.path)
          .Bind(4, a.action)
          .Bind(5, a.detail)
          .Bind(6, int64_t{a.ok ? 1 : 0});
      DW_RETURN_IF_ERROR(act.Run());
    }
    return AppendRestoreRecordLocked(id);
  }));
  return id;
}

Result<std::vector<RestoreRow>> Store::Restores(int64_t since_ns, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id, created_ns, author, reason, baseline,"
                                           " revision, refused FROM restores"
                                           " WHERE created_ns >= ? ORDER BY id LIMIT ?"));
  q.Bind(1, since_ns).Bind(2, limit > size_t{INT64_MAX} ? INT64_MAX : static_cast<int64_t>(limit));
  std::vector<RestoreRow> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) break;
    RestoreRow r;
    r.id = q.Int(0);
    r.created_ns = q.Int(1);
    r.author = q.Text(2);
    r.reason = q.Text(3);
    r.baseline = q.Text(4);
    r.revision = q.Int(5);
    r.refused = q.Int(6);
    out.push_back(std::move(r));
  }
  DW_ASSIGN_OR_RETURN(Stmt a, db_->Prepare("SELECT path, action, detail, ok FROM restore_actions"
                                           " WHERE restore_id = ? ORDER BY seq"));
  for (RestoreRow& r : out) {
    a.Reset();
    a.Bind(1, r.id);
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool found, a.Step());
      if (!found) break;
      r.actions.push_back({a.Text(0), a.Text(1), a.Text(2), a.Int(3) != 0});
    }
  }
  return out;
}

}  // namespace driftwatch::agent
