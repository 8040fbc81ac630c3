// Store: the agent's SQLite database (schema in docs/store.md).
//
// Holds content-addressed trees (shared between snapshots), snapshots, named
// baselines with revisions (who, when, why), the history of checks and their
// drift events, the stat cache, and the hash chain (core/chain.h) of every
// record that changes what the agent believes: a baseline revision, a check
// or a restore appends its record in the transaction that adds its rows.
// WAL mode; every write is in a transaction; a schema version newer than
// this build knows is refused.
//
// Trees and stat-cache rows written through the TreeSink / StatCache
// interfaces are buffered and written in batches; Flush() writes what is
// buffered. A snapshot is only added after its trees are flushed, so a crash
// leaves at worst unreferenced trees, which Prune() removes. Kept content
// (ContentStore: blobs and xattr sets, store_content.cc) is buffered and
// flushed with the trees, and collected with them.
//
// Thread-safety: all methods are thread-safe (one connection behind mu_).
#ifndef DRIFTWATCH_AGENT_STORE_H_
#define DRIFTWATCH_AGENT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/content.h"
#include "agent/restore.h"
#include "agent/scanner.h"
#include "core/chain.h"
#include "core/drift.h"
#include "core/host.h"
#include "core/sqlite.h"
#include "core/status.h"

namespace driftwatch::agent {

constexpr int kStoreSchemaVersion = 7;

// Buffered writes (trees, kept content) are flushed at this many bytes.
constexpr size_t kStoreFlushBytes = 8 << 20;
// Buffered stat-cache rows are flushed at this many files.
constexpr size_t kStatCacheFlushRows = 20000;
// No kept blob is larger (rules cap content_max there); a stored row that
// claims more is damaged.
constexpr uint64_t kMaxKeptBlobBytes = rules::kMaxContentMaxBytes;

// How the agent opens its databases (the store, the report outbox): WAL,
// foreign keys, a 10 s busy timeout and 4 MiB of page cache per
// connection, so that the b-tree interior pages of a large store stay in
// memory without memory growing with the tree. `exclusive`: see
// sqlite::DbOptions.
sqlite::DbOptions AgentDbOptions(bool read_only = false, bool exclusive = false);

struct SnapshotRow {
  int64_t id = 0;
  std::string kind;          // "baseline" or "check"
  std::string target;        // hostname or container id
  std::string root_path;     // host directory the rule paths were relative to
  std::string rules_hash;    // Policy fingerprint (hex)
  std::string rules_path;    // the rule file it was taken with; "" when not recorded (v1)
  std::string content_hash;  // Policy::ContentFingerprint (hex); "" when not recorded (< v4)
  Hash128 root;
  int64_t created_ns = 0;
  ScanStats stats;
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, Hash128>> subtrees;
  std::string packages;  // serialized package list (agent/packages), may be empty
};

struct BaselineRow {
  std::string name;
  int64_t revision = 0;
  int64_t snapshot_id = 0;
  int64_t created_ns = 0;
  std::string author;
  std::string reason;
};

struct CheckRow {
  int64_t id = 0;
  int64_t snapshot_id = 0;
  std::string baseline;
  int64_t revision = 0;
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
};

// A check with its events counted (Store::NewestCheck).
struct CheckSummary {
  CheckRow check;
  EventCounts counts;  // by kind and severity
};

// Which events History answers; null: all.
using HistoryFilter = std::function<bool(const DriftEvent&)>;

struct HistoryRow {
  int64_t check_id = 0;
  int64_t finished_ns = 0;
  std::string baseline;
  DriftEvent event;
};

// Rows of the content tables (Store::CountContent, for tests and status).
struct ContentCounts {
  int64_t blobs = 0;
  int64_t blob_bytes = 0;  // compressed bytes stored
  int64_t raw_bytes = 0;   // what they decompress to
  int64_t xattr_sets = 0;
};

// A restore (agent/restore.h) as the history keeps it (store_restores.cc).
struct RestoreRow {
  int64_t id = 0;
  int64_t created_ns = 0;
  std::string author;
  std::string reason;
  std::string baseline;
  int64_t revision = 0;
  int64_t refused = 0;
  std::vector<RestoreAction> actions;  // in the order they were done
};

// The chain's length and head (chain::GenesisHead() when empty).
struct ChainState {
  int64_t length = 0;
  std::string head;
};

class Store final : public TreeSink, public TreeSource, public StatCache, public ContentStore {
 public:
  // Opens or creates the database and applies migrations. The file and its
  // directory are made and checked through `host` first
  // (agent/store_file.h: created 0600 in a 0700 directory; one open to
  // group or others is refused; a failed open names its reason). When the
  // disk under it is full,
  // SQLite cannot create the WAL index file (-shm) and even reads fail: the
  // store is then opened in exclusive locking mode (the index in memory, one
  // connection, other processes locked out until it closes), so that what
  // is stored can still be read.
  static Result<std::unique_ptr<Store>> Open(Host& host, const std::string& path);
  ~Store() override;

  // TreeSink / TreeSource
  Status Put(const Hash128& id, std::string serialized) override;
  Result<Tree> Get(const Hash128& id) override;
  // StatCache
  Result<std::vector<CachedStat>> LoadDir(const std::string& dir) override;
  Status StoreDir(const std::string& dir, std::vector<CachedStat> rows) override;

  // ContentStore (store_content.cc). PutContent compresses outside the
  // lock and buffers the frame until the next flush; GetContent verifies
  // the digest of what it decompresses.
  Result<bool> HasContent(const Digest& digest) override;
  Status PutContent(const Digest& digest, std::string_view raw) override;
  Result<std::optional<std::string>> GetContent(const Digest& digest) override;
  Status PutXattrs(const Hash128& digest, const std::vector<Xattr>& xattrs) override;
  Result<std::optional<std::vector<Xattr>>> GetXattrs(const Hash128& digest) override;
  Result<ContentCounts> CountContent();

  // Writes buffered trees, kept content and stat-cache rows in one
  // transaction.
  Status Flush();

  // For a check that must report what it finds even when it cannot record
  // it (a full disk): after this call, a failed write of buffered trees is
  // not an error of Put/StoreDir/Flush. The first failure is kept, the
  // trees stay in memory, readable through Get, and later trees join them
  // without a write; stat-cache rows are dropped. AddSnapshot, AddBaseline
  // and Prune then fail with the kept error, since the trees are not on
  // disk. Memory grows with the scan's trees from the failure on. Off by
  // default: a baseline fails at once.
  void KeepScanOnWriteFailure();

  // Stat-cache reads go through a second connection. Between BeginScanReads
  // and EndScanReads they share one read transaction: one snapshot of the
  // cache as it was when the scan started, and no locking per directory.
  Status BeginScanReads();
  void EndScanReads();

  Result<int64_t> AddSnapshot(const SnapshotRow& row);
  Result<SnapshotRow> GetSnapshot(int64_t id);

  // Adds the next revision of `name` (1 when new) pointing at snapshot_id,
  // and its chain record in the same transaction: `accept` when `accepted`
  // is given (the paths taken into the baseline; empty: everything found),
  // `baseline` otherwise (agent/store_chain.h has the bodies).
  Result<BaselineRow> AddBaseline(const std::string& name, int64_t snapshot_id, int64_t created_ns,
                                  const std::string& author, const std::string& reason,
                                  const std::vector<std::string>* accepted = nullptr);
  Result<std::optional<BaselineRow>> LatestBaseline(const std::string& name);
  // Every revision of every baseline (or of `name`), oldest first.
  Result<std::vector<BaselineRow>> Baselines(const std::optional<std::string>& name);

  // Records a finished check and its events, and its `check` chain record,
  // in one transaction.
  Result<int64_t> RecordCheck(const CheckRow& check, const std::vector<DriftEvent>& events);
  // The latest check of `baseline` (any revision), if any.
  Result<std::optional<CheckRow>> LatestCheck(const std::string& baseline);
  // The newest check of any baseline, its events counted (store_summary.cc).
  Result<std::optional<CheckSummary>> NewestCheck();
  // Events of checks finished at or after since_ns, oldest first: the first
  // `limit` of those `keep` accepts (every event without it).
  Result<std::vector<HistoryRow>> History(int64_t since_ns, size_t limit,
                                          const HistoryFilter& keep = nullptr);

  // Records a restore and its actions, and its `restore` chain record, in
  // one transaction; returns its id.
  Result<int64_t> RecordRestore(const RestoreRow& row);
  // Restores recorded at or after since_ns, oldest first, at most `limit`.
  Result<std::vector<RestoreRow>> Restores(int64_t since_ns, size_t limit);

  // The chain (store_chain.cc). Records are only appended: the table's
  // triggers refuse UPDATE and DELETE. AppendRecord appends one in its own
  // transaction, its head computed from the stored head before it, and
  // returns it with its seq. kInvalidArgument for an empty kind or a body
  // larger than chain::kMaxBodyBytes.
  Result<chain::Record> AppendRecord(std::string_view kind, int64_t time_ns, std::string body);
  // Appends (kind, time_ns, body) unless the latest record of `kind` — of
  // those whose body's "path" is EscapePath(path), when path is not empty —
  // has the same body: for the records written when something changed (the
  // agent's executable, its rules, its configuration). Returns the record
  // appended, or nullopt. One transaction: two processes do not both append.
  Result<std::optional<chain::Record>> AppendIfChanged(std::string_view kind, int64_t time_ns,
                                                       std::string body,
                                                       std::string_view path = {});
  Result<ChainState> ChainHead();
  // Records with seq > after_seq, oldest first, at most limit, each with its
  // stored head.
  Result<std::vector<std::pair<chain::Record, std::string>>> ChainRecords(int64_t after_seq,
                                                                          size_t limit);

  // Keeps the newest `keep_checks` check snapshots (events stay), deletes the
  // older ones and every tree no snapshot reaches, then every blob and xattr
  // set that no remaining tree and no history event refers to.
  Status Prune(int keep_checks);

  const std::string& path() const { return db_->path(); }

 private:
  Store(std::unique_ptr<sqlite::Db> db, bool exclusive)
      : exclusive_(exclusive), db_(std::move(db)) {}
  static Result<std::unique_ptr<Store>> OpenWith(const std::string& path, bool exclusive);
  Status Migrate();
  // Appends a record inside the caller's transaction (mu_ held).
  Result<chain::Record> AppendRecordLocked(std::string_view kind, int64_t time_ns,
                                           std::string body);
  // The records of rows added in the caller's transaction (mu_ held).
  Status AppendBaselineRecordLocked(const BaselineRow& row,
                                    const std::vector<std::string>* accepted);
  Status AppendCheckRecordLocked(const CheckRow& check);
  Status AppendRestoreRecordLocked(int64_t restore_id);
  // Migration to v6: the baselines, checks and restores already stored
  // enter the chain, oldest first, so that the history kept before the
  // upgrade verifies too.
  Status AdoptHistoryLocked();
  Status FlushLocked();
  // Writes pending_blobs_ and pending_xattrs_ (inside FlushLocked's
  // transaction).
  Status WritePendingContentLocked();
  // Writes pending_dirs_ (inside FlushLocked's transaction;
  // store_stat_cache.cc).
  Status WritePendingDirsLocked();
  // Prune's sweep, one walk from `roots`: keeps the trees reachable from
  // them, and the blobs and xattr sets an entry of those trees or of a
  // history event refers to; deletes the rest.
  Status CollectGarbageLocked(const std::vector<Hash128>& roots);

  Status OpenReaderLocked();
  // Holds mu_ when stat-cache reads share db_ (exclusive_); else nothing.
  std::unique_lock<std::mutex> LockDbForReads();

  // Exclusive locking mode (Open): one connection, so stat-cache reads use
  // db_ (under mu_ as well) and there is no reader_.
  const bool exclusive_;

  std::mutex read_mu_;  // guards reader_, load_dir_ and in_scan_
  std::unique_ptr<sqlite::Db> reader_;
  std::optional<sqlite::Stmt> load_dir_;  // borrowed from reader_ (or db_)
  bool in_scan_ = false;

  std::mutex mu_;  // guards db_ and the buffers
  std::unique_ptr<sqlite::Db> db_;
  std::vector<std::pair<Hash128, std::string>> pending_trees_;
  size_t pending_bytes_ = 0;
  // Host directory -> its stat-cache rows, packed (EncodeStatRows).
  std::vector<std::pair<std::string, std::string>> pending_dirs_;
  size_t pending_rows_ = 0;
  // Kept content not yet written: digest key -> (raw size, zstd frame), and
  // xattr sets by id -> serialized set. Also where they stay after a kept
  // write failure (KeepScanOnWriteFailure).
  std::map<std::string, std::pair<uint64_t, std::string>> pending_blobs_;
  std::map<Hash128, std::string> pending_xattrs_;
  bool keep_on_write_failure_ = false;
  Status write_failure_;                            // first failed flush, when kept
  std::map<Hash128, std::string> unwritten_trees_;  // trees since write_failure_
};

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_STORE_H_
