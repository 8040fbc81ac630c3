#include "agent/store.h"

#include "agent/store_file.h"

namespace driftwatch::agent {

using sqlite::Db;
using sqlite::InTransaction;
using sqlite::Stmt;

namespace {

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

// Schema v3: the dirty paths the realtime watcher recorded since the last
// check, and the state of that record (agent/journal.h).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE journal_paths(
  path BLOB PRIMARY KEY,
  tree INTEGER NOT NULL,
  clock INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE journal_state(
  id INTEGER PRIMARY KEY CHECK(id = 1),
  epoch INTEGER NOT NULL,
  watcher_pid INTEGER NOT NULL,
  base_snapshot_id INTEGER NOT NULL,
  valid INTEGER NOT NULL,
  reason TEXT NOT NULL,
  clock INTEGER NOT NULL,
  heartbeat_ns INTEGER NOT NULL,
  heartbeat_mono_ns INTEGER NOT NULL,
  rules_hash TEXT NOT NULL,
  synced_cookie INTEGER NOT NULL,
  invalidations INTEGER NOT NULL
);
)sql";

// Schema v4: kept file content, one zstd frame per distinct digest (the
// algorithm byte, then the digest), the extended attributes of entries by
// XattrDigest, and the content diff of events (docs/content.md).
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE blobs(
  digest BLOB PRIMARY KEY,
  raw_size INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE xattr_sets(
  id BLOB PRIMARY KEY,
  data BLOB NOT NULL
);
ALTER TABLE events ADD COLUMN diff BLOB NOT NULL DEFAULT x'';
ALTER TABLE snapshots ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN content_note TEXT NOT NULL DEFAULT '';
)sql";

// Schema v5: restores (agent/restore.h) and their actions.
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE restores(
  id INTEGER PRIMARY KEY,
  created_ns INTEGER NOT NULL,
  author TEXT NOT NULL,
  reason TEXT NOT NULL,
  baseline TEXT NOT NULL,
  revision INTEGER NOT NULL,
  refused INTEGER NOT NULL
);
CREATE INDEX restores_created ON restores(created_ns);
CREATE TABLE restore_actions(
  restore_id INTEGER NOT NULL REFERENCES restores(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  path BLOB NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL,
  ok INTEGER NOT NULL,
  PRIMARY KEY(restore_id, seq)
) WITHOUT ROWID;
)sql";

// Schema v6: the hash chain (core/chain.h, docs/integrity.md). Honest code
// only appends; the triggers make a careless UPDATE or DELETE fail. Someone
// who drops them can rewrite the table, which `store verify` and the
// collector's escrow find.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE chain(
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  time_ns INTEGER NOT NULL,
  body TEXT NOT NULL,
  head TEXT NOT NULL
);
CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain
BEGIN SELECT RAISE(ABORT, 'chain records are never updated'); END;
CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
BEGIN SELECT RAISE(ABORT, 'chain records are never deleted'); END;
)sql";

// Schema v7: the stat cache, one row per host directory (store_stat_cache.h).
constexpr const char* kSchemaV7 = R"sql(
DROP TABLE IF EXISTS stat_cache;
CREATE TABLE stat_cache(
  dir BLOB PRIMARY KEY,
  rows BLOB NOT NULL
) WITHOUT ROWID;
)sql";

}  // namespace

sqlite::DbOptions AgentDbOptions(bool read_only, bool exclusive) {
  sqlite::DbOptions options;
  options.read_only = read_only;
  options.exclusive = exclusive;
  options.wal = true;
  options.foreign_keys = true;
  options.cache_kib = 4096;
  return options;
}

Result<std::unique_ptr<Store>> Store::OpenWith(const std::string& path, bool exclusive) {
  DW_ASSIGN_OR_RETURN(std::unique_ptr<Db> db,
                      Db::Open(path, AgentDbOptions(/*read_only=*/false, exclusive)));
  std::unique_ptr<Store> store(new Store(std::move(db), exclusive));
  DW_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Result<std::unique_ptr<Store>> Store::Open(Host& host, const std::string& path) {
  DW_RETURN_IF_ERROR(PrepareStoreFile(host, path));
  auto store = OpenWith(path, /*exclusive=*/false);
  const StatusCode code = store.status().code();
  if (store.ok()) return store;
  if (code != StatusCode::kIoError && code != StatusCode::kResourceExhausted) {
    return ExplainStoreOpenError(host, path, store.status());
  }
  // Most likely a full disk that leaves no room for the -shm file.
  auto alone = OpenWith(path, /*exclusive=*/true);
  if (alone.ok()) return alone;
  return ExplainStoreOpenError(host, path, store.status());
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
    q.Reset();  // a pending read would lock the tables a migration drops
    if (version > kStoreSchemaVersion) {
      return Status::Unsupported(db_->path() + ": store schema version " + std::to_string(version) +
                                 " is newer than this driftwatch supports (" +
                                 std::to_string(kStoreSchemaVersion) + "); upgrade driftwatch");
    }
    if (version < 1) {
      DW_RETURN_IF_ERROR(db_->Exec(kSchemaV1));
    }
    if (version < 2) {
      // v2: the rule file a snapshot was taken with, so that check and
      // accept default to the baseline's (docs/store.md).
      DW_RETURN_IF_ERROR(
          db_->Exec("ALTER TABLE snapshots ADD COLUMN rules_path BLOB NOT NULL DEFAULT x''"));
    }
    if (version < 3) {
      // v3: the realtime journal (agent/journal.h, docs/store.md).
      DW_RETURN_IF_ERROR(db_->Exec(kSchemaV3));
    }
    if (version < 4) {
      // v4: kept content and xattr sets; events keep their diff (docs/content.md).
      DW_RETURN_IF_ERROR(db_->Exec(kSchemaV4));
    }
    if (version < 5) {
      // v5: the restores and what each did (agent/restore.h, docs/store.md).
      DW_RETURN_IF_ERROR(db_->Exec(kSchemaV5));
    }
    if (version < 6) {
      // v6: the hash chain (store_chain.cc, docs/store.md).
      DW_RETURN_IF_ERROR(db_->Exec(kSchemaV6));
      if (version >= 1) DW_RETURN_IF_ERROR(AdoptHistoryLocked());
    }
    if (version < 7) {
      // v7: the stat cache packs a directory's rows in one row
      // (store_stat_cache.h). Its old rows are dropped: a cache, refilled by
      // the next scan.
      DW_RETURN_IF_ERROR(db_->Exec(kSchemaV7));
    }
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
  if (pending_bytes_ >= kStoreFlushBytes) return FlushLocked();
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
  if (pending_trees_.empty() && pending_dirs_.empty() && pending_blobs_.empty() &&
      pending_xattrs_.empty()) {
    return Status::Ok();
  }
  Status s = InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(Stmt put,
                        db_->Prepare("INSERT OR IGNORE INTO trees(id, data) VALUES(?, ?)"));
    for (const auto& [id, data] : pending_trees_) {
      DW_RETURN_IF_ERROR(put.BindBlob(1, id.Bytes()).BindBlob(2, data).Run());
    }
    DW_RETURN_IF_ERROR(WritePendingContentLocked());
    DW_RETURN_IF_ERROR(WritePendingDirsLocked());
    return Status::Ok();
  });
  if (!s.ok() && keep_on_write_failure_) {
    // Rolled back: the trees exist only here now.
    write_failure_ = s;
    for (auto& [id, data] : pending_trees_) unwritten_trees_.emplace(id, std::move(data));
    s = Status::Ok();
  } else {
    // Kept content stays readable in memory after a kept failure.
    pending_blobs_.clear();
    pending_xattrs_.clear();
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
  // Trees are named by their hash: one whose bytes hash to another name was
  // changed after it was written (run driftwatch store verify).
  const std::string data = q.Blob(0);
  if (Hash128 actual = TreeHash(data); actual != id) {
    return Status::Corruption(db_->path() + ": tree " + id.Hex() +
                              " is damaged: its bytes hash to " + actual.Hex());
  }
  auto tree = ParseTree(data);
  if (!tree.ok()) return tree.status().WithContext(db_->path() + ": tree " + id.Hex());
  return tree;
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

}  // namespace driftwatch::agent
