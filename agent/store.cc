#include "agent/store.h"

#include <sys/stat.h>

#include <cerrno>
#include <set>
#include <sstream>

namespace driftwatch::agent {
namespace {

constexpr size_t kFlushBytes = 8 << 20;
constexpr size_t kFlushRows = 20000;

// Schema v1. Documented in docs/store.md; a change needs a new version and a
// migration step in Store::Migrate().
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE trees(
  id BLOB PRIMARY KEY,
  data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE snapshots(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  root_path BLOB NOT NULL,
  rules_hash TEXT NOT NULL,
  root BLOB NOT NULL,
  created_ns INTEGER NOT NULL,
  files INTEGER NOT NULL, dirs INTEGER NOT NULL, others INTEGER NOT NULL,
  files_hashed INTEGER NOT NULL, bytes_hashed INTEGER NOT NULL, duration_ns INTEGER NOT NULL,
  warnings BLOB NOT NULL,
  subtrees BLOB NOT NULL,
  packages BLOB NOT NULL
);
CREATE TABLE baselines(
  name TEXT NOT NULL,
  revision INTEGER NOT NULL,
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
  created_ns INTEGER NOT NULL,
  author TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY(name, revision)
);
CREATE TABLE checks(
  id INTEGER PRIMARY KEY,
  snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,
  baseline TEXT NOT NULL,
  revision INTEGER NOT NULL,
  started_ns INTEGER NOT NULL,
  finished_ns INTEGER NOT NULL
);
CREATE INDEX checks_finished ON checks(finished_ns);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
  path BLOB NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  rule TEXT NOT NULL,
  changed INTEGER NOT NULL,
  old_entry BLOB,
  new_entry BLOB,
  package TEXT NOT NULL,
  from_version TEXT NOT NULL,
  to_version TEXT NOT NULL,
  cause TEXT NOT NULL
);
CREATE INDEX events_check ON events(check_id);
CREATE INDEX events_path ON events(path);
CREATE TABLE stat_cache(
  dir BLOB NOT NULL,
  name BLOB NOT NULL,
  dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, scan_ns INTEGER NOT NULL,
  digest BLOB NOT NULL,
  xattrs BLOB,
  PRIMARY KEY(dir, name)
) WITHOUT ROWID;
)sql";

Status MakeParents(const std::string& path) {
  for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    std::string dir = path.substr(0, pos);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus(dir, errno);
  }
  return Status::Ok();
}

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

Result<std::unique_ptr<Store>> Store::OpenWith(const std::string& path, bool exclusive) {
  DW_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, /*read_only=*/false, exclusive));
  std::unique_ptr<Store> store(new Store(std::move(db), exclusive));
  DW_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  DW_RETURN_IF_ERROR(MakeParents(path));
  auto store = OpenWith(path, /*exclusive=*/false);
  const StatusCode code = store.status().code();
  if (store.ok() || (code != StatusCode::kIoError && code != StatusCode::kResourceExhausted)) {
    return store;
  }
  // Most likely a full disk that leaves no room for the -shm file.
  auto alone = OpenWith(path, /*exclusive=*/true);
  if (alone.ok()) return alone;
  return store.status();
}

Store::~Store() {
  EndScanReads();
  load_dir_.reset();  // finalize before its connection closes
  Flush().IgnoreError();
}

Status Store::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(*db_, [&]() -> Status {
    DW_RETURN_IF_ERROR(
        db_->Exec("CREATE TABLE IF NOT EXISTS schema_versions("
                  "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
    DW_ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("SELECT version FROM schema_versions WHERE component='store'"));
    DW_ASSIGN_OR_RETURN(bool found, q.Step());
    int64_t version = found ? q.Int(0) : 0;
    if (version > kStoreSchemaVersion) {
      return Status::Unsupported(db_->path() + ": store schema version " + std::to_string(version) +
                                 " is newer than this driftwatch supports (" +
                                 std::to_string(kStoreSchemaVersion) + "); upgrade driftwatch");
    }
    if (version < 1) {
      DW_RETURN_IF_ERROR(db_->Exec(kSchemaV1));
    }
    // Future migrations: if (version < 2) { ... }
    // A current store is not written to: opening it must work on a full disk.
    if (version == kStoreSchemaVersion) return Status::Ok();
    DW_ASSIGN_OR_RETURN(
        Stmt set,
        db_->Prepare(
            "INSERT OR REPLACE INTO schema_versions(component, version) VALUES('store', ?)"));
    return set.Bind(1, int64_t{kStoreSchemaVersion}).Run();
  });
}

Status Store::Put(const Hash128& id, std::string serialized) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_failure_.ok()) {
    unwritten_trees_.emplace(id, std::move(serialized));
    return Status::Ok();
  }
  pending_bytes_ += serialized.size() + 16;
  pending_trees_.emplace_back(id, std::move(serialized));
  if (pending_bytes_ >= kFlushBytes) return FlushLocked();
  return Status::Ok();
}

Status Store::StoreDir(const std::string& dir, std::vector<CachedStat> rows) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_failure_.ok()) return Status::Ok();  // the cache is an optimisation
  pending_rows_ += rows.size() + 1;
  pending_dirs_.emplace_back(dir, std::move(rows));
  if (pending_rows_ >= kFlushRows) return FlushLocked();
  return Status::Ok();
}

Status Store::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  return FlushLocked();
}

void Store::KeepScanOnWriteFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  keep_on_write_failure_ = true;
}

Status Store::FlushLocked() {
  if (!write_failure_.ok()) return Status::Ok();  // kept in memory (KeepScanOnWriteFailure)
  if (pending_trees_.empty() && pending_dirs_.empty()) return Status::Ok();
  Status s = InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(Stmt put,
                        db_->Prepare("INSERT OR IGNORE INTO trees(id, data) VALUES(?, ?)"));
    for (const auto& [id, data] : pending_trees_) {
      DW_RETURN_IF_ERROR(put.BindBlob(1, id.Bytes()).BindBlob(2, data).Run());
    }
    DW_ASSIGN_OR_RETURN(Stmt del, db_->Prepare("DELETE FROM stat_cache WHERE dir = ?"));
    DW_ASSIGN_OR_RETURN(Stmt ins,
                        db_->Prepare("INSERT OR REPLACE INTO stat_cache(dir, name, dev, ino, size, "
                                     "mtime_ns, ctime_ns, scan_ns,"
                                     " digest, xattrs) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const auto& [dir, rows] : pending_dirs_) {
      DW_RETURN_IF_ERROR(del.BindBlob(1, dir).Run());
      for (const CachedStat& r : rows) {
        std::string digest(1, static_cast<char>(r.digest.algo));
        digest.append(reinterpret_cast<const char*>(r.digest.bytes.data()), r.digest.size());
        ins.BindBlob(1, dir)
            .BindBlob(2, r.name)
            .Bind(3, static_cast<int64_t>(r.dev))
            .Bind(4, static_cast<int64_t>(r.ino))
            .Bind(5, static_cast<int64_t>(r.size))
            .Bind(6, r.mtime_ns)
            .Bind(7, r.ctime_ns)
            .Bind(8, r.scan_ns)
            .BindBlob(9, digest);
        if (r.has_xattrs)
          ins.BindBlob(10, r.xattrs.Bytes());
        else
          ins.BindNull(10);
        DW_RETURN_IF_ERROR(ins.Run());
      }
    }
    return Status::Ok();
  });
  if (!s.ok() && keep_on_write_failure_) {
    // Rolled back: the trees exist only here now.
    write_failure_ = s;
    for (auto& [id, data] : pending_trees_) unwritten_trees_.emplace(id, std::move(data));
    s = Status::Ok();
  }
  pending_trees_.clear();
  pending_dirs_.clear();
  pending_bytes_ = 0;
  pending_rows_ = 0;
  return s;
}

Result<Tree> Store::Get(const Hash128& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = unwritten_trees_.find(id); it != unwritten_trees_.end()) {
    return ParseTree(it->second);
  }
  for (const auto& [pid, data] : pending_trees_) {
    if (pid == id) return ParseTree(data);
  }
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT data FROM trees WHERE id = ?"));
  q.BindBlob(1, id.Bytes());
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return Status::Corruption(db_->path() + ": tree " + id.Hex() + " is missing");
  auto tree = ParseTree(q.Text(0));
  if (!tree.ok()) return tree.status().WithContext(db_->path() + ": tree " + id.Hex());
  return tree;
}

Status Store::OpenReaderLocked() {
  if (load_dir_) return Status::Ok();
  Db* db = db_.get();  // exclusive_: the one connection, used under mu_
  if (!exclusive_) {
    DW_ASSIGN_OR_RETURN(reader_, Db::Open(db_->path(), /*read_only=*/true));
    db = reader_.get();
  }
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db->Prepare(
          "SELECT name, dev, ino, size, mtime_ns, ctime_ns, scan_ns, digest, xattrs FROM stat_cache"
          " WHERE dir = ? ORDER BY name"));
  load_dir_ = std::move(q);
  return Status::Ok();
}

std::unique_lock<std::mutex> Store::LockDbForReads() {
  if (!exclusive_) return {};
  return std::unique_lock<std::mutex>(mu_);  // after read_mu_, never before
}

Status Store::BeginScanReads() {
  std::lock_guard<std::mutex> lock(read_mu_);
  auto db_lock = LockDbForReads();
  DW_RETURN_IF_ERROR(OpenReaderLocked());
  if (in_scan_) return Status::Ok();
  if (!exclusive_) DW_RETURN_IF_ERROR(reader_->Exec("BEGIN"));
  in_scan_ = true;
  return Status::Ok();
}

void Store::EndScanReads() {
  std::lock_guard<std::mutex> lock(read_mu_);
  auto db_lock = LockDbForReads();
  if (!in_scan_) return;
  load_dir_->Reset();
  if (!exclusive_) reader_->Exec("COMMIT").IgnoreError();
  in_scan_ = false;
}

Result<std::vector<CachedStat>> Store::LoadDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(read_mu_);
  auto db_lock = LockDbForReads();
  DW_RETURN_IF_ERROR(OpenReaderLocked());
  Stmt& q = *load_dir_;
  q.Reset();
  q.BindBlob(1, dir);
  std::vector<CachedStat> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    CachedStat c;
    c.name = q.Text(0);
    c.dev = static_cast<uint64_t>(q.Int(1));
    c.ino = static_cast<uint64_t>(q.Int(2));
    c.size = static_cast<uint64_t>(q.Int(3));
    c.mtime_ns = q.Int(4);
    c.ctime_ns = q.Int(5);
    c.scan_ns = q.Int(6);
    std::string d = q.Text(7);
    if (d.empty() || static_cast<uint8_t>(d[0]) > 2) continue;
    c.digest.algo = static_cast<HashAlgo>(d[0]);
    if (d.size() != 1 + c.digest.size()) continue;
    std::copy(d.begin() + 1, d.end(), c.digest.bytes.begin());
    if (!q.IsNull(8)) {
      auto x = Hash128::FromBytes(q.Text(8));
      if (!x.ok()) continue;
      c.has_xattrs = true;
      c.xattrs = *x;
    }
    out.push_back(std::move(c));
  }
  q.Reset();
  // SQLite orders BLOBs with memcmp, like std::string: already sorted.
  return out;
}

Result<int64_t> Store::AddSnapshot(const SnapshotRow& r) {
  DW_RETURN_IF_ERROR(Flush());
  std::lock_guard<std::mutex> lock(mu_);
  DW_RETURN_IF_ERROR(write_failure_);  // its trees are not on disk
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("INSERT INTO snapshots(kind, target, root_path, rules_hash, root, created_ns, "
                   "files, dirs,"
                   " others, files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages)"
                   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
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
      .BindBlob(15, r.packages);
  DW_RETURN_IF_ERROR(q.Run());
  return db_->LastInsertId();
}

Result<SnapshotRow> Store::GetSnapshot(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare(
          "SELECT kind, target, root_path, rules_hash, root, created_ns, files, dirs, others,"
          " files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages"
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
  return r;
}

Result<BaselineRow> Store::AddBaseline(const std::string& name, int64_t snapshot_id,
                                       int64_t created_ns, const std::string& author,
                                       const std::string& reason) {
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
    return ins.Bind(1, name)
        .Bind(2, row.revision)
        .Bind(3, snapshot_id)
        .Bind(4, created_ns)
        .Bind(5, author)
        .Bind(6, reason)
        .Run();
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
    DW_ASSIGN_OR_RETURN(Stmt e, db_->Prepare("INSERT INTO events(check_id, path, kind, severity, "
                                             "rule, changed, old_entry, new_entry,"
                                             " package, from_version, to_version, cause) VALUES(?, "
                                             "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
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
      DW_RETURN_IF_ERROR(e.Run());
    }
    return Status::Ok();
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

Result<std::vector<HistoryRow>> Store::History(int64_t since_ns, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare(
          "SELECT c.id, c.finished_ns, c.baseline, e.path, e.kind, e.severity, e.rule, e.changed,"
          " e.old_entry, e.new_entry, e.package, e.from_version, e.to_version, e.cause"
          " FROM events e JOIN checks c ON c.id = e.check_id"
          " WHERE c.finished_ns >= ? ORDER BY e.id LIMIT ?"));
  q.Bind(1, since_ns).Bind(2, static_cast<int64_t>(limit));
  std::vector<HistoryRow> out;
  for (;;) {
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
    if (roots.empty()) return db_->Exec("DELETE FROM trees");
    // Mark: every tree reachable from a kept root (explicit stack).
    DW_RETURN_IF_ERROR(
        db_->Exec("CREATE TEMP TABLE IF NOT EXISTS live(id BLOB PRIMARY KEY) WITHOUT ROWID"));
    DW_RETURN_IF_ERROR(db_->Exec("DELETE FROM live"));
    DW_ASSIGN_OR_RETURN(Stmt mark, db_->Prepare("INSERT OR IGNORE INTO live(id) VALUES(?)"));
    DW_ASSIGN_OR_RETURN(Stmt get, db_->Prepare("SELECT data FROM trees WHERE id = ?"));
    std::set<Hash128> seen;
    std::vector<Hash128> stack = roots;
    while (!stack.empty()) {
      Hash128 id = stack.back();
      stack.pop_back();
      if (!seen.insert(id).second) continue;
      DW_RETURN_IF_ERROR(mark.BindBlob(1, id.Bytes()).Run());
      get.BindBlob(1, id.Bytes());
      DW_ASSIGN_OR_RETURN(bool found, get.Step());
      std::string data = found ? get.Text(0) : std::string();
      get.Reset();
      if (!found) continue;
      auto tree = ParseTree(data);
      if (!tree.ok()) continue;
      for (const Entry& e : tree->entries) {
        if (e.type == EntryType::kDir) stack.push_back(e.subtree);
      }
    }
    return db_->Exec("DELETE FROM trees WHERE id NOT IN (SELECT id FROM live)");
  }));
  return Status::Ok();
}

}  // namespace driftwatch::agent
