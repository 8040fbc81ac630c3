// The SQL of one report's ingest into the SQLite fleet store
// (sqlite_store_ingest.h). Every statement is a cached prepared statement
// (core/sqlite.h): a batch of reports prepares each text once.
#include "collector/sqlite_store_ingest.h"

#include <cpprest/json.h>

#include <algorithm>

#include "collector/event_body.h"
#include "collector/sqlite_integrity.h"
#include "collector/sqlite_inventory.h"
#include "collector/store_rows.h"
#include "core/drift_json.h"

namespace driftwatch::collector::sqlite_ingest {
namespace {

template <typename T>
void BindOrNull(sqlite::Stmt& s, int i, const std::optional<T>& v) {
  if (v) {
    s.Bind(i, *v);
  } else {
    s.BindNull(i);
  }
}

constexpr const char* kInsertEvent =
    "INSERT INTO events(report_seq, host_id, grp, path, kind, severity, detected_ns, body, "
    "actor, actor_exe, actor_uid, transient, reverted_by, event_ns, diff, chain_seq, "
    "chain_head) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// The report row, its events, their chain records, alerts and severity
// counts. Sets out->report_seq and out->first_event_id.
Status InsertReportAndEvents(sqlite::Db& db, const PreparedReport& p, const std::string& group,
                             IngestResult* out) {
  const ReportEnvelope& rep = *p.rep;
  const CheckResult& r = rep.result;
  {
    DW_ASSIGN_OR_RETURN(
        auto s, db.Prepare("INSERT INTO reports(report_id, host_id, agent_version, sent_ns, "
                           "received_ns, started_ns, finished_ns, baseline, baseline_revision, "
                           "root, first_event_id, events, warnings, stats, chain_answer) "
                           "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)"));
    DW_RETURN_IF_ERROR(s.Bind(1, rep.report_id)
                           .Bind(2, rep.host_id)
                           .Bind(3, rep.agent_version)
                           .Bind(4, rep.sent_ns)
                           .Bind(5, rep.received_ns)
                           .Bind(6, r.started_ns)
                           .Bind(7, r.finished_ns)
                           .Bind(8, r.baseline)
                           .Bind(9, r.baseline_revision)
                           .Bind(10, p.root_hex)
                           .Bind(11, static_cast<int64_t>(p.events.size()))
                           .Bind(12, p.warnings_json)
                           .Bind(13, p.stats_json)
                           .Bind(14, ChainAnswerText(out->chain))
                           .Run());
  }
  out->report_seq = db.LastInsertId();
  int64_t per_severity[5] = {0, 0, 0, 0, 0};
  DW_ASSIGN_OR_RETURN(auto event_chain, sqlite_integrity::EventChainWriter::Open(db, rep.host_id));
  // One statement for every event: Run() resets it for the next bindings.
  DW_ASSIGN_OR_RETURN(auto ins, db.Prepare(kInsertEvent));
  for (size_t i = 0; i < p.events.size(); ++i) {
    const PreparedEvent& e = p.events[i];
    const std::string& diff = r.events[i].diff;
    ins.Bind(1, out->report_seq)
        .Bind(2, rep.host_id)
        .Bind(3, group)
        .Bind(4, e.path)
        .Bind(5, e.kind)
        .Bind(6, e.severity)
        .Bind(7, r.finished_ns)
        .Bind(8, e.body);
    BindOrNull(ins, 9, e.actor);
    BindOrNull(ins, 10, e.actor_exe);
    BindOrNull(ins, 11, e.actor_uid);
    ins.Bind(12, int64_t{e.transient ? 1 : 0});
    BindOrNull(ins, 13, e.reverted_by);
    BindOrNull(ins, 14, e.event_ns);
    BindOrNull(ins, 15, e.diff);
    const auto [chain_seq, chain_head] =
        event_chain.Next(r.finished_ns, rep.report_id, rep.events_json[i], diff);
    ins.Bind(16, chain_seq).Bind(17, chain_head);
    DW_RETURN_IF_ERROR(ins.Run());
    const int64_t id = db.LastInsertId();
    if (i == 0) out->first_event_id = id;
    per_severity[std::clamp(static_cast<int>(e.severity), 1, 4)]++;
    for (const AlertRoute& route : *p.routes) {
      if (e.severity < static_cast<int64_t>(route.min_severity)) continue;
      if (!route.groups.empty() &&
          std::find(route.groups.begin(), route.groups.end(), group) == route.groups.end()) {
        continue;
      }
      DW_ASSIGN_OR_RETURN(auto a, db.Prepare("INSERT OR IGNORE INTO alerts(event_id, route, "
                                             "next_ns) VALUES(?, ?, ?)"));
      DW_RETURN_IF_ERROR(a.Bind(1, id).Bind(2, route.name).Bind(3, rep.received_ns).Run());
    }
  }
  DW_RETURN_IF_ERROR(event_chain.Finish(db));
  for (int sev = 1; sev <= 4; ++sev) {
    if (per_severity[sev] == 0) continue;
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO event_counts(severity, n) VALUES(?, ?) "
                                           "ON CONFLICT(severity) DO UPDATE SET n = n + ?"));
    DW_RETURN_IF_ERROR(
        s.Bind(1, int64_t{sev}).Bind(2, per_severity[sev]).Bind(3, per_severity[sev]).Run());
  }
  if (out->first_event_id != 0) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE reports SET first_event_id = ? WHERE seq = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, out->first_event_id).Bind(2, out->report_seq).Run());
  }
  return Status::Ok();
}

}  // namespace

PreparedReport PrepareIngest(const ReportEnvelope& rep, const std::vector<AlertRoute>& routes) {
  PreparedReport p;
  p.rep = &rep;
  p.routes = &routes;
  const CheckResult& r = rep.result;
  p.events.reserve(r.events.size());
  for (size_t i = 0; i < r.events.size(); ++i) {
    const DriftEvent& e = r.events[i];
    PreparedEvent pe;
    pe.path = EscapePath(e.path);
    pe.body = PackEventBody(rep.events_json[i]);
    pe.kind = static_cast<int64_t>(e.kind);
    pe.severity = static_cast<int64_t>(e.severity);
    store_rows::EventActorColumns a = store_rows::ActorColumns(e);
    pe.actor = std::move(a.actor);
    pe.actor_exe = std::move(a.actor_exe);
    pe.actor_uid = a.actor_uid;
    pe.transient = a.transient;
    pe.reverted_by = std::move(a.reverted_by);
    pe.event_ns = a.event_ns;
    if (!e.diff.empty()) pe.diff = e.diff;
    p.events.push_back(std::move(pe));
  }
  p.warnings_json = StringsToJson(r.warnings).serialize();
  p.stats_json = ScanStatsToJson(r.stats).serialize();
  p.root_hex = r.root.Hex();
  p.realtime = r.source == "realtime";
  if (!p.realtime) p.subtrees_json = SubtreesToJson(r.subtrees).serialize();
  return p;
}

Result<IngestResult> ApplyIngest(sqlite::Db& db, const PreparedReport& p) {
  const ReportEnvelope& rep = *p.rep;
  IngestResult out;
  {
    DW_ASSIGN_OR_RETURN(auto s,
                        db.Prepare("SELECT seq, first_event_id, events, received_ns, "
                                   "host_id, chain_answer FROM reports WHERE report_id = ?"));
    s.Bind(1, rep.report_id);
    DW_ASSIGN_OR_RETURN(bool dup, s.Step());
    if (dup) {
      if (s.Text(4) != rep.host_id) {
        return Status::AlreadyExists("report_id " + rep.report_id + " was sent by another host");
      }
      out.duplicate = true;
      out.report_seq = s.Int(0);
      out.first_event_id = s.Int(1);
      out.events = s.Int(2);
      out.received_ns = s.Int(3);
      out.chain = ParseChainAnswerText(s.Text(5));
      return out;  // nothing was written
    }
  }
  std::string group;
  std::string old_baseline;
  int64_t old_revision = 0;
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT grp, baseline, baseline_revision FROM "
                                           "hosts WHERE id = ?"));
    s.Bind(1, rep.host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("unknown host '" + rep.host_id + "'");
    group = s.Text(0);
    old_baseline = s.Text(1);
    old_revision = s.Int(2);
  }
  const CheckResult& r = rep.result;
  DW_RETURN_IF_ERROR(sqlite_integrity::Ingest(db, rep, &out));
  DW_RETURN_IF_ERROR(InsertReportAndEvents(db, p, group, &out));
  out.received_ns = rep.received_ns;
  out.events = static_cast<int64_t>(p.events.size());
  if (p.realtime) {
    // Realtime events join the history; the host's state stays its last
    // check's (store.h).
    DW_ASSIGN_OR_RETURN(auto s,
                        db.Prepare("UPDATE hosts SET last_seen_ns = max(last_seen_ns, ?), "
                                   "agent_version = ?, reports = reports + 1, events = events + ? "
                                   "WHERE id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, rep.received_ns)
                           .Bind(2, rep.agent_version)
                           .Bind(3, out.events)
                           .Bind(4, rep.host_id)
                           .Run());
    return out;
  }
  const bool new_baseline = old_baseline != r.baseline || old_revision != r.baseline_revision;
  {
    DW_ASSIGN_OR_RETURN(
        auto s,
        db.Prepare("UPDATE hosts SET last_seen_ns = max(last_seen_ns, ?), last_report_ns = ?, "
                   "target = ?, agent_version = ?, baseline = ?, baseline_revision = ?, "
                   "baseline_since_ns = CASE WHEN ? THEN ? ELSE baseline_since_ns END, "
                   "root = ?, subtrees = ?, reports = reports + 1, events = events + ?, "
                   "last_report_events = ? WHERE id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, rep.received_ns)
                           .Bind(2, rep.received_ns)
                           .Bind(3, r.target)
                           .Bind(4, rep.agent_version)
                           .Bind(5, r.baseline)
                           .Bind(6, r.baseline_revision)
                           .Bind(7, int64_t{new_baseline ? 1 : 0})
                           .Bind(8, r.started_ns)
                           .Bind(9, p.root_hex)
                           .Bind(10, p.subtrees_json)
                           .Bind(11, out.events)
                           .Bind(12, std::max(rep.total_events, out.events))
                           .Bind(13, rep.host_id)
                           .Run());
  }
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO host_report_status(host_id, "
                                           "last_summary) VALUES(?, ?) ON CONFLICT(host_id) "
                                           "DO UPDATE SET last_summary = excluded.last_summary"));
    DW_RETURN_IF_ERROR(s.Bind(1, rep.host_id).Bind(2, rep.summary_json).Run());
  }
  DW_RETURN_IF_ERROR(sqlite_inventory::Ingest(db, rep, &out));
  return out;
}

}  // namespace driftwatch::collector::sqlite_ingest
