// The agent store's hash chain (store.h; schema v6 in docs/store.md, the
// records in docs/integrity.md).
#include "agent/store_chain.h"

#include <algorithm>
#include <tuple>

#include "agent/store.h"
#include "core/drift.h"

namespace driftwatch::agent {

using sqlite::Stmt;

namespace {

// One column of a row digest: "<length>:<bytes>", NULL as "n;".
void Frame(std::string& out, const Stmt& q, int col) {
  if (q.IsNull(col)) {
    out += "n;";
    return;
  }
  const std::string v = q.Blob(col);
  out += std::to_string(v.size());
  out += ':';
  out += v;
}

// SHA-256 of `tag` and the SHA-256 of each row's framed columns: memory
// stays one row's size however many rows there are.
Result<RowsDigest> DigestRows(Stmt& q, std::string_view tag, int columns) {
  RowsDigest out;
  std::string all(tag);
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string framed;
    for (int c = 0; c < columns; ++c) Frame(framed, q, c);
    all += chain::Sha256Hex(framed);
    all += '\n';
    ++out.count;
  }
  out.digest = chain::Sha256Hex(all);
  return out;
}

std::string RootHex(const std::string& bytes) {
  auto h = Hash128::FromBytes(bytes);
  return h.ok() ? h->Hex() : "";
}

}  // namespace

std::string BaselineRecordBody(const std::string& name, int64_t revision, int64_t snapshot_id,
                               const std::string& root_hex, const std::string& rules_hash,
                               const std::string& author, const std::string& reason,
                               const std::vector<std::string>* accepted) {
  chain::BodyBuilder b;
  b.Str("name", name)
      .Int("revision", revision)
      .Int("snapshot", snapshot_id)
      .Str("root", root_hex)
      .Str("rules", rules_hash)
      .Str("author", author)
      .Str("reason", reason);
  if (accepted != nullptr) {
    std::vector<std::string> paths;
    size_t bytes = 0;
    for (const std::string& p : *accepted) {
      std::string escaped = EscapePath(p);
      bytes += escaped.size() + 3;
      if (bytes > kMaxAcceptPathBytes) break;
      paths.push_back(std::move(escaped));
    }
    b.StrList("paths", paths);
    if (accepted->empty()) b.Bool("all", true);
    if (paths.size() < accepted->size()) {
      b.Int("paths_omitted", static_cast<int64_t>(accepted->size() - paths.size()));
    }
  }
  return b.Build();
}

std::string CheckRecordBody(int64_t check_id, const std::string& baseline, int64_t revision,
                            const std::string& baseline_root_hex, const std::string& root_hex,
                            int64_t events, const std::string& events_digest) {
  return chain::BodyBuilder()
      .Int("check", check_id)
      .Str("baseline", baseline)
      .Int("revision", revision)
      .Str("baseline_root", baseline_root_hex)
      .Str("root", root_hex)
      .Int("events", events)
      .Str("events_digest", events_digest)
      .Build();
}

std::string RestoreRecordBody(int64_t restore_id, const std::string& baseline, int64_t revision,
                              const std::string& author, const std::string& reason, int64_t refused,
                              int64_t actions, const std::string& actions_digest) {
  return chain::BodyBuilder()
      .Int("restore", restore_id)
      .Str("baseline", baseline)
      .Int("revision", revision)
      .Str("author", author)
      .Str("reason", reason)
      .Int("refused", refused)
      .Int("actions", actions)
      .Str("actions_digest", actions_digest)
      .Build();
}

std::string AgentStartRecordBody(const std::string& exe_digest, const std::string& version) {
  return chain::BodyBuilder().Str("exe", exe_digest).Str("version", version).Build();
}

std::string ConfigRecordBody(const std::string& path, const std::string& digest) {
  return chain::BodyBuilder().Str("path", EscapePath(path)).Str("digest", digest).Build();
}

std::string RulesRecordBody(const std::string& path, const std::string& digest,
                            const std::string& fingerprint) {
  return chain::BodyBuilder()
      .Str("path", EscapePath(path))
      .Str("digest", digest)
      .Str("fingerprint", fingerprint)
      .Build();
}

std::string EnrollRecordBody(const std::string& collector, const std::string& host,
                             const std::string& group, const std::string& signing_key) {
  return chain::BodyBuilder()
      .Str("collector", collector)
      .Str("host", host)
      .Str("group", group)
      .Str("signing_key", signing_key)
      .Build();
}

Result<RowsDigest> CheckEventsDigest(sqlite::Db& db, int64_t check_id) {
  DW_ASSIGN_OR_RETURN(Stmt q,
                      db.Prepare("SELECT path, kind, severity, rule, changed, old_entry, new_entry,"
                                 " package, from_version, to_version, cause, diff, content_note"
                                 " FROM events WHERE check_id = ? ORDER BY id"));
  q.Bind(1, check_id);
  return DigestRows(q, "driftwatch-events-1\n", 13);
}

Result<RowsDigest> RestoreActionsDigest(sqlite::Db& db, int64_t restore_id) {
  DW_ASSIGN_OR_RETURN(Stmt q,
                      db.Prepare("SELECT seq, path, action, detail, ok"
                                 " FROM restore_actions WHERE restore_id = ? ORDER BY seq"));
  q.Bind(1, restore_id);
  return DigestRows(q, "driftwatch-actions-1\n", 5);
}

Result<std::string> SnapshotRootHex(sqlite::Db& db, int64_t snapshot_id) {
  DW_ASSIGN_OR_RETURN(Stmt q, db.Prepare("SELECT root FROM snapshots WHERE id = ?"));
  q.Bind(1, snapshot_id);
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  return found ? RootHex(q.Blob(0)) : std::string();
}

Result<std::string> BaselineRootHex(sqlite::Db& db, const std::string& name, int64_t revision) {
  DW_ASSIGN_OR_RETURN(Stmt q, db.Prepare("SELECT s.root FROM baselines b"
                                         " JOIN snapshots s ON s.id = b.snapshot_id"
                                         " WHERE b.name = ? AND b.revision = ?"));
  q.Bind(1, name).Bind(2, revision);
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  return found ? RootHex(q.Blob(0)) : std::string();
}

Result<chain::Record> Store::AppendRecordLocked(std::string_view kind, int64_t time_ns,
                                                std::string body) {
  if (kind.empty()) return Status::InvalidArgument("a chain record needs a kind");
  if (body.size() > chain::kMaxBodyBytes) {
    return Status::InvalidArgument("chain record '" + std::string(kind) + "': body of " +
                                   std::to_string(body.size()) + " bytes, more than " +
                                   std::to_string(chain::kMaxBodyBytes));
  }
  // The head before it is the one stored: the new record extends the chain
  // as it is on disk, and a damaged head stays visible to verification.
  DW_ASSIGN_OR_RETURN(Stmt last, db_->Prepare("SELECT seq, head FROM chain"
                                              " ORDER BY seq DESC LIMIT 1"));
  DW_ASSIGN_OR_RETURN(bool found, last.Step());
  chain::Record r;
  r.seq = found ? last.Int(0) + 1 : 1;
  const std::string prev = found ? last.Text(1) : chain::GenesisHead();
  r.kind = std::string(kind);
  r.time_ns = time_ns;
  r.body = std::move(body);
  std::string head = chain::NextHead(prev, chain::RecordHash(r));
  if (head.empty()) {
    return Status::Corruption(db_->path() + ": chain record " + std::to_string(r.seq - 1) +
                              " has a head that is not 64 hex digits; run driftwatch store verify");
  }
  DW_ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT INTO chain(seq, kind, time_ns, body, head)"
                                             " VALUES(?, ?, ?, ?, ?)"));
  DW_RETURN_IF_ERROR(
      ins.Bind(1, r.seq).Bind(2, r.kind).Bind(3, r.time_ns).Bind(4, r.body).Bind(5, head).Run());
  return r;
}

Result<chain::Record> Store::AppendRecord(std::string_view kind, int64_t time_ns,
                                          std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  chain::Record out;
  DW_RETURN_IF_ERROR(sqlite::InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(out, AppendRecordLocked(kind, time_ns, std::move(body)));
    return Status::Ok();
  }));
  return out;
}

Result<ChainState> Store::ChainHead() {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT seq, head FROM chain"
                                           " ORDER BY seq DESC LIMIT 1"));
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return ChainState{0, chain::GenesisHead()};
  return ChainState{q.Int(0), q.Text(1)};
}

Result<std::vector<std::pair<chain::Record, std::string>>> Store::ChainRecords(int64_t after_seq,
                                                                               size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT seq, kind, time_ns, body, head FROM chain"
                                           " WHERE seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, after_seq).Bind(2, limit > size_t{INT64_MAX} ? INT64_MAX : static_cast<int64_t>(limit));
  std::vector<std::pair<chain::Record, std::string>> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace_back(chain::Record{q.Int(0), q.Text(1), q.Int(2), q.Text(3)}, q.Text(4));
  }
  return out;
}

Status Store::AppendBaselineRecordLocked(const BaselineRow& row,
                                         const std::vector<std::string>* accepted) {
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT root, rules_hash FROM snapshots WHERE id = ?"));
  q.Bind(1, row.snapshot_id);
  // A revision whose snapshot is gone (a damaged store adopted at the
  // upgrade to v6) gets empty roots: `store verify` names it.
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  std::string body =
      BaselineRecordBody(row.name, row.revision, row.snapshot_id, found ? RootHex(q.Blob(0)) : "",
                         found ? q.Text(1) : "", row.author, row.reason, accepted);
  q.Reset();
  return AppendRecordLocked(accepted != nullptr ? chain::kAccept : chain::kBaseline, row.created_ns,
                            std::move(body))
      .status();
}

Status Store::AppendCheckRecordLocked(const CheckRow& check) {
  DW_ASSIGN_OR_RETURN(RowsDigest events, CheckEventsDigest(*db_, check.id));
  DW_ASSIGN_OR_RETURN(std::string baseline_root,
                      BaselineRootHex(*db_, check.baseline, check.revision));
  DW_ASSIGN_OR_RETURN(std::string root, SnapshotRootHex(*db_, check.snapshot_id));
  return AppendRecordLocked(chain::kCheck, check.finished_ns,
                            CheckRecordBody(check.id, check.baseline, check.revision, baseline_root,
                                            root, events.count, events.digest))
      .status();
}

Status Store::AppendRestoreRecordLocked(int64_t restore_id) {
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT created_ns, author, reason, baseline, revision,"
                                           " refused FROM restores WHERE id = ?"));
  q.Bind(1, restore_id);
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return Status::NotFound("restore " + std::to_string(restore_id) + " not found");
  const int64_t created_ns = q.Int(0);
  const std::string author = q.Text(1), reason = q.Text(2), baseline = q.Text(3);
  const int64_t revision = q.Int(4), refused = q.Int(5);
  q.Reset();
  DW_ASSIGN_OR_RETURN(RowsDigest actions, RestoreActionsDigest(*db_, restore_id));
  return AppendRecordLocked(chain::kRestore, created_ns,
                            RestoreRecordBody(restore_id, baseline, revision, author, reason,
                                              refused, actions.count, actions.digest))
      .status();
}

Status Store::AdoptHistoryLocked() {
  // (time, table, row) of every row that has a record, in the order the
  // rows were added as far as the tables tell.
  struct Row {
    int64_t time_ns;
    int table;  // 0 baselines, 1 checks, 2 restores
    int64_t id;
    BaselineRow baseline;
    CheckRow check;
  };
  std::vector<Row> rows;
  DW_ASSIGN_OR_RETURN(Stmt b, db_->Prepare("SELECT name, revision, snapshot_id, created_ns, author,"
                                           " reason, rowid FROM baselines"));
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, b.Step());
    if (!row) break;
    BaselineRow r{b.Text(0), b.Int(1), b.Int(2), b.Int(3), b.Text(4), b.Text(5)};
    rows.push_back(Row{r.created_ns, 0, b.Int(6), r, {}});
  }
  DW_ASSIGN_OR_RETURN(Stmt c, db_->Prepare("SELECT id, COALESCE(snapshot_id, 0), baseline,"
                                           " revision, started_ns, finished_ns FROM checks"));
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, c.Step());
    if (!row) break;
    CheckRow r{c.Int(0), c.Int(1), c.Text(2), c.Int(3), c.Int(4), c.Int(5)};
    rows.push_back(Row{r.finished_ns, 1, r.id, {}, r});
  }
  DW_ASSIGN_OR_RETURN(Stmt r, db_->Prepare("SELECT id, created_ns FROM restores"));
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, r.Step());
    if (!row) break;
    rows.push_back(Row{r.Int(1), 2, r.Int(0), {}, {}});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return std::tie(x.time_ns, x.table, x.id) < std::tie(y.time_ns, y.table, y.id);
  });
  for (const Row& row : rows) {
    switch (row.table) {
      case 0:
        DW_RETURN_IF_ERROR(AppendBaselineRecordLocked(row.baseline, nullptr));
        break;
      case 1:
        DW_RETURN_IF_ERROR(AppendCheckRecordLocked(row.check));
        break;
      default:
        DW_RETURN_IF_ERROR(AppendRestoreRecordLocked(row.id));
    }
  }
  return Status::Ok();
}

}  // namespace driftwatch::agent
