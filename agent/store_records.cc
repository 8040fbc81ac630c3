// The agent store's records: snapshots, baselines, checks with their drift
// events, history and pruning (store.h). store.cc holds the schema, the
// trees and the scan cache.
#include "agent/store.h"

#include <set>
#include <sstream>

namespace driftwatch::agent {

using sqlite::InTransaction;
using sqlite::Stmt;

namespace {

// One entry as a single-entry tree blob: the tree codec is the one
// serialization of entries, so stored events read back exactly.
std::string EntryBlob(const Entry& e) { return SerializeTree(Tree{{e}}); }

std::optional<Entry> EntryFromBlob(const std::string& blob) {
  if (blob.empty()) return std::nullopt;
  auto tree = ParseTree(blob);
  if (!tree.ok() || tree->entries.size() != 1) return std::nullopt;
  return tree->entries[0];
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    out += l;
    out.push_back('\n');
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string EncodeSubtrees(const std::vector<std::pair<std::string, Hash128>>& subtrees) {
  std::string out;
  for (const auto& [path, hash] : subtrees) out += hash.Hex() + " " + EscapePath(path) + "\n";
  return out;
}

std::vector<std::pair<std::string, Hash128>> DecodeSubtrees(const std::string& s) {
  std::vector<std::pair<std::string, Hash128>> out;
  for (const std::string& line : SplitLines(s)) {
    if (line.size() < 34) continue;
    auto hash = Hash128::FromHex(line.substr(0, 32));
    auto path = UnescapePath(line.substr(33));
    if (hash.ok() && path.ok()) out.emplace_back(*path, *hash);
  }
  return out;
}

}  // namespace

Result<int64_t> Store::AddSnapshot(const SnapshotRow& r) {
  DW_RETURN_IF_ERROR(Flush());
  std::lock_guard<std::mutex> lock(mu_);
  DW_RETURN_IF_ERROR(write_failure_);  // its trees are not on disk
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("INSERT INTO snapshots(kind, target, root_path, rules_hash, root, created_ns, "
                   "files, dirs,"
                   " others, files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages,"
                   " rules_path, content_hash)"
                   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Bind(1, r.kind)
      .Bind(2, r.target)
      .BindBlob(3, r.root_path)
      .Bind(4, r.rules_hash)
      .BindBlob(5, r.root.Bytes())
      .Bind(6, r.created_ns)
      .Bind(7, static_cast<int64_t>(r.stats.files))
      .Bind(8, static_cast<int64_t>(r.stats.dirs))
      .Bind(9, static_cast<int64_t>(r.stats.others))
      .Bind(10, static_cast<int64_t>(r.stats.files_hashed))
      .Bind(11, static_cast<int64_t>(r.stats.bytes_hashed))
      .Bind(12, r.stats.duration_ns)
      .BindBlob(13, JoinLines(r.warnings))
      .BindBlob(14, EncodeSubtrees(r.subtrees))
      .BindBlob(15, r.packages)
      .BindBlob(16, r.rules_path)
      .Bind(17, r.content_hash);
  DW_RETURN_IF_ERROR(q.Run());
  return db_->LastInsertId();
}

Result<SnapshotRow> Store::GetSnapshot(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare(
          "SELECT kind, target, root_path, rules_hash, root, created_ns, files, dirs, others,"
          " files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages, rules_path,"
          " content_hash"
          " FROM snapshots WHERE id = ?"));
  q.Bind(1, id);
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return Status::NotFound("snapshot " + std::to_string(id) + " not found");
  SnapshotRow r;
  r.id = id;
  r.kind = q.Text(0);
  r.target = q.Text(1);
  r.root_path = q.Text(2);
  r.rules_hash = q.Text(3);
  auto root = Hash128::FromBytes(q.Text(4));
  if (!root.ok())
    return root.status().WithContext(db_->path() + ": snapshot " + std::to_string(id));
  r.root = *root;
  r.created_ns = q.Int(5);
  r.stats.files = static_cast<uint64_t>(q.Int(6));
  r.stats.dirs = static_cast<uint64_t>(q.Int(7));
  r.stats.others = static_cast<uint64_t>(q.Int(8));
  r.stats.files_hashed = static_cast<uint64_t>(q.Int(9));
  r.stats.bytes_hashed = static_cast<uint64_t>(q.Int(10));
  r.stats.duration_ns = q.Int(11);
  r.warnings = SplitLines(q.Text(12));
  r.subtrees = DecodeSubtrees(q.Text(13));
  r.packages = q.Text(14);
  r.rules_path = q.Text(15);
  r.content_hash = q.Text(16);
  return r;
}

Result<BaselineRow> Store::AddBaseline(const std::string& name, int64_t snapshot_id,
                                       int64_t created_ns, const std::string& author,
                                       const std::string& reason,
                                       const std::vector<std::string>* accepted) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_RETURN_IF_ERROR(write_failure_);
  BaselineRow row{name, 0, snapshot_id, created_ns, author, reason};
  DW_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("SELECT COALESCE(MAX(revision), 0) FROM baselines WHERE name = ?"));
    q.Bind(1, name);
    DW_ASSIGN_OR_RETURN(bool found, q.Step());
    row.revision = (found ? q.Int(0) : 0) + 1;
    DW_ASSIGN_OR_RETURN(
        Stmt ins,
        db_->Prepare(
            "INSERT INTO baselines(name, revision, snapshot_id, created_ns, author, reason)"
            " VALUES(?, ?, ?, ?, ?, ?)"));
    DW_RETURN_IF_ERROR(ins.Bind(1, name)
                           .Bind(2, row.revision)
                           .Bind(3, snapshot_id)
                           .Bind(4, created_ns)
                           .Bind(5, author)
                           .Bind(6, reason)
                           .Run());
    return AppendBaselineRecordLocked(row, accepted);
  }));
  return row;
}

Result<std::vector<BaselineRow>> Store::Baselines(const std::optional<std::string>& name) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("SELECT name, revision, snapshot_id, created_ns, author, reason FROM baselines"
                   " WHERE ?1 IS NULL OR name = ?1 ORDER BY name, revision"));
  if (name)
    q.Bind(1, *name);
  else
    q.BindNull(1);
  std::vector<BaselineRow> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(BaselineRow{q.Text(0), q.Int(1), q.Int(2), q.Int(3), q.Text(4), q.Text(5)});
  }
  return out;
}

Result<std::optional<BaselineRow>> Store::LatestBaseline(const std::string& name) {
  DW_ASSIGN_OR_RETURN(std::vector<BaselineRow> rows, Baselines(name));
  if (rows.empty()) return std::optional<BaselineRow>();
  return std::optional<BaselineRow>(rows.back());
}

Result<int64_t> Store::RecordCheck(const CheckRow& check, const std::vector<DriftEvent>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = 0;
  DW_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(
        Stmt c,
        db_->Prepare("INSERT INTO checks(snapshot_id, baseline, revision, started_ns, finished_ns)"
                     " VALUES(?, ?, ?, ?, ?)"));
    DW_RETURN_IF_ERROR(c.Bind(1, check.snapshot_id)
                           .Bind(2, check.baseline)
                           .Bind(3, check.revision)
                           .Bind(4, check.started_ns)
                           .Bind(5, check.finished_ns)
                           .Run());
    id = db_->LastInsertId();
    DW_ASSIGN_OR_RETURN(
        Stmt e, db_->Prepare("INSERT INTO events(check_id, path, kind, severity, "
                             "rule, changed, old_entry, new_entry,"
                             " package, from_version, to_version, cause, diff, content_note)"
                             " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const DriftEvent& ev : events) {
      e.Bind(1, id)
          .BindBlob(2, ev.path)
          .Bind(3, DriftKindName(ev.kind))
          .Bind(4, SeverityName(ev.severity))
          .Bind(5, ev.rule)
          .Bind(6, int64_t{ev.changed});
      if (ev.old_entry)
        e.BindBlob(7, EntryBlob(*ev.old_entry));
      else
        e.BindNull(7);
      if (ev.new_entry)
        e.BindBlob(8, EntryBlob(*ev.new_entry));
      else
        e.BindNull(8);
      e.Bind(9, ev.package).Bind(10, ev.from_version).Bind(11, ev.to_version).Bind(12, ev.cause);
      e.BindBlob(13, ev.diff).Bind(14, ev.content_note);
      DW_RETURN_IF_ERROR(e.Run());
    }
    CheckRow added = check;
    added.id = id;
    return AppendCheckRecordLocked(added);
  }));
  return id;
}

Result<std::optional<CheckRow>> Store::LatestCheck(const std::string& baseline) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id, COALESCE(snapshot_id, 0), baseline, "
                                           "revision, started_ns, finished_ns FROM checks"
                                           " WHERE baseline = ? ORDER BY id DESC LIMIT 1"));
  q.Bind(1, baseline);
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return std::optional<CheckRow>();
  return std::optional<CheckRow>(
      CheckRow{q.Int(0), q.Int(1), q.Text(2), q.Int(3), q.Int(4), q.Int(5)});
}

Result<std::vector<HistoryRow>> Store::History(int64_t since_ns, size_t limit,
                                               const HistoryFilter& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare(
          "SELECT c.id, c.finished_ns, c.baseline, e.path, e.kind, e.severity, e.rule, e.changed,"
          " e.old_entry, e.new_entry, e.package, e.from_version, e.to_version, e.cause,"
          " e.diff, e.content_note"
          " FROM events e JOIN checks c ON c.id = e.check_id"
          " WHERE c.finished_ns >= ? ORDER BY e.id LIMIT ?"));
  // With a filter the limit counts the events it keeps, so SQL reads on.
  const int64_t sql_limit =
      keep || limit > size_t{INT64_MAX} ? INT64_MAX : static_cast<int64_t>(limit);
  q.Bind(1, since_ns).Bind(2, sql_limit);
  std::vector<HistoryRow> out;
  while (out.size() < limit) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    HistoryRow h;
    h.check_id = q.Int(0);
    h.finished_ns = q.Int(1);
    h.baseline = q.Text(2);
    DriftEvent& ev = h.event;
    ev.path = q.Text(3);
    auto kind = ParseDriftKind(q.Text(4));
    auto sev = ParseSeverity(q.Text(5));
    if (!kind.ok() || !sev.ok()) return Status::Corruption(db_->path() + ": bad event row");
    ev.kind = *kind;
    ev.severity = *sev;
    ev.rule = q.Text(6);
    ev.changed = static_cast<uint32_t>(q.Int(7));
    ev.old_entry = EntryFromBlob(q.Text(8));
    ev.new_entry = EntryFromBlob(q.Text(9));
    ev.package = q.Text(10);
    ev.from_version = q.Text(11);
    ev.to_version = q.Text(12);
    ev.cause = q.Text(13);
    ev.diff = q.Blob(14);
    ev.content_note = q.Text(15);
    if (keep && !keep(ev)) continue;
    out.push_back(std::move(h));
  }
  return out;
}

Status Store::Prune(int keep_checks) {
  DW_RETURN_IF_ERROR(Flush());
  std::lock_guard<std::mutex> lock(mu_);
  DW_RETURN_IF_ERROR(write_failure_);  // nothing new to prune for
  // Snapshots still needed: every baseline revision and the newest checks.
  std::vector<Hash128> roots;
  DW_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
    const char* kDoomed =
        " FROM snapshots WHERE kind = 'check' AND id NOT IN"
        " (SELECT id FROM snapshots WHERE kind = 'check' ORDER BY id DESC LIMIT ?1)"
        " AND id NOT IN (SELECT snapshot_id FROM baselines)";
    std::set<Hash128> doomed_roots;
    DW_ASSIGN_OR_RETURN(Stmt doomed, db_->Prepare(std::string("SELECT root") + kDoomed));
    doomed.Bind(1, int64_t{keep_checks});
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, doomed.Step());
      if (!row) break;
      auto h = Hash128::FromBytes(doomed.Text(0));
      if (h.ok()) doomed_roots.insert(*h);
    }
    if (doomed_roots.empty()) return Status::Ok();
    DW_ASSIGN_OR_RETURN(Stmt del, db_->Prepare(std::string("DELETE") + kDoomed));
    DW_RETURN_IF_ERROR(del.Bind(1, int64_t{keep_checks}).Run());
    DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT DISTINCT root FROM snapshots"));
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto h = Hash128::FromBytes(q.Text(0));
      if (h.ok()) {
        roots.push_back(*h);
        doomed_roots.erase(*h);
      }
    }
    // Nothing can have become unreachable when every deleted snapshot had the
    // root of one that stays (the usual case: a host without drift).
    if (doomed_roots.empty()) return Status::Ok();
    return CollectGarbageLocked(roots);
  }));
  return Status::Ok();
}

}  // namespace driftwatch::agent
