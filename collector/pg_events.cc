// All SQL for drift events of the PostgreSQL fleet store: report ingest,
// monthly partitions, retention (docs/store-postgresql.md).
#include "collector/pg_events.h"

#include <cpprest/json.h>

#include <algorithm>

#include "collector/pg_inventory.h"
#include "collector/pg_schema.h"
#include "core/drift.h"

namespace driftwatch::collector {
namespace {

std::string SubtreesJson(const std::vector<std::pair<std::string, Hash128>>& subtrees) {
  web::json::value o = web::json::value::object();
  for (const auto& [path, hash] : subtrees) o[EscapePath(path)] = web::json::value(hash.Hex());
  return o.serialize();
}

}  // namespace

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

Result<IngestResult> PgIngestReport(PgConn& conn, PgPartitions& partitions,
                                    const ReportEnvelope& rep,
                                    const std::vector<AlertRoute>& routes) {
  PgConn* c = &conn;
  const CheckResult& r = rep.result;
  if (!r.events.empty()) DW_RETURN_IF_ERROR(partitions.Ensure(*c, r.finished_ns));
  PgTx tx(*c);
  DW_RETURN_IF_ERROR(tx.Begin());
  // Serializes ingests across collectors: event ids become visible in id
  // order (a cursor never skips a late commit) and a report id racing on two
  // collectors is seen as a duplicate by the second.
  DW_RETURN_IF_ERROR(
      c->Exec("ingest_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgIngestLock)}).status());
  IngestResult out;
  {
    DW_ASSIGN_OR_RETURN(auto d, c->Exec("report_find",
                                        "SELECT seq, first_event_id, events, received_ns, "
                                        "host_id FROM reports WHERE report_id = $1",
                                        {rep.report_id}));
    if (d.size() > 0) {
      if (d.Text(0, 4) != rep.host_id) {
        return Status::AlreadyExists("report_id " + rep.report_id + " was sent by another host");
      }
      out.duplicate = true;
      out.report_seq = d.Int(0, 0);
      out.first_event_id = d.Int(0, 1);
      out.events = d.Int(0, 2);
      out.received_ns = d.Int(0, 3);
      return out;
    }
  }
  DW_ASSIGN_OR_RETURN(auto h, c->Exec("host_lock",
                                      "SELECT grp, baseline, baseline_revision FROM hosts "
                                      "WHERE id = $1 FOR UPDATE",
                                      {rep.host_id}));
  if (h.size() == 0) return Status::NotFound("unknown host '" + rep.host_id + "'");
  const std::string group = h.Text(0, 0);
  const bool new_baseline = h.Text(0, 1) != r.baseline || h.Int(0, 2) != r.baseline_revision;

  web::json::value warnings = web::json::value::array();
  for (size_t i = 0; i < r.warnings.size(); ++i) warnings[i] = web::json::value(r.warnings[i]);
  web::json::value stats = web::json::value::object();
  stats["files"] = web::json::value::number(r.stats.files);
  stats["dirs"] = web::json::value::number(r.stats.dirs);
  stats["others"] = web::json::value::number(r.stats.others);
  stats["files_hashed"] = web::json::value::number(r.stats.files_hashed);
  stats["bytes_hashed"] = web::json::value::number(r.stats.bytes_hashed);
  stats["duration_ns"] = web::json::value::number(r.stats.duration_ns);
  out.events = static_cast<int64_t>(r.events.size());
  out.received_ns = rep.received_ns;
  {
    DW_ASSIGN_OR_RETURN(
        auto s, c->Exec("report_insert",
                        "INSERT INTO reports(report_id, host_id, agent_version, sent_ns, "
                        "received_ns, started_ns, finished_ns, baseline, baseline_revision, root, "
                        "first_event_id, events, warnings, stats) VALUES($1, $2, $3, $4, $5, $6, "
                        "$7, $8, $9, $10, 0, $11, $12, $13) RETURNING seq",
                        {rep.report_id, rep.host_id, rep.agent_version, PgInt(rep.sent_ns),
                         PgInt(rep.received_ns), PgInt(r.started_ns), PgInt(r.finished_ns),
                         r.baseline, PgInt(r.baseline_revision), r.root.Hex(), PgInt(out.events),
                         warnings.serialize(), stats.serialize()}));
    out.report_seq = s.Int(0, 0);
  }
  int64_t per_severity[5] = {0, 0, 0, 0, 0};
  for (size_t i = 0; i < r.events.size(); ++i) {
    const DriftEvent& e = r.events[i];
    DW_ASSIGN_OR_RETURN(
        auto s,
        c->Exec("event_insert",
                "INSERT INTO events(report_seq, report_id, host_id, grp, path, kind, "
                "severity, detected_ns, received_ns, body) VALUES($1, $2, $3, $4, $5, $6, "
                "$7, $8, $9, $10) RETURNING id",
                {PgInt(out.report_seq), rep.report_id, rep.host_id, group, EscapePath(e.path),
                 PgInt(static_cast<int64_t>(e.kind)), PgInt(static_cast<int64_t>(e.severity)),
                 PgInt(r.finished_ns), PgInt(rep.received_ns), rep.events_json[i]}));
    const int64_t id = s.Int(0, 0);
    if (i == 0) out.first_event_id = id;
    per_severity[std::clamp(static_cast<int>(e.severity), 1, 4)]++;
    for (const AlertRoute& route : routes) {
      if (e.severity < route.min_severity) continue;
      if (!route.groups.empty() &&
          std::find(route.groups.begin(), route.groups.end(), group) == route.groups.end()) {
        continue;
      }
      DW_RETURN_IF_ERROR(c->Exec("alert_insert",
                                 "INSERT INTO alerts(event_id, route, next_ns) VALUES($1, $2, $3) "
                                 "ON CONFLICT (event_id, route) DO NOTHING",
                                 {PgInt(id), route.name, PgInt(rep.received_ns)})
                             .status());
    }
  }
  for (int sev = 1; sev <= 4; ++sev) {
    if (per_severity[sev] == 0) continue;
    DW_RETURN_IF_ERROR(c->Exec("severity_add",
                               "INSERT INTO event_counts(severity, n) VALUES($1, $2) "
                               "ON CONFLICT (severity) DO UPDATE SET n = event_counts.n + $2",
                               {PgInt(sev), PgInt(per_severity[sev])})
                           .status());
  }
  DW_RETURN_IF_ERROR(c->Exec("report_first_event",
                             "UPDATE reports SET first_event_id = $1 WHERE seq = $2",
                             {PgInt(out.first_event_id), PgInt(out.report_seq)})
                         .status());
  DW_RETURN_IF_ERROR(
      c->Exec(
           "host_report",
           "UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, $1), last_report_ns = $1, "
           "target = $2, agent_version = $3, baseline = $4, baseline_revision = $5, "
           "baseline_since_ns = CASE WHEN $6 THEN $7 ELSE baseline_since_ns END, "
           "root = $8, subtrees = $9, reports = reports + 1, events = events + $10, "
           "last_report_events = $10 WHERE id = $11",
           {PgInt(rep.received_ns), r.target, rep.agent_version, r.baseline,
            PgInt(r.baseline_revision), std::string(new_baseline ? "t" : "f"), PgInt(r.started_ns),
            r.root.Hex(), SubtreesJson(r.subtrees), PgInt(out.events), rep.host_id})
          .status());
  DW_RETURN_IF_ERROR(PgIngestInventory(*c, rep, &out));
  DW_RETURN_IF_ERROR(tx.Commit());
  return out;
}

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
    DW_ASSIGN_OR_RETURN(auto n,
                        c->Exec("partition_counts",
                                "WITH gone AS (SELECT severity, count(*) AS n FROM events WHERE "
                                "detected_ns >= $1 AND detected_ns < $2 GROUP BY severity) "
                                "UPDATE event_counts SET n = event_counts.n - gone.n FROM gone "
                                "WHERE event_counts.severity = gone.severity RETURNING gone.n",
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
  // The month holding the cutoff is pruned row by row, in batches.
  PgTx tx(*c);
  DW_RETURN_IF_ERROR(tx.Begin());
  DW_ASSIGN_OR_RETURN(auto rows,
                      c->Exec("prune_rows",
                              "WITH gone AS (DELETE FROM events WHERE (id, detected_ns) IN ("
                              "SELECT id, detected_ns FROM events WHERE detected_ns < $1 "
                              "ORDER BY detected_ns LIMIT $2) RETURNING id, severity), "
                              "a AS (DELETE FROM alerts WHERE event_id IN (SELECT id FROM gone)), "
                              "cnt AS (SELECT severity, count(*) AS n FROM gone GROUP BY severity) "
                              "UPDATE event_counts SET n = event_counts.n - cnt.n FROM cnt "
                              "WHERE event_counts.severity = cnt.severity RETURNING cnt.n",
                              {PgInt(cutoff_ns), PgInt(batch)}));
  for (int k = 0; k < rows.size(); ++k) deleted += rows.Int(k, 0);
  DW_RETURN_IF_ERROR(tx.Commit());
  return deleted;
}

}  // namespace driftwatch::collector
