// All SQL for drift events of the PostgreSQL fleet store: report ingest,
// monthly partitions, retention (docs/store-postgresql.md).
#include "collector/pg_events.h"

#include <cpprest/json.h>

#include <algorithm>

#include "collector/event_body.h"
#include "collector/pg_integrity.h"
#include "collector/pg_inventory.h"
#include "collector/pg_schema.h"
#include "collector/store_rows.h"
#include "core/drift.h"
#include "core/drift_json.h"

namespace driftwatch::collector {
namespace {

// A whole report in one statement, run under the host's ingest lock (so
// its snapshot sees every earlier ingest of the host): the duplicate check, the host row,
// the report, its events (ids drawn in report order), the severity counts,
// alerts and the baseline revision. A duplicate or an unknown host writes
// nothing. The host row is updated (locked) before host_baselines, in the
// order AckCommand uses. Returns one row (duplicate, seq, first_event_id,
// events, received_ns, host_id), none for an unknown host.
//   $1 report_id, $2 host_id, $3 agent_version, $4 sent_ns, $5 received_ns,
//   $6 started_ns, $7 finished_ns, $8 baseline, $9 baseline_revision,
//   $10 root, $11 warnings, $12 stats, $13 target, $14 subtrees,
//   $15 interval_ns (0: keep), $16 baseline root ('' unknown);
//   per event: $17 path, $18 kind, $19 severity, $20 body;
//   per alert route: $21 name, $22 min severity, $23 1 for every group;
//   per (route, group): $24 route ordinal (1-based), $25 group;
//   $26 the check's exact event count, $27 the report summary (store.h),
//   $28 1 for a realtime report (the host's check state is kept, store.h);
//   per event: $29 actor, $30 actor_exe, $31 actor_uid, $32 transient (0/1),
//   $33 reverted_by, $34 event_ns (NULL elements when unknown), $35 diff
//   (NULL when none); $36 the event's seq in its host's event chain, $37 its
//   head; $38 the answer to the report's chain (pg_integrity.h); $39 the
//   event_counts shard of the host (HostShard).
constexpr const char* kIngestSql = R"sql(
WITH dup AS (
  SELECT seq, first_event_id, events, received_ns, host_id FROM reports
  WHERE report_id = $1::text),
h AS (
  UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, $5::bigint),
    agent_version = $3::text, reports = reports + 1,
    events = events + cardinality($17::text[]),
    last_report_ns = CASE WHEN $28::int = 1 THEN last_report_ns ELSE $5 END,
    target = CASE WHEN $28 = 1 THEN target ELSE $13::text END,
    baseline = CASE WHEN $28 = 1 THEN baseline ELSE $8::text END,
    baseline_revision = CASE WHEN $28 = 1 THEN baseline_revision ELSE $9::bigint END,
    baseline_since_ns = CASE WHEN $28 = 0 AND (baseline <> $8 OR baseline_revision <> $9)
                        THEN $6::bigint ELSE baseline_since_ns END,
    root = CASE WHEN $28 = 1 THEN root ELSE $10::text END,
    subtrees = CASE WHEN $28 = 1 THEN subtrees ELSE $14::text END,
    last_report_events = CASE WHEN $28 = 1 THEN last_report_events
                         ELSE greatest($26::bigint, cardinality($17)) END,
    interval_ns = CASE WHEN $15::bigint > 0 THEN $15 ELSE interval_ns END
  WHERE id = $2::text AND NOT EXISTS (SELECT 1 FROM dup) RETURNING grp),
ev AS (
  SELECT nextval('events_id_seq') AS id, u.path, u.kind, u.severity, u.body, u.actor,
    u.actor_exe, u.actor_uid, u.transient, u.reverted_by, u.event_ns, u.diff, u.chain_seq,
    u.chain_head
  FROM h, unnest($17, $18::int[], $19::int[], $20::text[], $29::text[], $30::text[],
    $31::bigint[], $32::int[], $33::text[], $34::bigint[], $35::text[], $36::bigint[],
    $37::text[]) WITH ORDINALITY
    AS u(path, kind, severity, body, actor, actor_exe, actor_uid, transient, reverted_by,
      event_ns, diff, chain_seq, chain_head, ord)
  ORDER BY u.ord),
rep AS (
  INSERT INTO reports(report_id, host_id, agent_version, sent_ns, received_ns, started_ns,
    finished_ns, baseline, baseline_revision, root, first_event_id, events, warnings, stats,
    chain_answer)
  SELECT $1, $2, $3, $4::bigint, $5, $6, $7::bigint, $8, $9, $10,
    coalesce((SELECT min(id) FROM ev), 0), cardinality($17), $11::text, $12::text, $38::text
  FROM h
  RETURNING seq, first_event_id),
ins AS (
  INSERT INTO events(id, report_seq, report_id, host_id, grp, path, kind, severity,
    detected_ns, received_ns, body, actor, actor_exe, actor_uid, transient, reverted_by,
    event_ns, diff, chain_seq, chain_head)
  SELECT ev.id, rep.seq, $1, $2, h.grp, ev.path, ev.kind, ev.severity, $7, $5, ev.body,
    ev.actor, ev.actor_exe, ev.actor_uid, ev.transient = 1, ev.reverted_by, ev.event_ns, ev.diff,
    ev.chain_seq, ev.chain_head
  FROM ev, rep, h ORDER BY ev.id),
cnt AS (
  INSERT INTO event_counts(severity, shard, n)
  SELECT greatest(1, least(4, severity)), $39::int, count(*) FROM ev GROUP BY 1
  ON CONFLICT (severity, shard) DO UPDATE SET n = event_counts.n + excluded.n),
al AS (
  INSERT INTO alerts(event_id, route, next_ns)
  SELECT ev.id, rt.name, $5 FROM ev, h,
    unnest($21::text[], $22::int[], $23::int[]) WITH ORDINALITY
      AS rt(name, min_severity, every_group, ord)
  WHERE ev.severity >= rt.min_severity AND (rt.every_group = 1 OR EXISTS (
    SELECT 1 FROM unnest($24::bigint[], $25::text[]) AS g(route, grp)
    WHERE g.route = rt.ord AND g.grp = h.grp))
  ORDER BY ev.id, rt.ord
  ON CONFLICT (event_id, route) DO NOTHING),
st AS (
  INSERT INTO host_report_status(host_id, last_summary) SELECT $2, $27::text FROM h
  WHERE $28 = 0
  ON CONFLICT (host_id) DO UPDATE SET last_summary = excluded.last_summary),
bl AS (
  INSERT INTO host_baselines(host_id, name, revision, root, since_ns, first_seen_ns,
    last_seen_ns)
  SELECT $2, $8, $9, $16::text, $6, $5, $5 FROM h WHERE $8 <> '' AND $9 > 0 AND $28 = 0
  ON CONFLICT (host_id, name, revision) DO UPDATE SET
    last_seen_ns = greatest(host_baselines.last_seen_ns, excluded.last_seen_ns),
    since_ns = least(host_baselines.since_ns, excluded.since_ns),
    root = CASE WHEN host_baselines.root = '' THEN excluded.root ELSE host_baselines.root END)
SELECT true, seq, first_event_id, events, received_ns, host_id FROM dup
UNION ALL
SELECT false, seq, first_event_id, 0, 0, '' FROM rep
)sql";

// The /drift query, one statement for every filter combination: an unset
// filter binds NULL and its condition folds away at execution (sessions
// plan per execution, plan_cache_mode = force_custom_plan, pg_conn.cc), so
// that the (host_id | grp | path, detected_ns, id) indexes and partition
// pruning apply. $1 host, $2 group, $3 path regex, $4 kind, $5 min
// severity, $6..$7 the detected_ns window, $8..$9 the keyset start
// (detected_ns, id), $10 limit, $11 one event id, $12 actor_exe, $13
// actor_uid, $14 transient, $15 one exact path. The plain comparison on detected_ns beside
// the row comparison lets the planner prune partitions.
constexpr const char* kDriftFilters =
    "SELECT id, host_id, report_id, detected_ns, received_ns, body FROM events "
    "WHERE ($1::text IS NULL OR host_id = $1) AND ($2::text IS NULL OR grp = $2) "
    "AND ($3::text IS NULL OR path ~ $3) AND ($4::int IS NULL OR kind = $4) "
    "AND ($5::int IS NULL OR severity >= $5) AND detected_ns >= $6 AND detected_ns < $7 "
    "AND ($11::bigint IS NULL OR id = $11) AND ($12::text IS NULL OR actor_exe = $12) "
    "AND ($13::bigint IS NULL OR actor_uid = $13) AND ($14::bool IS NULL OR transient = $14) AND "
    "($15::text IS NULL OR path = $15) AND ";
// kDriftFilters ends with "AND ": kPgVisibleEvents follows.
constexpr const char* kScanUp =
    " AND detected_ns >= $8 AND (detected_ns, id) > ($8, $9) ORDER BY detected_ns, id LIMIT $10";
constexpr const char* kScanDown =
    " AND detected_ns <= $8 AND (detected_ns, id) < ($8, $9) "
    "ORDER BY detected_ns DESC, id DESC LIMIT $10";

// A path's history: $1 path, $2..$3 the keyset start, $4 limit.
constexpr const char* kPathFilter =
    "SELECT id, host_id, report_id, detected_ns, received_ns, body FROM events WHERE path = $1 "
    "AND ";
constexpr const char* kPathUp =
    " AND detected_ns >= $2 AND (detected_ns, id) > ($2, $3) ORDER BY detected_ns, id LIMIT $4";
constexpr const char* kPathDown =
    " AND detected_ns <= $2 AND (detected_ns, id) < ($2, $3) "
    "ORDER BY detected_ns DESC, id DESC LIMIT $4";

// Registers an ingest's horizon in its own (autocommitted) statement, so
// that readers see it before the ingest draws an event id: `low` is the
// highest id drawn so far, every id the ingest draws is above it.
// Why a reader's bound m = min(low) over the horizons its snapshot S sees
// never passes an id still to commit: take an uncommitted event of id
// e <= m, drawn by ingest C after C's horizon committed. If that horizon
// committed before S, S sees it (C has not committed, so the row is
// there) and m <= low(C) < e. Otherwise e was drawn after S began, and m is
// the `low` of a horizon committed before S, read before e was drawn from
// a sequence that only grows: m < e. Either way e > m. Removes
// the horizons of sessions that no longer exist (a collector killed
// mid-ingest) on the way, and those of this session: a session runs one
// ingest at a time, so an earlier row of its own is one whose deletion
// failed (a full disk). A session whose start time this role may not read
// is taken to be alive. $1 now (ns). Returns the horizon's id.
#define DW_ABANDONED_HORIZONS                                                    \
  "DELETE FROM ingest_horizons h WHERE h.pid = pg_backend_pid() OR NOT EXISTS (" \
  "SELECT 1 FROM pg_stat_activity a WHERE a.pid = h.pid AND (a.backend_start "   \
  "IS NULL OR h.backend_start IS NULL OR a.backend_start = h.backend_start))"
constexpr const char* kRegisterHorizonSql = "WITH gone AS (" DW_ABANDONED_HORIZONS R"sql()
INSERT INTO ingest_horizons(low, pid, backend_start, created_ns)
SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END, pg_backend_pid(),
  (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()), $1::bigint
FROM events_id_seq s RETURNING id
)sql";

// Run before each event read, so that readers are not held by the horizon
// of a collector that died until another ingest comes (a read session has
// no horizon of its own in flight either). Deletes nothing, cheaply, when
// no ingest is in flight. A row committed after this statement's snapshot
// is not looked at; the read's own statement sees the rows left.
constexpr const char* kSweepHorizonsSql = DW_ABANDONED_HORIZONS;
#undef DW_ABANDONED_HORIZONS

// A read still answers when the sweep cannot delete (a full disk): it is
// then held at the horizon, as before.
void SweepHorizons(PgConn& c) {
  c.Exec("horizon_sweep", kSweepHorizonsSql, {}).status().IgnoreError();
}

// The shard of event_counts a host's ingests add to: concurrent ingests of
// different hosts mostly update different rows, instead of queueing on
// the row of each severity until the other commits.
constexpr int64_t kCountShards = 16;
int64_t HostShard(const std::string& host_id) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char ch : host_id) h = (h ^ ch) * 16777619u;
  return static_cast<int64_t>(h % kCountShards);
}

std::vector<EventRecord> ReadEvents(const PgRows& r, bool reverse) {
  std::vector<EventRecord> out;
  out.reserve(r.size());
  for (int i = 0; i < r.size(); ++i) out.push_back(store_rows::ReadEvent(PgRow(r, i)));
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

const char* const kPgVisibleEvents =
    "id <= (SELECT coalesce(min(low), 9223372036854775807) FROM ingest_horizons)";

Status PgLockHostIngest(PgConn& c, const std::string& host_id) {
  return c
      .Exec("host_ingest_lock", "SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))",
            {PgInt(kPgHostIngestLockClass), host_id})
      .status();
}

const char* PgDriftQuerySql(bool ascending) {
  static const std::string kUp = std::string(kDriftFilters) + kPgVisibleEvents + kScanUp;
  static const std::string kDown = std::string(kDriftFilters) + kPgVisibleEvents + kScanDown;
  return ascending ? kUp.c_str() : kDown.c_str();
}

std::optional<PgBoundQuery> PgDriftQueryFor(const DriftQuery& q) {
  std::string regex;
  if (!q.path_glob.empty()) {
    auto re = GlobToRegex(q.path_glob);
    if (!re) return std::nullopt;
    regex = *re;
  }
  const store_rows::EventScan scan = store_rows::PlanEventScan(q.page);
  return PgBoundQuery{
      scan.ascending ? "drift_query_up" : "drift_query_down",
      PgDriftQuerySql(scan.ascending),
      {q.host.empty() ? PgParam() : q.host, q.group.empty() ? PgParam() : q.group,
       q.path_glob.empty() ? PgParam() : regex,
       q.kind ? PgInt(static_cast<int64_t>(*q.kind)) : PgParam(),
       q.min_severity ? PgInt(static_cast<int64_t>(*q.min_severity)) : PgParam(),
       PgInt(q.since_ns.value_or(INT64_MIN)), PgInt(q.until_ns.value_or(INT64_MAX)),
       PgInt(scan.from.detected_ns), PgInt(scan.from.id), PgInt(q.page.limit),
       q.event_id ? PgInt(*q.event_id) : PgParam(), q.actor_exe.empty() ? PgParam() : q.actor_exe,
       q.actor_uid ? PgInt(*q.actor_uid) : PgParam(),
       q.transient ? PgParam(std::string(*q.transient ? "true" : "false")) : PgParam(),
       q.path.empty() ? PgParam() : q.path}};
}

PgBoundQuery PgPathHistoryFor(const std::string& path, const EventPageQuery& page) {
  const store_rows::EventScan scan = store_rows::PlanEventScan(page);
  static const std::string kUp = std::string(kPathFilter) + kPgVisibleEvents + kPathUp;
  static const std::string kDown = std::string(kPathFilter) + kPgVisibleEvents + kPathDown;
  return PgBoundQuery{scan.ascending ? "path_history_up" : "path_history_down",
                      scan.ascending ? kUp.c_str() : kDown.c_str(),
                      {path, PgInt(scan.from.detected_ns), PgInt(scan.from.id), PgInt(page.limit)}};
}

Result<std::vector<EventRecord>> PgQueryDrift(PgConn& conn, const DriftQuery& q) {
  const std::optional<PgBoundQuery> b = PgDriftQueryFor(q);
  if (!b) return std::vector<EventRecord>();
  SweepHorizons(conn);
  DW_ASSIGN_OR_RETURN(auto r, conn.Exec(b->name, b->sql, b->params));
  return ReadEvents(r, store_rows::PlanEventScan(q.page).reverse);
}

Result<std::vector<EventRecord>> PgPathHistory(PgConn& conn, const std::string& path,
                                               const EventPageQuery& page) {
  const PgBoundQuery b = PgPathHistoryFor(path, page);
  SweepHorizons(conn);
  DW_ASSIGN_OR_RETURN(auto r, conn.Exec(b.name, b.sql, b.params));
  return ReadEvents(r, store_rows::PlanEventScan(page).reverse);
}

Status PgPartitions::Ensure(PgConn& c, int64_t detected_ns) {
  const EventMonth m = MonthOf(detected_ns);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.count(m.start_ns)) return Status::Ok();
  }
  // DDL cannot take parameters; the name and bounds are computed integers.
  // The advisory lock keeps two collectors from racing on the same month.
  PgTx tx(c);
  DW_RETURN_IF_ERROR(tx.Begin());
  DW_RETURN_IF_ERROR(
      c.Exec("schema_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgSchemaLock)}).status());
  auto bound = [](int64_t v, bool lower) {
    if (lower && v == INT64_MIN) return std::string("MINVALUE");
    if (!lower && v == INT64_MAX) return std::string("MAXVALUE");
    return std::to_string(v);
  };
  DW_RETURN_IF_ERROR(c.ExecScript(
      "CREATE TABLE IF NOT EXISTS " + PartitionName(m) + " PARTITION OF events FOR VALUES FROM (" +
      bound(m.start_ns, true) + ") TO (" + bound(m.end_ns, false) + ")"));
  DW_RETURN_IF_ERROR(tx.Commit());
  std::lock_guard<std::mutex> lock(mu_);
  known_.insert(m.start_ns);
  return Status::Ok();
}

namespace {

// The transaction of PgIngestReport: the inventory, the host's ingest
// lock, the integrity verdict, the ingest statement and the deletion of
// the horizon, committed together. Sets *committed when the COMMIT
// succeeded.
Result<IngestResult> IngestInTransaction(PgConn& conn, const ReportEnvelope& rep,
                                         std::vector<PgParam> params, int64_t horizon,
                                         bool* committed) {
  PgConn* c = &conn;
  const CheckResult& r = rep.result;
  PgTx tx(*c);
  // The ingest statements gain nothing from plans made for their values
  // (pg_conn.cc sets force_custom_plan for the queries): reuse one plan.
  DW_RETURN_IF_ERROR(tx.Begin("SET LOCAL plan_cache_mode = force_generic_plan"));
  // Per-host rows no other part of an ingest touches come first, outside
  // the lock (a duplicate report rolls them back).
  IngestResult out;
  // What the self-integrity check compares with is the list before this
  // report's replaces it.
  std::string stored_package_version;
  if (r.self && r.packages && r.packages->full) {
    DW_ASSIGN_OR_RETURN(stored_package_version, PgStoredDriftwatchVersion(*c, rep.host_id));
  }
  DW_RETURN_IF_ERROR(PgIngestInventory(*c, rep, &out));
  // Serializes the ingests of this host across collectors: its event chain
  // and escrow verdicts are computed one report at a time, and a report id
  // racing on two collectors is seen as a duplicate by the second (reports
  // of one host carry its report ids). Other hosts' reports are stored
  // meanwhile; readers see their events through the horizons.
  DW_RETURN_IF_ERROR(PgLockHostIngest(*c, rep.host_id));
  // Integrity, under the same lock and in the same transaction; a
  // duplicate gets the answer its original got and changes nothing.
  DW_ASSIGN_OR_RETURN(
      auto seen, c->Exec("report_seen", "SELECT chain_answer FROM reports WHERE report_id = $1",
                         {rep.report_id}));
  std::vector<int64_t> chain_seqs;
  std::vector<std::string> chain_heads;
  std::optional<ChainAnswer> seen_answer;
  if (seen.size() == 0) {
    DW_RETURN_IF_ERROR(
        PgIngestIntegrity(*c, rep, stored_package_version, &out, &chain_seqs, &chain_heads));
  } else {
    seen_answer = ParseChainAnswerText(seen.Text(0, 0));
  }
  params.push_back(PgIntArray(chain_seqs));
  params.push_back(PgArray(chain_heads));
  params.push_back(ChainAnswerText(out.chain));
  params.push_back(PgInt(HostShard(rep.host_id)));
  DW_ASSIGN_OR_RETURN(auto d, c->Exec("report_ingest", kIngestSql, params));
  if (d.size() == 0) return Status::NotFound("unknown host '" + rep.host_id + "'");
  if (d.Text(0, 0) == "t") {
    if (d.Text(0, 5) != rep.host_id) {
      return Status::AlreadyExists("report_id " + rep.report_id + " was sent by another host");
    }
    IngestResult dup;
    dup.duplicate = true;
    dup.report_seq = d.Int(0, 1);
    dup.first_event_id = d.Int(0, 2);
    dup.events = d.Int(0, 3);
    dup.received_ns = d.Int(0, 4);
    dup.chain = seen_answer;
    return dup;  // the rollback undoes the inventory rows
  }
  out.report_seq = d.Int(0, 1);
  out.first_event_id = d.Int(0, 2);
  out.events = static_cast<int64_t>(r.events.size());
  out.received_ns = rep.received_ns;
  if (horizon != 0) {
    DW_RETURN_IF_ERROR(
        c->Exec("horizon_done", "DELETE FROM ingest_horizons WHERE id = $1", {PgInt(horizon)})
            .status());
  }
  DW_RETURN_IF_ERROR(tx.Commit());
  *committed = true;
  return out;
}

}  // namespace

Result<IngestResult> PgIngestReport(PgConn& conn, PgPartitions& partitions,
                                    const ReportEnvelope& rep,
                                    const std::vector<AlertRoute>& routes) {
  PgConn* c = &conn;
  const CheckResult& r = rep.result;
  if (!r.events.empty()) DW_RETURN_IF_ERROR(partitions.Ensure(*c, r.finished_ns));
  // Everything the statement needs is computed before the transaction.
  const web::json::value warnings = StringsToJson(r.warnings);
  const web::json::value stats = ScanStatsToJson(r.stats);
  std::vector<std::string> paths, bodies;
  std::vector<int64_t> kinds, severities, transients;
  std::vector<std::optional<std::string>> actors, actor_exes, reverted, diffs;
  std::vector<std::optional<int64_t>> actor_uids, event_ns;
  paths.reserve(r.events.size());
  bodies.reserve(r.events.size());
  for (const std::string& json : rep.events_json) bodies.push_back(PackEventBody(json));
  for (const DriftEvent& e : r.events) {
    paths.push_back(EscapePath(e.path));
    kinds.push_back(static_cast<int64_t>(e.kind));
    severities.push_back(static_cast<int64_t>(e.severity));
    store_rows::EventActorColumns a = store_rows::ActorColumns(e);
    actors.push_back(std::move(a.actor));
    actor_exes.push_back(std::move(a.actor_exe));
    actor_uids.push_back(a.actor_uid);
    transients.push_back(a.transient ? 1 : 0);
    reverted.push_back(std::move(a.reverted_by));
    event_ns.push_back(a.event_ns);
    diffs.push_back(e.diff.empty() ? std::nullopt : std::optional<std::string>(e.diff));
  }
  std::vector<std::string> route_names, route_group_names;
  std::vector<int64_t> route_min, route_every, route_group_routes;
  for (size_t i = 0; i < routes.size(); ++i) {
    route_names.push_back(routes[i].name);
    route_min.push_back(static_cast<int64_t>(routes[i].min_severity));
    route_every.push_back(routes[i].groups.empty() ? 1 : 0);
    for (const std::string& g : routes[i].groups) {
      route_group_routes.push_back(static_cast<int64_t>(i) + 1);
      route_group_names.push_back(g);
    }
  }
  std::vector<PgParam> params = {rep.report_id,
                                 rep.host_id,
                                 rep.agent_version,
                                 PgInt(rep.sent_ns),
                                 PgInt(rep.received_ns),
                                 PgInt(r.started_ns),
                                 PgInt(r.finished_ns),
                                 r.baseline,
                                 PgInt(r.baseline_revision),
                                 r.root.Hex(),
                                 warnings.serialize(),
                                 stats.serialize(),
                                 r.target,
                                 SubtreesToJson(r.subtrees).serialize(),
                                 PgInt(r.interval_ns),
                                 r.baseline_root.IsZero() ? std::string() : r.baseline_root.Hex(),
                                 PgArray(paths),
                                 PgIntArray(kinds),
                                 PgIntArray(severities),
                                 PgArray(bodies),
                                 PgArray(route_names),
                                 PgIntArray(route_min),
                                 PgIntArray(route_every),
                                 PgIntArray(route_group_routes),
                                 PgArray(route_group_names),
                                 PgInt(rep.total_events),
                                 rep.summary_json,
                                 PgInt(r.source == "realtime" ? 1 : 0),
                                 PgNullableArray(actors),
                                 PgNullableArray(actor_exes),
                                 PgNullableIntArray(actor_uids),
                                 PgIntArray(transients),
                                 PgNullableArray(reverted),
                                 PgNullableIntArray(event_ns),
                                 PgNullableArray(diffs)};

  // The horizon is registered before the transaction draws any event id,
  // and deleted by the transaction that commits the events.
  int64_t horizon = 0;
  if (!r.events.empty()) {
    DW_ASSIGN_OR_RETURN(auto h,
                        c->Exec("horizon_register", kRegisterHorizonSql, {PgInt(rep.received_ns)}));
    horizon = h.Int(0, 0);
  }
  bool committed = false;
  auto out = IngestInTransaction(*c, rep, std::move(params), horizon, &committed);
  if (horizon != 0 && !committed) {
    // Rolled back (a duplicate, an unknown host, a failure): the horizon
    // row stays unless removed here. When the connection is gone, the next
    // registration removes it.
    c->Exec("horizon_drop", "DELETE FROM ingest_horizons WHERE id = $1", {PgInt(horizon)})
        .status()
        .IgnoreError();
  }
  return out;
}

// Before a month's partition is dropped: each host's anchor moves to its
// latest event chained in it. $1..$2 the month.
constexpr const char* kMoveAnchorsSql =
    "UPDATE chain_hosts SET anchor_seq = m.seq, anchor_head = m.head FROM (SELECT DISTINCT ON "
    "(host_id) host_id, chain_seq AS seq, chain_head AS head FROM events WHERE detected_ns >= $1 "
    "AND detected_ns < $2 AND chain_seq > 0 ORDER BY host_id, chain_seq DESC) m "
    "WHERE chain_hosts.host_id = m.host_id AND m.seq > chain_hosts.anchor_seq";

Result<int64_t> PgPruneEvents(PgConn& conn, PgPartitions& partitions, int64_t cutoff_ns,
                              int batch) {
  PgConn* c = &conn;
  int64_t deleted = 0;
  // Whole months before the cutoff are dropped; their counts leave
  // event_counts and their alerts go with them.
  DW_ASSIGN_OR_RETURN(auto parts, c->Exec("partitions_list",
                                          "SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                                          "ON c.oid = i.inhrelid WHERE i.inhparent = "
                                          "'events'::regclass ORDER BY c.relname",
                                          {}));
  for (int i = 0; i < parts.size(); ++i) {
    const std::string name = parts.Text(i, 0);
    auto month = ParsePartitionName(name);
    if (!month || month->end_ns > cutoff_ns) continue;
    PgTx tx(*c);
    DW_RETURN_IF_ERROR(tx.Begin());
    DW_RETURN_IF_ERROR(
        c->Exec("schema_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgSchemaLock)})
            .status());
    DW_RETURN_IF_ERROR(c->Exec("partition_anchors", kMoveAnchorsSql,
                               {PgInt(month->start_ns), PgInt(month->end_ns)})
                           .status());
    DW_ASSIGN_OR_RETURN(auto n,
                        c->Exec("partition_counts",
                                "WITH gone AS (SELECT greatest(1, least(4, severity)) AS "
                                "severity, count(*) AS n FROM events WHERE detected_ns >= $1 "
                                "AND detected_ns < $2 GROUP BY 1), "
                                "up AS (INSERT INTO event_counts(severity, shard, n) SELECT "
                                "severity, 0, -n FROM gone ON CONFLICT (severity, shard) DO "
                                "UPDATE SET n = event_counts.n + excluded.n) SELECT n FROM gone",
                                {PgInt(month->start_ns), PgInt(month->end_ns)}));
    for (int k = 0; k < n.size(); ++k) deleted += n.Int(k, 0);
    DW_RETURN_IF_ERROR(c->Exec("partition_alerts",
                               "DELETE FROM alerts a USING events e WHERE e.id = a.event_id "
                               "AND e.detected_ns >= $1 AND e.detected_ns < $2",
                               {PgInt(month->start_ns), PgInt(month->end_ns)})
                           .status());
    // The name was produced by PartitionName and re-parsed: no user text.
    DW_RETURN_IF_ERROR(c->ExecScript("DROP TABLE " + PartitionName(*month)));
    DW_RETURN_IF_ERROR(tx.Commit());
    partitions.Forget(month->start_ns);
  }
  // The month holding the cutoff is pruned row by row, in batches, each
  // host's events as a prefix of its event chain (as the SQLite store
  // does): an event older than the cutoff waits for the newer ones chained
  // before it, and the anchor moves to the latest pruned.
  PgTx tx(*c);
  DW_RETURN_IF_ERROR(tx.Begin());
  DW_ASSIGN_OR_RETURN(auto rows,
                      c->Exec("prune_rows",
                              "WITH gone AS (DELETE FROM events WHERE (id, detected_ns) IN ("
                              "SELECT id, detected_ns FROM events e WHERE detected_ns < $1 "
                              "AND (chain_seq = 0 OR chain_seq < coalesce((SELECT "
                              "min(k.chain_seq) FROM events k WHERE k.host_id = e.host_id AND "
                              "k.detected_ns >= $1 AND k.chain_seq > 0), chain_seq + 1)) "
                              "ORDER BY chain_seq, detected_ns LIMIT $2) "
                              "RETURNING id, severity, host_id, chain_seq, chain_head), "
                              "anc AS (UPDATE chain_hosts SET anchor_seq = m.seq, anchor_head = "
                              "m.head FROM (SELECT DISTINCT ON (host_id) host_id, chain_seq AS "
                              "seq, chain_head AS head FROM gone WHERE chain_seq > 0 ORDER BY "
                              "host_id, chain_seq DESC) m WHERE chain_hosts.host_id = m.host_id "
                              "AND m.seq > chain_hosts.anchor_seq), "
                              "a AS (DELETE FROM alerts WHERE event_id IN (SELECT id FROM gone)), "
                              "cnt AS (SELECT greatest(1, least(4, severity)) AS severity, "
                              "count(*) AS n FROM gone GROUP BY 1), "
                              "up AS (INSERT INTO event_counts(severity, shard, n) SELECT "
                              "severity, 0, -n FROM cnt ON CONFLICT (severity, shard) DO UPDATE "
                              "SET n = event_counts.n + excluded.n) SELECT n FROM cnt",
                              {PgInt(cutoff_ns), PgInt(batch)}));
  for (int k = 0; k < rows.size(); ++k) deleted += rows.Int(k, 0);
  DW_RETURN_IF_ERROR(tx.Commit());
  return deleted;
}

}  // namespace driftwatch::collector
