#include "collector/sqlite_commands.h"

#include "collector/inventory.h"
#include "collector/sqlite_inventory.h"
#include "collector/sqlite_rows.h"
#include "collector/store_rows.h"

namespace driftwatch::collector::sqlite_commands {
namespace {

using sqlite_rows::SqliteRow;
using store_rows::kCommandColumns;

Status HostExists(sqlite::Db& db, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT 1 FROM hosts WHERE id = ?"));
  s.Bind(1, host_id);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("unknown host '" + host_id + "'");
  return Status::Ok();
}

}  // namespace

Result<int64_t> Queue(sqlite::Db& db, const std::string& host_id, const std::string& kind,
                      int64_t now_ns) {
  DW_RETURN_IF_ERROR(HostExists(db, host_id));
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO commands(host_id, kind, created_ns) "
                                         "VALUES(?, ?, ?)"));
  DW_RETURN_IF_ERROR(s.Bind(1, host_id).Bind(2, kind).Bind(3, now_ns).Run());
  return db.LastInsertId();
}

Result<std::vector<int64_t>> QueueForGroup(sqlite::Db& db, const std::string& group,
                                           const std::string& kind, int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  std::vector<std::string> hosts;
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT id FROM hosts WHERE ? = '' OR grp = ? "
                                           "ORDER BY id"));
    s.Bind(1, group).Bind(2, group);
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      hosts.push_back(s.Text(0));
    }
  }
  std::vector<int64_t> ids;
  for (const std::string& h : hosts) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO commands(host_id, kind, created_ns) "
                                           "VALUES(?, ?, ?)"));
    DW_RETURN_IF_ERROR(s.Bind(1, h).Bind(2, kind).Bind(3, now_ns).Run());
    ids.push_back(db.LastInsertId());
  }
  DW_RETURN_IF_ERROR(tx.Commit());
  return ids;
}

Result<std::vector<CommandRecord>> Take(sqlite::Db& db, const std::string& host_id,
                                        int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  std::vector<CommandRecord> out;
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string("SELECT ") + kCommandColumns +
                                           " FROM commands WHERE host_id = ? AND "
                                           "handed_out_ns = 0 ORDER BY id LIMIT 100"));
    s.Bind(1, host_id);
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(store_rows::ReadCommand(SqliteRow(s)));
    }
  }
  for (CommandRecord& c : out) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE commands SET handed_out_ns = ? WHERE id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, now_ns).Bind(2, c.id).Run());
    c.handed_out_ns = now_ns;
  }
  DW_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Status Ack(sqlite::Db& db, const std::string& host_id, int64_t command_id, const CommandAck& ack,
           int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  {
    // Only a command handed out and not yet acknowledged takes an ack.
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE commands SET acked_ns = ?, ok = ?, "
                                           "detail = ? WHERE id = ? AND host_id = ? AND "
                                           "handed_out_ns <> 0 AND acked_ns = 0"));
    DW_RETURN_IF_ERROR(s.Bind(1, now_ns)
                           .Bind(2, int64_t{ack.ok ? 1 : 0})
                           .Bind(3, ack.detail)
                           .Bind(4, command_id)
                           .Bind(5, host_id)
                           .Run());
  }
  if (db.Changes() == 0) {
    DW_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT handed_out_ns, acked_ns FROM commands "
                                           "WHERE id = ? AND host_id = ?"));
    q.Bind(1, command_id).Bind(2, host_id);
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return AckRefusal(host_id, command_id, std::nullopt);
    return AckRefusal(host_id, command_id, CommandState{q.Int(0), q.Int(1)});
  }
  if (ack.ok && ack.baseline_revision > 0) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE hosts SET baseline = ?, "
                                           "baseline_revision = ?, baseline_since_ns = ?, "
                                           "root = CASE WHEN ? = '' THEN root ELSE ? END, "
                                           "last_seen_ns = max(last_seen_ns, ?) WHERE id = ?"));
    std::string root = ack.baseline_root ? ack.baseline_root->Hex() : "";
    DW_RETURN_IF_ERROR(s.Bind(1, ack.baseline)
                           .Bind(2, ack.baseline_revision)
                           .Bind(3, ack.baseline_created_ns ? ack.baseline_created_ns : now_ns)
                           .Bind(4, root)
                           .Bind(5, root)
                           .Bind(6, now_ns)
                           .Bind(7, host_id)
                           .Run());
    s.Reset();
    DW_RETURN_IF_ERROR(sqlite_inventory::RecordBaseline(
        db, host_id, ack.baseline, ack.baseline_revision, root,
        ack.baseline_created_ns ? ack.baseline_created_ns : now_ns, now_ns));
  }
  return tx.Commit();
}

Result<std::vector<CommandRecord>> List(sqlite::Db& db, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string("SELECT ") + kCommandColumns +
                                         " FROM commands WHERE host_id = ? ORDER BY id"));
  s.Bind(1, host_id);
  std::vector<CommandRecord> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(store_rows::ReadCommand(SqliteRow(s)));
  }
  return out;
}

Result<int64_t> QueueAccept(sqlite::Db& db, const std::string& host_id,
                            const std::vector<std::string>& paths, int64_t now_ns) {
  DW_RETURN_IF_ERROR(HostExists(db, host_id));
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO commands(host_id, kind, created_ns, "
                                         "paths) VALUES(?, 'accept', ?, ?)"));
  DW_RETURN_IF_ERROR(s.Bind(1, host_id).Bind(2, now_ns).Bind(3, PathsToJson(paths)).Run());
  return db.LastInsertId();
}

Result<std::vector<int64_t>> QueueRestore(sqlite::Db& db, const std::string& host_id,
                                          const std::string& group, const CommandRecord& restore,
                                          int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  std::vector<std::string> hosts;
  if (!host_id.empty()) {
    DW_RETURN_IF_ERROR(HostExists(db, host_id));
    hosts.push_back(host_id);
  } else {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT id FROM hosts WHERE ? = '' OR grp = ? "
                                           "ORDER BY id"));
    s.Bind(1, group).Bind(2, group);
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      hosts.push_back(s.Text(0));
    }
  }
  CommandRecord args = restore;
  args.kind = "restore";
  const std::string paths = PathsToJson(restore.paths);
  const std::string options = RestoreArgsToJson(args);
  std::vector<int64_t> ids;
  for (const std::string& h : hosts) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO commands(host_id, kind, created_ns, "
                                           "paths, args) VALUES(?, 'restore', ?, ?, ?)"));
    DW_RETURN_IF_ERROR(s.Bind(1, h).Bind(2, now_ns).Bind(3, paths).Bind(4, options).Run());
    ids.push_back(db.LastInsertId());
  }
  DW_RETURN_IF_ERROR(tx.Commit());
  return ids;
}

}  // namespace driftwatch::collector::sqlite_commands
