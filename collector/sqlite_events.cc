// The SQL that reads drift events from the SQLite fleet store
// (sqlite_events.h).
#include "collector/sqlite_events.h"

#include <algorithm>

#include "collector/sqlite_rows.h"
#include "collector/store_rows.h"

namespace driftwatch::collector::sqlite_events {
namespace {

using sqlite_rows::SqliteRow;

// The keyset condition and order of a scan: one range of the index on
// (detected_ns, id), or of (host_id | grp | path, detected_ns, id) when
// the store has it, read from `from` on. The row-value comparison is what
// the planner turns into the range; the plain one on detected_ns narrows it
// for an index that starts with detected_ns only.
std::string KeysetSql(const store_rows::EventScan& scan) {
  return scan.ascending ? " AND e.detected_ns >= ?10 AND (e.detected_ns, e.id) > (?10, ?11)"
                          " ORDER BY e.detected_ns, e.id LIMIT ?12"
                        : " AND e.detected_ns <= ?10 AND (e.detected_ns, e.id) < (?10, ?11)"
                          " ORDER BY e.detected_ns DESC, e.id DESC LIMIT ?12";
}

void BindKeyset(sqlite::Stmt& s, const store_rows::EventScan& scan, int limit) {
  s.Bind(10, scan.from.detected_ns).Bind(11, scan.from.id).Bind(12, int64_t{limit});
}

Result<std::vector<EventRecord>> Read(sqlite::Stmt& s, const store_rows::EventScan& scan) {
  std::vector<EventRecord> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(store_rows::ReadEvent(SqliteRow(s)));
  }
  if (scan.reverse) std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

Result<sqlite::Stmt> PrepareQuery(sqlite::Db& db, const DriftQuery& q, std::string_view prefix) {
  const store_rows::EventScan scan = store_rows::PlanEventScan(q.page);
  std::string sql = std::string(prefix) + sqlite_rows::kEventSelect + " WHERE 1";
  if (!q.host.empty()) sql += " AND e.host_id = ?2";
  if (!q.group.empty()) sql += " AND e.grp = ?3";
  if (!q.path_glob.empty()) sql += " AND e.path GLOB ?4";
  if (q.kind) sql += " AND e.kind = ?5";
  if (q.min_severity) sql += " AND e.severity >= ?6";
  if (q.since_ns) sql += " AND e.detected_ns >= ?7";
  if (q.until_ns) sql += " AND e.detected_ns < ?8";
  if (q.event_id) sql += " AND e.id = ?9";
  if (!q.actor_exe.empty()) sql += " AND e.actor_exe = ?13";
  if (q.actor_uid) sql += " AND e.actor_uid = ?14";
  if (q.transient) sql += " AND e.transient = ?15";
  if (!q.path.empty()) sql += " AND e.path = ?16";
  sql += KeysetSql(scan);
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(sql));
  if (!q.host.empty()) s.Bind(2, q.host);
  if (!q.group.empty()) s.Bind(3, q.group);
  if (!q.path_glob.empty()) s.Bind(4, q.path_glob);
  if (q.kind) s.Bind(5, static_cast<int64_t>(*q.kind));
  if (q.min_severity) s.Bind(6, static_cast<int64_t>(*q.min_severity));
  if (q.since_ns) s.Bind(7, *q.since_ns);
  if (q.until_ns) s.Bind(8, *q.until_ns);
  if (q.event_id) s.Bind(9, *q.event_id);
  if (!q.actor_exe.empty()) s.Bind(13, q.actor_exe);
  if (q.actor_uid) s.Bind(14, *q.actor_uid);
  if (q.transient) s.Bind(15, int64_t{*q.transient ? 1 : 0});
  if (!q.path.empty()) s.Bind(16, q.path);
  BindKeyset(s, scan, q.page.limit);
  return s;
}

Result<sqlite::Stmt> PreparePathHistory(sqlite::Db& db, const std::string& path,
                                        const EventPageQuery& page, std::string_view prefix) {
  const store_rows::EventScan scan = store_rows::PlanEventScan(page);
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string(prefix) + sqlite_rows::kEventSelect +
                                         " WHERE e.path = ?1" + KeysetSql(scan)));
  s.Bind(1, path);
  BindKeyset(s, scan, page.limit);
  return s;
}

Result<std::vector<EventRecord>> Query(sqlite::Db& db, const DriftQuery& q) {
  DW_ASSIGN_OR_RETURN(auto s, PrepareQuery(db, q, ""));
  return Read(s, store_rows::PlanEventScan(q.page));
}

Result<std::vector<EventRecord>> PathHistory(sqlite::Db& db, const std::string& path,
                                             const EventPageQuery& page) {
  DW_ASSIGN_OR_RETURN(auto s, PreparePathHistory(db, path, page, ""));
  return Read(s, store_rows::PlanEventScan(page));
}

Result<std::string> Diff(sqlite::Db& db, int64_t event_id) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT coalesce(diff, '') FROM events WHERE id = ?"));
  s.Bind(1, event_id);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no event " + std::to_string(event_id));
  return s.Text(0);
}

}  // namespace driftwatch::collector::sqlite_events
