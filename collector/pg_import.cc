// SQLite -> PostgreSQL copy of a collector database (pg_import.h).
#include "collector/pg_import.h"

#include <unistd.h>

#include <set>

#include "collector/pg_conn.h"
#include "collector/pg_events.h"
#include "collector/pg_schema.h"
#include "collector/pg_store.h"
#include "collector/sqlite_store.h"
#include "core/sqlite.h"

namespace driftwatch::collector {
namespace {

// One table copied by ImportSqliteIntoPg. `sqlite_select` yields, in order,
// one value per column of `pg_columns` (the tables share their column names
// except where a select adapts a value). A new fleet table is one more entry
// here, in an order that respects references (reports before events).
struct CopyTable {
  const char* name;           // the PostgreSQL table
  const char* pg_columns;     // column list of the INSERT
  const char* sqlite_select;  // the rows, ordered by the first column
  const char* pg_sequence;    // advanced past the largest first column, or nullptr
};

constexpr CopyTable kCopyTables[] = {
    {"tokens",
     "sha256, role, host_id, created_ns, uses_left, expires_ns, id, revoked_ns, last_used_ns",
     "SELECT sha256, role, host_id, created_ns, uses_left, expires_ns, id, revoked_ns, "
     "last_used_ns "
     "FROM tokens ORDER BY sha256",
     nullptr},
    {"hosts",
     "id, grp, agent_version, target, enrolled_ns, last_seen_ns, last_report_ns, baseline, "
     "baseline_revision, baseline_since_ns, root, subtrees, reports, events, last_report_events, "
     "interval_ns",
     "SELECT id, grp, agent_version, target, enrolled_ns, last_seen_ns, last_report_ns, baseline, "
     "baseline_revision, baseline_since_ns, root, subtrees, reports, events, last_report_events, "
     "interval_ns FROM hosts ORDER BY id",
     nullptr},
    {"reports",
     "seq, report_id, host_id, agent_version, sent_ns, received_ns, started_ns, finished_ns, "
     "baseline, baseline_revision, root, first_event_id, events, warnings, stats, chain_answer",
     "SELECT seq, report_id, host_id, agent_version, sent_ns, received_ns, started_ns, "
     "finished_ns, baseline, baseline_revision, root, first_event_id, events, warnings, stats, "
     "chain_answer FROM reports ORDER BY seq",
     "reports_seq_seq"},
    // PostgreSQL keeps the report id and receive time on each event row;
    // the realtime columns (version 5) are NULL for events of a check.
    {"events",
     "id, report_seq, report_id, host_id, grp, path, kind, severity, detected_ns, received_ns, "
     "body, actor, actor_exe, actor_uid, transient, reverted_by, event_ns, diff, chain_seq, "
     "chain_head",
     "SELECT e.id, e.report_seq, r.report_id, e.host_id, e.grp, e.path, e.kind, e.severity, "
     "e.detected_ns, r.received_ns, e.body, e.actor, e.actor_exe, e.actor_uid, "
     "CASE WHEN e.transient <> 0 THEN 'true' ELSE 'false' END, e.reverted_by, e.event_ns, "
     "e.diff, e.chain_seq, e.chain_head "
     "FROM events e JOIN reports r ON r.seq = e.report_seq ORDER BY e.id",
     "events_id_seq"},
    {"event_counts", "severity, n", "SELECT severity, n FROM event_counts ORDER BY severity",
     nullptr},
    {"commands", "id, host_id, kind, created_ns, handed_out_ns, acked_ns, ok, detail, paths, args",
     "SELECT id, host_id, kind, created_ns, handed_out_ns, acked_ns, "
     "CASE WHEN ok <> 0 THEN 'true' ELSE 'false' END, detail, paths, args FROM commands "
     "ORDER BY id",
     "commands_id_seq"},
    {"alerts", "id, event_id, route, attempts, next_ns, delivered_ns, last_error",
     "SELECT id, event_id, route, attempts, next_ns, delivered_ns, last_error FROM alerts "
     "ORDER BY id",
     "alerts_id_seq"},
    // Host inventories (schema version 2): the latest packages and
    // containers of each host, and every baseline revision seen.
    {"host_inventory", "host_id, packages_digest, packages_count, packages_ns, containers_ns",
     "SELECT host_id, packages_digest, packages_count, packages_ns, containers_ns "
     "FROM host_inventory ORDER BY host_id",
     nullptr},
    {"host_packages", "host_id, pos, manager, name, version, arch",
     "SELECT host_id, pos, manager, name, version, arch FROM host_packages ORDER BY host_id, pos",
     nullptr},
    // Their runtime identity: SQLite version 8, PostgreSQL version 9.
    {"host_containers",
     "host_id, pos, name, container_id, runtime, image, image_digest, drift_known, events, "
     "image_id, image_tree, labels, started_ns, pid, excluded, note, k8s_namespace, k8s_pod, "
     "k8s_container",
     "SELECT host_id, pos, name, container_id, runtime, image, image_digest, "
     "CASE WHEN drift_known <> 0 THEN 'true' ELSE 'false' END, events, image_id, image_tree, "
     "labels, started_ns, pid, excluded, note, k8s_namespace, k8s_pod, k8s_container "
     "FROM host_containers ORDER BY host_id, pos",
     nullptr},
    {"host_baselines", "host_id, name, revision, root, since_ns, first_seen_ns, last_seen_ns",
     "SELECT host_id, name, revision, root, since_ns, first_seen_ns, last_seen_ns "
     "FROM host_baselines ORDER BY host_id, name, revision",
     nullptr},
    // Per host: the latest report's summary and the refused reports
    // (PostgreSQL schema version 3; created by the SQLite store on open).
    {"host_report_status", "host_id, last_summary, refused, refused_ns, refused_reason",
     "SELECT host_id, last_summary, refused, refused_ns, refused_reason "
     "FROM host_report_status ORDER BY host_id",
     nullptr},
    // Integrity (SQLite version 7, PostgreSQL version 8): the escrow, the
    // alerts and each host's event chain head, so that the copy verifies.
    {"chain_hosts",
     "host_id, epoch, held_length, held_head, adopted, epoch_started_ns, epoch_reason, self_ns, "
     "self_exe, self_rules, self_config, self_version, events_length, events_head, anchor_seq, "
     "anchor_head",
     "SELECT host_id, epoch, held_length, held_head, CASE WHEN adopted <> 0 THEN 'true' ELSE "
     "'false' END, epoch_started_ns, epoch_reason, self_ns, self_exe, self_rules, self_config, "
     "self_version, events_length, events_head, anchor_seq, anchor_head FROM chain_hosts "
     "ORDER BY host_id",
     nullptr},
    {"chain_records", "host_id, epoch, seq, kind, time_ns, body, head, received_ns",
     "SELECT host_id, epoch, seq, kind, time_ns, body, head, received_ns FROM chain_records "
     "ORDER BY host_id, epoch, seq",
     nullptr},
    {"chain_baselines", "host_id, epoch, name, revision, root, seq",
     "SELECT host_id, epoch, name, revision, root, seq FROM chain_baselines "
     "ORDER BY host_id, epoch, name",
     nullptr},
    {"integrity_alerts",
     "id, host_id, kind, severity, epoch, seq, detail, detected_ns, resolved_ns, resolved_by, "
     "resolution",
     "SELECT id, host_id, kind, severity, epoch, seq, detail, detected_ns, resolved_ns, "
     "resolved_by, resolution FROM integrity_alerts ORDER BY id",
     "integrity_alerts_id_seq"},
    // The fleet's trees (SQLite version 9, PostgreSQL version 10). Object
    // bytes go as bytea's hex input ('\x...'), so that any byte survives a
    // text parameter.
    {"tree_objects", "id, data, stored_ns",
     "SELECT id, '\\x' || lower(hex(data)), stored_ns FROM tree_objects ORDER BY id", nullptr},
    {"host_trees", "host_id, root, set_ns, host_specific",
     "SELECT host_id, root, set_ns, host_specific FROM host_trees ORDER BY host_id", nullptr},
    {"host_tree_history", "host_id, root, replaced_ns",
     "SELECT host_id, root, replaced_ns FROM host_tree_history ORDER BY host_id, root", nullptr},
    {"group_baselines", "grp, revision, root, source, by_who, why, created_ns",
     "SELECT grp, revision, root, source, by_who, why, created_ns FROM group_baselines "
     "ORDER BY grp, revision",
     nullptr},
};

// Rows per multi-row INSERT.
constexpr int kBatchRows = 200;

int ColumnCount(const char* columns) {
  int n = 1;
  for (const char* p = columns; *p; ++p) n += *p == ',';
  return n;
}

// "INSERT INTO t(cols) VALUES ($1, ..), (..)" for `rows` rows.
std::string InsertSql(const CopyTable& t, int columns, int rows) {
  std::string sql = std::string("INSERT INTO ") + t.name + "(" + t.pg_columns + ") VALUES ";
  int p = 1;
  for (int r = 0; r < rows; ++r) {
    sql += r ? ", (" : "(";
    for (int c = 0; c < columns; ++c) sql += (c ? ", $" : "$") + std::to_string(p++);
    sql += ")";
  }
  return sql;
}

Status FlushBatch(PgConn& pg, const CopyTable& t, int columns, std::vector<PgParam>* params) {
  if (params->empty()) return Status::Ok();
  const int rows = static_cast<int>(params->size()) / columns;
  const std::string name = std::string("copy_") + t.name + "_" + std::to_string(rows);
  const std::string sql = InsertSql(t, columns, rows);
  Status s = pg.Exec(name.c_str(), sql.c_str(), *params).status();
  params->clear();
  return s.WithContext(std::string("copying ") + t.name);
}

// Copies one table; returns the row count and the largest first column.
Result<std::pair<int64_t, int64_t>> CopyOne(sqlite::Db& lite, PgConn& pg, const CopyTable& t) {
  const int columns = ColumnCount(t.pg_columns);
  DW_ASSIGN_OR_RETURN(auto s, lite.Prepare(t.sqlite_select));
  std::vector<PgParam> params;
  int64_t rows = 0, max_id = 0;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    for (int c = 0; c < columns; ++c) {
      params.push_back(s.IsNull(c) ? PgParam() : PgParam(s.Text(c)));
    }
    if (t.pg_sequence != nullptr) max_id = std::max(max_id, s.Int(0));
    ++rows;
    if (params.size() >= static_cast<size_t>(kBatchRows * columns)) {
      DW_RETURN_IF_ERROR(FlushBatch(pg, t, columns, &params));
    }
  }
  DW_RETURN_IF_ERROR(FlushBatch(pg, t, columns, &params));
  return std::make_pair(rows, max_id);
}

}  // namespace

Result<ImportCounts> ImportSqliteIntoPg(const std::string& sqlite_path, const std::string& pg_url) {
  if (access(sqlite_path.c_str(), R_OK) != 0) {
    return Status::NotFound(sqlite_path + ": no such SQLite collector database");
  }
  {
    // Validates (and, for an older build's file, upgrades) the SQLite schema.
    DW_ASSIGN_OR_RETURN(auto store, OpenSqliteStore(sqlite_path));
  }
  DW_ASSIGN_OR_RETURN(auto lite, sqlite::Db::Open(sqlite_path, SqliteStoreOptions()));
  DW_ASSIGN_OR_RETURN(auto pg, PgConn::Connect(pg_url, 10));
  {
    // Opening a store checks that the target is at this build's version.
    PgStoreOptions one;
    one.pool_size = 1;
    DW_ASSIGN_OR_RETURN(auto store, OpenPgStore(pg_url, one));
  }
  // One read snapshot for the whole copy, ended however the copy ends. A
  // deferred transaction takes its snapshot at the first read.
  DW_ASSIGN_OR_RETURN(sqlite::Transaction snapshot,
                      sqlite::Transaction::Begin(*lite, sqlite::Transaction::Mode::kDeferred));
  DW_RETURN_IF_ERROR(lite->Exec("SELECT count(*) FROM schema_versions"));

  // Partition DDL runs in its own transactions (PgPartitions::Ensure);
  // empty partitions left by a failed copy are harmless.
  {
    DW_ASSIGN_OR_RETURN(auto s, lite->Prepare("SELECT DISTINCT detected_ns FROM events"));
    std::set<int64_t> months;
    PgPartitions partitions;
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      const EventMonth m = MonthOf(s.Int(0));
      if (months.insert(m.start_ns).second) {
        DW_RETURN_IF_ERROR(partitions.Ensure(*pg, s.Int(0)));
      }
    }
  }

  PgTx tx(*pg);
  DW_RETURN_IF_ERROR(tx.Begin());
  // No collector ingests (or creates partitions) while the copy runs.
  DW_RETURN_IF_ERROR(
      pg->Exec("schema_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgSchemaLock)}).status());
  DW_RETURN_IF_ERROR(
      pg->Exec("ingest_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgIngestLock)}).status());
  for (const CopyTable& t : kCopyTables) {
    const std::string sql = std::string("SELECT count(*) FROM ") + t.name;
    DW_ASSIGN_OR_RETURN(auto r,
                        pg->Exec((std::string("count_") + t.name).c_str(), sql.c_str(), {}));
    if (r.Int(0, 0) > 0) {
      return Status::AlreadyExists("the target PostgreSQL store is not empty (" +
                                   std::to_string(r.Int(0, 0)) + " row(s) in " + t.name +
                                   "); migrate --from copies into an empty database only");
    }
  }
  ImportCounts counts;
  for (const CopyTable& t : kCopyTables) {
    DW_ASSIGN_OR_RETURN(auto copied, CopyOne(*lite, *pg, t));
    counts.emplace_back(t.name, copied.first);
    if (t.pg_sequence != nullptr && copied.first > 0) {
      DW_RETURN_IF_ERROR(pg->Exec("copy_setval", "SELECT setval($1::regclass, $2)",
                                  {std::string(t.pg_sequence), PgInt(copied.second)})
                             .status());
    }
  }
  DW_RETURN_IF_ERROR(tx.Commit());
  return counts;
}

}  // namespace driftwatch::collector
