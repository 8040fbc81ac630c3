// The SQLite fleet store's schema and the decoding of its rows (the SQL that
// reads and writes them is in sqlite_store.cc). Schema: docs/collector.md.
#include "collector/sqlite_rows.h"

#include <cpprest/json.h>

#include "collector/inventory.h"
#include "collector/sqlite_store.h"

namespace driftwatch::collector::sqlite_rows {

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tokens(
  sha256 TEXT PRIMARY KEY, role TEXT NOT NULL, host_id TEXT NOT NULL DEFAULT '',
  created_ns INTEGER NOT NULL, uses_left INTEGER NOT NULL DEFAULT -1,
  expires_ns INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS hosts(
  id TEXT PRIMARY KEY, grp TEXT NOT NULL DEFAULT '', agent_version TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '', enrolled_ns INTEGER NOT NULL,
  last_seen_ns INTEGER NOT NULL DEFAULT 0, last_report_ns INTEGER NOT NULL DEFAULT 0,
  baseline TEXT NOT NULL DEFAULT '', baseline_revision INTEGER NOT NULL DEFAULT 0,
  baseline_since_ns INTEGER NOT NULL DEFAULT 0, root TEXT NOT NULL DEFAULT '',
  subtrees TEXT NOT NULL DEFAULT '{}', reports INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0, last_report_events INTEGER NOT NULL DEFAULT 0,
  interval_ns INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS hosts_group ON hosts(grp);
CREATE TABLE IF NOT EXISTS reports(
  seq INTEGER PRIMARY KEY, report_id TEXT NOT NULL UNIQUE, host_id TEXT NOT NULL,
  agent_version TEXT NOT NULL, sent_ns INTEGER NOT NULL, received_ns INTEGER NOT NULL,
  started_ns INTEGER NOT NULL, finished_ns INTEGER NOT NULL, baseline TEXT NOT NULL,
  baseline_revision INTEGER NOT NULL, root TEXT NOT NULL, first_event_id INTEGER NOT NULL,
  events INTEGER NOT NULL, warnings TEXT NOT NULL, stats TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reports_host ON reports(host_id, seq);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, report_seq INTEGER NOT NULL, host_id TEXT NOT NULL,
  grp TEXT NOT NULL, path TEXT NOT NULL, kind INTEGER NOT NULL, severity INTEGER NOT NULL,
  detected_ns INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_host ON events(host_id, id);
CREATE INDEX IF NOT EXISTS events_group ON events(grp, id);
CREATE INDEX IF NOT EXISTS events_path ON events(path, id);
CREATE INDEX IF NOT EXISTS events_detected ON events(detected_ns, id);
CREATE TABLE IF NOT EXISTS event_counts(severity INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands(
  id INTEGER PRIMARY KEY, host_id TEXT NOT NULL, kind TEXT NOT NULL,
  created_ns INTEGER NOT NULL, handed_out_ns INTEGER NOT NULL DEFAULT 0,
  acked_ns INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '', paths TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS commands_host ON commands(host_id, handed_out_ns, id);
CREATE TABLE IF NOT EXISTS alerts(
  id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, route TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_ns INTEGER NOT NULL,
  delivered_ns INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  UNIQUE(event_id, route));
CREATE INDEX IF NOT EXISTS alerts_due ON alerts(delivered_ns, next_ns);
CREATE TABLE IF NOT EXISTS host_inventory(
  host_id TEXT PRIMARY KEY, packages_digest TEXT NOT NULL DEFAULT '',
  packages_count INTEGER NOT NULL DEFAULT 0, packages_ns INTEGER NOT NULL DEFAULT 0,
  containers_ns INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS host_packages(
  host_id TEXT NOT NULL, pos INTEGER NOT NULL, manager TEXT NOT NULL, name TEXT NOT NULL,
  version TEXT NOT NULL, arch TEXT NOT NULL, PRIMARY KEY(host_id, pos));
CREATE TABLE IF NOT EXISTS host_containers(
  host_id TEXT NOT NULL, pos INTEGER NOT NULL, name TEXT NOT NULL,
  container_id TEXT NOT NULL, runtime TEXT NOT NULL, image TEXT NOT NULL,
  image_digest TEXT NOT NULL, drift_known INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(host_id, pos));
CREATE TABLE IF NOT EXISTS host_report_status(
  host_id TEXT PRIMARY KEY, last_summary TEXT NOT NULL DEFAULT '',
  refused INTEGER NOT NULL DEFAULT 0, refused_ns INTEGER NOT NULL DEFAULT 0,
  refused_reason TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS host_baselines(
  host_id TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL,
  root TEXT NOT NULL DEFAULT '', since_ns INTEGER NOT NULL, first_seen_ns INTEGER NOT NULL,
  last_seen_ns INTEGER NOT NULL, PRIMARY KEY(host_id, name, revision));
)sql";

// Version 1 -> 2: the columns version 2 added to existing tables; the new
// tables come from kSchema afterwards.
const char* const kUpgradeToV2 = R"sql(
ALTER TABLE hosts ADD COLUMN interval_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN paths TEXT NOT NULL DEFAULT '[]';
)sql";

// Version 2 -> 3: enroll token limits (-1 uses = unlimited, 0 = never
// expires), so tokens created before keep working as they did.
const char* const kUpgradeToV3 = R"sql(
ALTER TABLE tokens ADD COLUMN uses_left INTEGER NOT NULL DEFAULT -1;
ALTER TABLE tokens ADD COLUMN expires_ns INTEGER NOT NULL DEFAULT 0;
)sql";

const char* const kHostColumns =
    "id, grp, agent_version, target, enrolled_ns, last_seen_ns, last_report_ns, baseline, "
    "baseline_revision, baseline_since_ns, root, subtrees, reports, events, last_report_events, "
    "interval_ns, coalesce(s.last_summary, ''), coalesce(s.refused, 0), "
    "coalesce(s.refused_ns, 0), coalesce(s.refused_reason, '')";

const char* const kHostFrom = " FROM hosts LEFT JOIN host_report_status s ON s.host_id = hosts.id";

const char* const kCommandColumns =
    "id, host_id, kind, created_ns, handed_out_ns, acked_ns, ok, detail, paths";

const char* const kEventSelect =
    "SELECT e.id, e.host_id, r.report_id, e.detected_ns, r.received_ns, e.body "
    "FROM events e JOIN reports r ON r.seq = e.report_seq";

Status CreateOrUpgradeSchema(sqlite::Db& db) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  DW_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_versions(component TEXT PRIMARY KEY, "
              "version INTEGER NOT NULL)"));
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT version FROM schema_versions "
                                         "WHERE component = 'collector'"));
  DW_ASSIGN_OR_RETURN(bool found, s.Step());
  const int64_t version = found ? s.Int(0) : 0;
  if (found && (version < 1 || version > kCollectorSchemaVersion)) {
    return Status::Unsupported("collector store schema version " + std::to_string(version) +
                               " is not supported by this build (knows version " +
                               std::to_string(kCollectorSchemaVersion) +
                               "); see docs/collector.md");
  }
  s.Reset();
  if (version == 1) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV2));
  DW_RETURN_IF_ERROR(db.Exec(kSchema));
  if (version == 1 || version == 2) {
    // kSchema created the tokens table if the file had none.
    DW_ASSIGN_OR_RETURN(auto has, db.Prepare("SELECT count(*) FROM pragma_table_info('tokens') "
                                             "WHERE name = 'uses_left'"));
    DW_ASSIGN_OR_RETURN(bool row, has.Step());
    const bool upgraded = row && has.Int(0) > 0;
    has.Reset();
    if (!upgraded) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV3));
  }
  if (version != kCollectorSchemaVersion) {
    DW_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT OR REPLACE INTO schema_versions("
                                             "component, version) VALUES('collector', ?)"));
    DW_RETURN_IF_ERROR(ins.Bind(1, int64_t{kCollectorSchemaVersion}).Run());
  }
  return tx.Commit();
}

HostRecord ReadHost(const sqlite::Stmt& s) {
  HostRecord h;
  h.id = s.Text(0);
  h.group = s.Text(1);
  h.agent_version = s.Text(2);
  h.target = s.Text(3);
  h.enrolled_ns = s.Int(4);
  h.last_seen_ns = s.Int(5);
  h.last_report_ns = s.Int(6);
  h.baseline = s.Text(7);
  h.baseline_revision = s.Int(8);
  h.baseline_since_ns = s.Int(9);
  if (auto r = Hash128::FromHex(s.Text(10)); r.ok()) h.root = *r;
  try {
    auto sub = web::json::value::parse(s.Text(11));
    for (const auto& [path, hash] : sub.as_object()) {
      auto raw = UnescapePath(path);
      auto hh = Hash128::FromHex(hash.as_string());
      if (raw.ok() && hh.ok()) h.subtrees.emplace_back(*raw, *hh);
    }
  } catch (const std::exception&) {
    // Written by this file only; an unreadable value shows as no subtrees.
  }
  h.reports = s.Int(12);
  h.events = s.Int(13);
  h.last_report_events = s.Int(14);
  h.interval_ns = s.Int(15);
  h.last_summary_json = s.Text(16);
  h.reports_refused = s.Int(17);
  h.last_refused_ns = s.Int(18);
  h.last_refused_reason = s.Text(19);
  return h;
}

EventRecord ReadEvent(const sqlite::Stmt& s) {
  EventRecord e;
  e.id = s.Int(0);
  e.host_id = s.Text(1);
  e.report_id = s.Text(2);
  e.detected_ns = s.Int(3);
  e.received_ns = s.Int(4);
  e.event_json = s.Text(5);
  return e;
}

CommandRecord ReadCommand(const sqlite::Stmt& s) {
  CommandRecord c;
  c.id = s.Int(0);
  c.host_id = s.Text(1);
  c.kind = s.Text(2);
  c.created_ns = s.Int(3);
  c.handed_out_ns = s.Int(4);
  c.acked_ns = s.Int(5);
  c.ok = s.Int(6) != 0;
  c.detail = s.Text(7);
  c.paths = PathsFromJson(s.Text(8));
  return c;
}

PendingAlert ReadAlert(const sqlite::Stmt& s) {
  PendingAlert a;
  a.id = s.Int(0);
  a.route = s.Text(1);
  a.event_id = s.Int(2);
  a.attempts = static_cast<int>(s.Int(3));
  a.event.id = s.Int(4);
  a.event.host_id = s.Text(5);
  a.event.report_id = s.Text(6);
  a.event.detected_ns = s.Int(7);
  a.event.received_ns = s.Int(8);
  a.event.event_json = s.Text(9);
  return a;
}

}  // namespace driftwatch::collector::sqlite_rows
