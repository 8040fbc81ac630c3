// Schema versions of the PostgreSQL fleet store. Never edit a released
// migration: append a new one (docs/store-postgresql.md).
#include "collector/pg_schema.h"

#include <cstdio>
#include <limits>

namespace driftwatch::collector {
namespace {

constexpr const char* kV1 = R"sql(
CREATE TABLE tokens(
  sha256 TEXT PRIMARY KEY, role TEXT NOT NULL, host_id TEXT NOT NULL DEFAULT '',
  created_ns BIGINT NOT NULL);
CREATE TABLE hosts(
  id TEXT PRIMARY KEY, grp TEXT NOT NULL DEFAULT '', agent_version TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '', enrolled_ns BIGINT NOT NULL,
  last_seen_ns BIGINT NOT NULL DEFAULT 0, last_report_ns BIGINT NOT NULL DEFAULT 0,
  baseline TEXT NOT NULL DEFAULT '', baseline_revision BIGINT NOT NULL DEFAULT 0,
  baseline_since_ns BIGINT NOT NULL DEFAULT 0, root TEXT NOT NULL DEFAULT '',
  subtrees TEXT NOT NULL DEFAULT '{}', reports BIGINT NOT NULL DEFAULT 0,
  events BIGINT NOT NULL DEFAULT 0, last_report_events BIGINT NOT NULL DEFAULT 0);
CREATE INDEX hosts_group ON hosts(grp);
CREATE TABLE reports(
  seq BIGSERIAL PRIMARY KEY, report_id TEXT NOT NULL UNIQUE, host_id TEXT NOT NULL,
  agent_version TEXT NOT NULL, sent_ns BIGINT NOT NULL, received_ns BIGINT NOT NULL,
  started_ns BIGINT NOT NULL, finished_ns BIGINT NOT NULL, baseline TEXT NOT NULL,
  baseline_revision BIGINT NOT NULL, root TEXT NOT NULL, first_event_id BIGINT NOT NULL,
  events BIGINT NOT NULL, warnings TEXT NOT NULL, stats TEXT NOT NULL);
CREATE INDEX reports_host ON reports(host_id, seq);
CREATE SEQUENCE events_id_seq;
CREATE TABLE events(
  id BIGINT NOT NULL DEFAULT nextval('events_id_seq'), report_seq BIGINT NOT NULL,
  report_id TEXT NOT NULL, host_id TEXT NOT NULL, grp TEXT NOT NULL, path TEXT NOT NULL,
  kind INTEGER NOT NULL, severity INTEGER NOT NULL, detected_ns BIGINT NOT NULL,
  received_ns BIGINT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (id, detected_ns)) PARTITION BY RANGE (detected_ns);
CREATE INDEX events_host_time ON events(host_id, detected_ns);
CREATE INDEX events_host ON events(host_id, id);
CREATE INDEX events_group ON events(grp, id);
CREATE INDEX events_path ON events(path, id);
CREATE INDEX events_detected ON events(detected_ns, id);
CREATE TABLE event_counts(severity INTEGER PRIMARY KEY, n BIGINT NOT NULL);
CREATE TABLE commands(
  id BIGSERIAL PRIMARY KEY, host_id TEXT NOT NULL, kind TEXT NOT NULL,
  created_ns BIGINT NOT NULL, handed_out_ns BIGINT NOT NULL DEFAULT 0,
  acked_ns BIGINT NOT NULL DEFAULT 0, ok BOOLEAN NOT NULL DEFAULT false,
  detail TEXT NOT NULL DEFAULT '');
CREATE INDEX commands_host ON commands(host_id, handed_out_ns, id);
CREATE TABLE alerts(
  id BIGSERIAL PRIMARY KEY, event_id BIGINT NOT NULL, route TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_ns BIGINT NOT NULL,
  delivered_ns BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  UNIQUE(event_id, route));
CREATE INDEX alerts_due ON alerts(delivered_ns, next_ns);
)sql";

// Version 2: host inventories (packages, containers, baseline revisions),
// the agent's check interval, and paths carried by accept commands.
constexpr const char* kV2 = R"sql(
ALTER TABLE hosts ADD COLUMN interval_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN paths TEXT NOT NULL DEFAULT '[]';
CREATE TABLE host_inventory(
  host_id TEXT PRIMARY KEY, packages_digest TEXT NOT NULL DEFAULT '',
  packages_count BIGINT NOT NULL DEFAULT 0, packages_ns BIGINT NOT NULL DEFAULT 0,
  containers_ns BIGINT NOT NULL DEFAULT 0);
CREATE TABLE host_packages(
  host_id TEXT NOT NULL, pos INTEGER NOT NULL, manager TEXT NOT NULL, name TEXT NOT NULL,
  version TEXT NOT NULL, arch TEXT NOT NULL, PRIMARY KEY(host_id, pos));
CREATE TABLE host_containers(
  host_id TEXT NOT NULL, pos INTEGER NOT NULL, name TEXT NOT NULL,
  container_id TEXT NOT NULL, runtime TEXT NOT NULL, image TEXT NOT NULL,
  image_digest TEXT NOT NULL, drift_known BOOLEAN NOT NULL, events BIGINT NOT NULL,
  PRIMARY KEY(host_id, pos));
CREATE TABLE host_baselines(
  host_id TEXT NOT NULL, name TEXT NOT NULL, revision BIGINT NOT NULL,
  root TEXT NOT NULL DEFAULT '', since_ns BIGINT NOT NULL, first_seen_ns BIGINT NOT NULL,
  last_seen_ns BIGINT NOT NULL, PRIMARY KEY(host_id, name, revision));
)sql";

// Version 3: per host, the latest report's summary (exact counts of folded
// reports) and the reports the collector refused.
constexpr const char* kV3 = R"sql(
CREATE TABLE host_report_status(
  host_id TEXT PRIMARY KEY, last_summary TEXT NOT NULL DEFAULT '',
  refused BIGINT NOT NULL DEFAULT 0, refused_ns BIGINT NOT NULL DEFAULT 0,
  refused_reason TEXT NOT NULL DEFAULT '');
)sql";

// Version 4: enroll token limits (-1 uses = unlimited, 0 = never expires),
// so tokens created before keep working as they did.
constexpr const char* kV4 = R"sql(
ALTER TABLE tokens ADD COLUMN uses_left BIGINT NOT NULL DEFAULT -1;
ALTER TABLE tokens ADD COLUMN expires_ns BIGINT NOT NULL DEFAULT 0;
)sql";

// Version 5: token ids ("t_" + 12 hex digits of the stored SHA-256, as
// TokenId), revocation and last use; the events' indexes that serve the
// drift list ordered by detection time (events_host_time gains the id).
constexpr const char* kV5 = R"sql(
ALTER TABLE tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN revoked_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_ns BIGINT NOT NULL DEFAULT 0;
UPDATE tokens SET id = 't_' || substr(sha256, 1, 12);
CREATE INDEX tokens_id ON tokens(id);
CREATE INDEX tokens_host ON tokens(host_id);
DROP INDEX events_host_time;
CREATE INDEX events_host_time ON events(host_id, detected_ns, id);
CREATE INDEX events_group_time ON events(grp, detected_ns, id);
CREATE INDEX events_path_time ON events(path, detected_ns, id);
)sql";

// Version 6: realtime events: the actor (wire JSON), its executable
// (escaped) and uid for the filters, transient, the process that reverted
// the change and the event's own time; NULL for events of a check.
constexpr const char* kV6 = R"sql(
ALTER TABLE events ADD COLUMN actor TEXT;
ALTER TABLE events ADD COLUMN actor_exe TEXT;
ALTER TABLE events ADD COLUMN actor_uid BIGINT;
ALTER TABLE events ADD COLUMN transient BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN reverted_by TEXT;
ALTER TABLE events ADD COLUMN event_ns BIGINT;
CREATE INDEX events_actor_exe ON events(actor_exe, detected_ns, id) WHERE actor_exe IS NOT NULL;
CREATE INDEX events_actor_uid ON events(actor_uid, detected_ns, id) WHERE actor_uid IS NOT NULL;
)sql";

// Version 7: content diffs (an event's `diff`, TOASTed out of line and read
// only by EventDiff, so listings never load it) and the options of restore
// commands.
constexpr const char* kV7 = R"sql(
ALTER TABLE events ADD COLUMN diff TEXT;
ALTER TABLE commands ADD COLUMN args TEXT NOT NULL DEFAULT '{}';
)sql";

// Version 8: integrity (docs/integrity.md): the escrow of agent chains per
// host and epoch, the held state and last `self` per host, integrity alerts,
// the answer to a report's chain (kept for duplicates) and each event's
// place in its host's event chain (0 and '' for events stored before).
constexpr const char* kV8 = R"sql(
ALTER TABLE reports ADD COLUMN chain_answer TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN chain_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN chain_head TEXT NOT NULL DEFAULT '';
CREATE INDEX events_chain ON events(host_id, chain_seq);
CREATE TABLE chain_hosts(
  host_id TEXT PRIMARY KEY, epoch BIGINT NOT NULL DEFAULT 1,
  held_length BIGINT NOT NULL DEFAULT 0, held_head TEXT NOT NULL,
  adopted BOOLEAN NOT NULL DEFAULT false, epoch_started_ns BIGINT NOT NULL DEFAULT 0,
  epoch_reason TEXT NOT NULL DEFAULT '', self_ns BIGINT NOT NULL DEFAULT 0,
  self_exe TEXT NOT NULL DEFAULT '', self_rules TEXT NOT NULL DEFAULT '',
  self_config TEXT NOT NULL DEFAULT '', self_version TEXT NOT NULL DEFAULT '',
  events_length BIGINT NOT NULL DEFAULT 0, events_head TEXT NOT NULL,
  anchor_seq BIGINT NOT NULL DEFAULT 0, anchor_head TEXT NOT NULL);
CREATE TABLE chain_records(
  host_id TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL,
  time_ns BIGINT NOT NULL, body TEXT NOT NULL, head TEXT NOT NULL,
  received_ns BIGINT NOT NULL, PRIMARY KEY(host_id, epoch, seq));
CREATE TABLE chain_baselines(
  host_id TEXT NOT NULL, epoch BIGINT NOT NULL, name TEXT NOT NULL,
  revision BIGINT NOT NULL, root TEXT NOT NULL, seq BIGINT NOT NULL,
  PRIMARY KEY(host_id, epoch, name));
CREATE TABLE integrity_alerts(
  id BIGSERIAL PRIMARY KEY, host_id TEXT NOT NULL, kind TEXT NOT NULL,
  severity TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL, detail TEXT NOT NULL,
  detected_ns BIGINT NOT NULL, resolved_ns BIGINT NOT NULL DEFAULT 0,
  resolved_by TEXT NOT NULL DEFAULT '', resolution TEXT NOT NULL DEFAULT '');
CREATE INDEX integrity_alerts_host ON integrity_alerts(host_id, resolved_ns);
)sql";

// Version 9: the identity of other runtimes' containers
// (docs/containers.md): image id and tree, labels (a JSON object), start,
// pid, excluded paths (a JSON array of escaped paths), note, and the
// Kubernetes namespace, pod and container name taken from the labels for
// the fleet's filters. Rows stored before have none ('' and 0).
constexpr const char* kV9 = R"sql(
ALTER TABLE host_containers ADD COLUMN image_id TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN image_tree TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE host_containers ADD COLUMN started_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE host_containers ADD COLUMN pid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE host_containers ADD COLUMN excluded TEXT NOT NULL DEFAULT '[]';
ALTER TABLE host_containers ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN k8s_namespace TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN k8s_pod TEXT NOT NULL DEFAULT '';
ALTER TABLE host_containers ADD COLUMN k8s_container TEXT NOT NULL DEFAULT '';
CREATE INDEX host_containers_image ON host_containers(image, image_digest);
CREATE INDEX host_containers_k8s ON host_containers(k8s_namespace, k8s_pod);
)sql";

// Version 10: the fleet's trees (tree_store.h, pg_trees.h): objects by id
// (32 hex digits) as bytea, each host's current tree and its history, and
// group baseline revisions.
constexpr const char* kV10 = R"sql(
CREATE TABLE tree_objects(
  id TEXT PRIMARY KEY, data BYTEA NOT NULL, stored_ns BIGINT NOT NULL);
CREATE INDEX tree_objects_stored ON tree_objects(stored_ns);
CREATE TABLE host_trees(
  host_id TEXT PRIMARY KEY, root TEXT NOT NULL, set_ns BIGINT NOT NULL,
  host_specific TEXT NOT NULL DEFAULT '[]');
CREATE TABLE host_tree_history(
  host_id TEXT NOT NULL, root TEXT NOT NULL, replaced_ns BIGINT NOT NULL,
  PRIMARY KEY(host_id, root));
CREATE TABLE group_baselines(
  grp TEXT NOT NULL, revision BIGINT NOT NULL, root TEXT NOT NULL, source TEXT NOT NULL,
  by_who TEXT NOT NULL, why TEXT NOT NULL, created_ns BIGINT NOT NULL,
  PRIMARY KEY(grp, revision));
)sql";

// Version 11: ingest of different hosts in
// parallel (docs/store-postgresql.md, "Several collectors on one database").
// The visibility horizon of ingests in flight, and the severity counts
// split into shards so that concurrent ingests do not queue on one row.
constexpr const char* kV11 = R"sql(
CREATE TABLE ingest_horizons(
  id BIGSERIAL PRIMARY KEY,
  low BIGINT NOT NULL,
  pid INTEGER NOT NULL,
  backend_start TIMESTAMPTZ,
  created_ns BIGINT NOT NULL);
ALTER TABLE event_counts ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_counts DROP CONSTRAINT event_counts_pkey;
ALTER TABLE event_counts ADD PRIMARY KEY (severity, shard);
)sql";

// Version 12: fewer index pages written per event. (host_id, id), (grp, id)
// and (path, id) served no query that the (host_id | grp | path,
// detected_ns, id) indexes of version 5 do not serve as well: every event
// read is ordered by detection time (pg_events.cc), and a lookup by host,
// group or path alone uses the leading column of either. Dropping an index
// of the partitioned table drops it from every month's partition.
constexpr const char* kV12 = R"sql(
DROP INDEX IF EXISTS events_host;
DROP INDEX IF EXISTS events_group;
DROP INDEX IF EXISTS events_path;
)sql";

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), and back.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

constexpr int64_t kNsPerDay = 86400LL * 1000000000LL;

int64_t MonthStartNs(int64_t y, int m) {
  return DaysFromCivil(y, m, 1) * kNsPerDay;  // fits: |year| <= 2262 here
}

}  // namespace

const std::vector<PgMigration>& PgMigrations() {
  static const std::vector<PgMigration> kAll = {{1, kV1}, {2, kV2},   {3, kV3},   {4, kV4},
                                                {5, kV5}, {6, kV6},   {7, kV7},   {8, kV8},
                                                {9, kV9}, {10, kV10}, {11, kV11}, {12, kV12}};
  return kAll;
}

EventMonth MonthOf(int64_t ns) {
  int64_t days = ns / kNsPerDay;
  if (ns % kNsPerDay < 0) --days;  // floor for times before 1970
  EventMonth m;
  int64_t y = 0;
  CivilFromDays(days, &y, &m.month);
  m.year = static_cast<int>(y);
  // int64 nanoseconds span 1677-09-21 .. 2262-04-11: the months at both ends
  // are open-ended.
  if (y < 1677 || (y == 1677 && m.month <= 9)) {
    m.start_ns = std::numeric_limits<int64_t>::min();
  } else {
    m.start_ns = MonthStartNs(y, m.month);
  }
  if (y > 2262 || (y == 2262 && m.month >= 4)) {
    m.end_ns = std::numeric_limits<int64_t>::max();
  } else {
    m.end_ns = m.month == 12 ? MonthStartNs(y + 1, 1) : MonthStartNs(y, m.month + 1);
  }
  return m;
}

std::string PartitionName(const EventMonth& m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "events_y%04dm%02d", m.year < 0 ? 0 : m.year % 10000, m.month);
  return buf;
}

std::optional<EventMonth> ParsePartitionName(const std::string& name) {
  int y = 0, mo = 0;
  char tail = 0;
  if (name.size() != 15 || std::sscanf(name.c_str(), "events_y%4dm%2d%c", &y, &mo, &tail) != 2) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || y < 1678 || y > 2261) return std::nullopt;
  return MonthOf(MonthStartNs(y, mo));
}

std::optional<std::string> GlobToRegex(const std::string& glob) {
  std::string out = "^";
  for (size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += '.';
    } else if (c == '[') {
      size_t j = i + 1;
      std::string cls = "[";
      if (j < glob.size() && glob[j] == '^') {
        cls += '^';
        ++j;
      }
      if (j < glob.size() && glob[j] == ']') {  // a leading ']' is literal
        cls += "\\]";
        ++j;
      }
      while (j < glob.size() && glob[j] != ']') {
        const char k = glob[j];
        if (k == '\\' || k == '[' || k == '^') cls += '\\';
        cls += k;
        ++j;
      }
      if (j >= glob.size()) return std::nullopt;  // unterminated: matches nothing
      out += cls + "]";
      i = j;
    } else {
      if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
  }
  out += '$';
  return out;
}

}  // namespace driftwatch::collector
