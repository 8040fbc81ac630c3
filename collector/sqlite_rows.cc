// The SQLite fleet store's schema and its versions (the SQL that reads and
// writes rows is in sqlite_store.cc and its siblings). Schema:
// docs/collector.md.
#include "collector/sqlite_rows.h"

#include "collector/sqlite_store.h"

namespace driftwatch::collector::sqlite_rows {

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tokens(
  sha256 TEXT PRIMARY KEY, role TEXT NOT NULL, host_id TEXT NOT NULL DEFAULT '',
  created_ns INTEGER NOT NULL, uses_left INTEGER NOT NULL DEFAULT -1,
  expires_ns INTEGER NOT NULL DEFAULT 0, id TEXT NOT NULL DEFAULT '',
  revoked_ns INTEGER NOT NULL DEFAULT 0, last_used_ns INTEGER NOT NULL DEFAULT 0);
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
  events INTEGER NOT NULL, warnings TEXT NOT NULL, stats TEXT NOT NULL,
  chain_answer TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS reports_host ON reports(host_id, seq);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, report_seq INTEGER NOT NULL, host_id TEXT NOT NULL,
  grp TEXT NOT NULL, path TEXT NOT NULL, kind INTEGER NOT NULL, severity INTEGER NOT NULL,
  detected_ns INTEGER NOT NULL, body TEXT NOT NULL, actor TEXT, actor_exe TEXT,
  actor_uid INTEGER, transient INTEGER NOT NULL DEFAULT 0, reverted_by TEXT, event_ns INTEGER,
  diff TEXT, chain_seq INTEGER NOT NULL DEFAULT 0, chain_head TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS events_detected ON events(detected_ns, id);
CREATE TABLE IF NOT EXISTS event_counts(severity INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands(
  id INTEGER PRIMARY KEY, host_id TEXT NOT NULL, kind TEXT NOT NULL,
  created_ns INTEGER NOT NULL, handed_out_ns INTEGER NOT NULL DEFAULT 0,
  acked_ns INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '', paths TEXT NOT NULL DEFAULT '[]',
  args TEXT NOT NULL DEFAULT '{}');
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
  image_id TEXT NOT NULL DEFAULT '', image_tree TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '{}', started_ns INTEGER NOT NULL DEFAULT 0,
  pid INTEGER NOT NULL DEFAULT 0, excluded TEXT NOT NULL DEFAULT '[]',
  note TEXT NOT NULL DEFAULT '', k8s_namespace TEXT NOT NULL DEFAULT '',
  k8s_pod TEXT NOT NULL DEFAULT '', k8s_container TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(host_id, pos));
CREATE TABLE IF NOT EXISTS host_report_status(
  host_id TEXT PRIMARY KEY, last_summary TEXT NOT NULL DEFAULT '',
  refused INTEGER NOT NULL DEFAULT 0, refused_ns INTEGER NOT NULL DEFAULT 0,
  refused_reason TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS host_baselines(
  host_id TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL,
  root TEXT NOT NULL DEFAULT '', since_ns INTEGER NOT NULL, first_seen_ns INTEGER NOT NULL,
  last_seen_ns INTEGER NOT NULL, PRIMARY KEY(host_id, name, revision));
CREATE TABLE IF NOT EXISTS chain_hosts(
  host_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL DEFAULT 1,
  held_length INTEGER NOT NULL DEFAULT 0, held_head TEXT NOT NULL,
  adopted INTEGER NOT NULL DEFAULT 0, epoch_started_ns INTEGER NOT NULL DEFAULT 0,
  epoch_reason TEXT NOT NULL DEFAULT '', self_ns INTEGER NOT NULL DEFAULT 0,
  self_exe TEXT NOT NULL DEFAULT '', self_rules TEXT NOT NULL DEFAULT '',
  self_config TEXT NOT NULL DEFAULT '', self_version TEXT NOT NULL DEFAULT '',
  events_length INTEGER NOT NULL DEFAULT 0, events_head TEXT NOT NULL,
  anchor_seq INTEGER NOT NULL DEFAULT 0, anchor_head TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chain_records(
  host_id TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
  time_ns INTEGER NOT NULL, body TEXT NOT NULL, head TEXT NOT NULL,
  received_ns INTEGER NOT NULL, PRIMARY KEY(host_id, epoch, seq));
CREATE TABLE IF NOT EXISTS chain_baselines(
  host_id TEXT NOT NULL, epoch INTEGER NOT NULL, name TEXT NOT NULL,
  revision INTEGER NOT NULL, root TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(host_id, epoch, name));
CREATE TABLE IF NOT EXISTS integrity_alerts(
  id INTEGER PRIMARY KEY, host_id TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
  epoch INTEGER NOT NULL, seq INTEGER NOT NULL, detail TEXT NOT NULL,
  detected_ns INTEGER NOT NULL, resolved_ns INTEGER NOT NULL DEFAULT 0,
  resolved_by TEXT NOT NULL DEFAULT '', resolution TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS integrity_alerts_host ON integrity_alerts(host_id, resolved_ns);
CREATE TABLE IF NOT EXISTS tree_objects(
  id TEXT PRIMARY KEY, data BLOB NOT NULL, stored_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS host_trees(
  host_id TEXT PRIMARY KEY, root TEXT NOT NULL, set_ns INTEGER NOT NULL,
  host_specific TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS host_tree_history(
  host_id TEXT NOT NULL, root TEXT NOT NULL, replaced_ns INTEGER NOT NULL,
  PRIMARY KEY(host_id, root));
CREATE TABLE IF NOT EXISTS group_baselines(
  grp TEXT NOT NULL, revision INTEGER NOT NULL, root TEXT NOT NULL, source TEXT NOT NULL,
  by_who TEXT NOT NULL, why TEXT NOT NULL, created_ns INTEGER NOT NULL,
  PRIMARY KEY(grp, revision));
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

// Version 3 -> 4: token ids (TokenId: "t_" + 12 hex digits of the stored
// SHA-256), revocation and last use.
const char* const kUpgradeToV4 = R"sql(
ALTER TABLE tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN revoked_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_ns INTEGER NOT NULL DEFAULT 0;
UPDATE tokens SET id = 't_' || substr(sha256, 1, 12);
)sql";

// Version 4 -> 5: realtime events: the actor (wire JSON, null for events
// of a check), its executable (escaped) and uid for the filters, transient,
// the process that reverted it and the event's own time.
const char* const kUpgradeToV5 = R"sql(
ALTER TABLE events ADD COLUMN actor TEXT;
ALTER TABLE events ADD COLUMN actor_exe TEXT;
ALTER TABLE events ADD COLUMN actor_uid INTEGER;
ALTER TABLE events ADD COLUMN transient INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN reverted_by TEXT;
ALTER TABLE events ADD COLUMN event_ns INTEGER;
)sql";

// Version 5 -> 6: content diffs (the event's `diff`, last in the row and
// read only by EventDiff, so listings never load it) and the options of
// restore commands.
// (kSchema may have made either table at version 6 already: each column is
// added where it is missing.)
const char* const kUpgradeToV6Events = "ALTER TABLE events ADD COLUMN diff TEXT";
const char* const kUpgradeToV6Commands =
    "ALTER TABLE commands ADD COLUMN args TEXT NOT NULL DEFAULT '{}'";

// Version 6 -> 7: integrity (docs/integrity.md): the answer to a report's
// chain, kept for duplicates, and each event's place in its host's event
// chain (0 and '' for events stored before: they are outside the chain).
// The new tables come from kSchema.
const char* const kUpgradeToV7 = R"sql(
ALTER TABLE reports ADD COLUMN chain_answer TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN chain_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN chain_head TEXT NOT NULL DEFAULT '';
)sql";

// Version 7 -> 8: the identity of other runtimes' containers
// (docs/containers.md): image id and tree, labels (a JSON object), start,
// pid, excluded paths (a JSON array of escaped paths), note, and the
// Kubernetes namespace, pod and container name taken from the labels for
// the fleet's filters. Rows stored before have none ('' and 0).
const char* const kUpgradeToV8 = R"sql(
ALTER TABLE host_containers ADD COLUMN image_id TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN image_tree TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE host_containers ADD COLUMN started_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE host_containers ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE host_containers ADD COLUMN excluded TEXT NOT NULL DEFAULT '[]';
ALTER TABLE host_containers ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN k8s_namespace TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN k8s_pod TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN k8s_container TEXT NOT NULL DEFAULT '';
)sql";

// Version 8 -> 9: the fleet's trees (tree_store.h, docs/store.md "Fleet
// trees"): new tables only, which kSchema creates.

// Version 9 -> 10: fewer pages written per event. (host_id, id), (grp, id)
// and (path, id) served no query that (host_id | grp | path, detected_ns,
// id) does not serve as well: every event read is ordered by detection
// time (sqlite_events.cc), and a lookup by host, group or path alone uses
// the leading column of either. Dropping them saves a page of each per
// event stored (docs/store.md "Indexes").
const char* const kUpgradeToV10 = R"sql(
DROP INDEX IF EXISTS events_host;
DROP INDEX IF EXISTS events_group;
DROP INDEX IF EXISTS events_path;
)sql";

// Indexes on columns a version added, created once the columns exist (not
// unique: a token id is a prefix of a hash). events_*_time serve the drift
// list ordered by detection time (version 4).
const char* const kIndexes = R"sql(
CREATE INDEX IF NOT EXISTS tokens_id ON tokens(id);
CREATE INDEX IF NOT EXISTS tokens_host ON tokens(host_id);
CREATE INDEX IF NOT EXISTS events_host_time ON events(host_id, detected_ns, id);
CREATE INDEX IF NOT EXISTS events_group_time ON events(grp, detected_ns, id);
CREATE INDEX IF NOT EXISTS events_path_time ON events(path, detected_ns, id);
CREATE INDEX IF NOT EXISTS events_actor_exe ON events(actor_exe, detected_ns, id)
  WHERE actor_exe IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_chain ON events(host_id, chain_seq);
CREATE INDEX IF NOT EXISTS events_actor_uid ON events(actor_uid, detected_ns, id)
  WHERE actor_uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS host_containers_image ON host_containers(image, image_digest);
CREATE INDEX IF NOT EXISTS host_containers_k8s ON host_containers(k8s_namespace, k8s_pod);
)sql";

namespace {

// Whether table `table` has column `column` (kSchema creates missing tables
// at the current version, so an upgrade step checks before it alters).
Result<bool> HasColumn(sqlite::Db& db, const char* table, const char* column) {
  DW_ASSIGN_OR_RETURN(auto has, db.Prepare("SELECT count(*) FROM pragma_table_info(?) "
                                           "WHERE name = ?"));
  has.Bind(1, std::string(table)).Bind(2, std::string(column));
  DW_ASSIGN_OR_RETURN(bool row, has.Step());
  const bool found = row && has.Int(0) > 0;
  has.Reset();
  return found;
}

}  // namespace

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
    DW_ASSIGN_OR_RETURN(bool upgraded, HasColumn(db, "tokens", "uses_left"));
    if (!upgraded) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV3));
  }
  if (version >= 1 && version <= 3) {
    DW_ASSIGN_OR_RETURN(bool upgraded, HasColumn(db, "tokens", "revoked_ns"));
    if (!upgraded) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV4));
  }
  if (version >= 1 && version <= 4) {
    DW_ASSIGN_OR_RETURN(bool upgraded, HasColumn(db, "events", "actor_exe"));
    if (!upgraded) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV5));
  }
  if (version >= 1 && version <= 5) {
    DW_ASSIGN_OR_RETURN(bool has_diff, HasColumn(db, "events", "diff"));
    if (!has_diff) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV6Events));
    DW_ASSIGN_OR_RETURN(bool has_args, HasColumn(db, "commands", "args"));
    if (!has_args) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV6Commands));
  }
  if (version >= 1 && version <= 6) {
    DW_ASSIGN_OR_RETURN(bool upgraded, HasColumn(db, "events", "chain_seq"));
    if (!upgraded) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV7));
  }
  if (version >= 1 && version <= 7) {
    DW_ASSIGN_OR_RETURN(bool upgraded, HasColumn(db, "host_containers", "image_id"));
    if (!upgraded) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV8));
  }
  DW_RETURN_IF_ERROR(db.Exec(kIndexes));
  if (version >= 1 && version <= 9) DW_RETURN_IF_ERROR(db.Exec(kUpgradeToV10));
  if (version != kCollectorSchemaVersion) {
    DW_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT OR REPLACE INTO schema_versions("
                                             "component, version) VALUES('collector', ?)"));
    DW_RETURN_IF_ERROR(ins.Bind(1, int64_t{kCollectorSchemaVersion}).Run());
  }
  return tx.Commit();
}

}  // namespace driftwatch::collector::sqlite_rows
