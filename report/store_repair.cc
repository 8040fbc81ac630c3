#include "report/store_repair.h"

#include <time.h>

#include <memory>
#include <optional>
#include <utility>

#include "agent/store.h"
#include "agent/store_file.h"
#include "core/sqlite.h"
#include "report/outbox.h"

namespace driftwatch::report {
namespace {

using sqlite::Db;
using sqlite::Stmt;

// Tables copied (trees by id, the others by rowid), in an order that brings
// what a row points at before the row.
// The chain is copied as it is: what was lost with it shows in store verify.
constexpr const char* kCopiedTables[] = {"trees",        "snapshots",    "baselines",  "checks",
                                         "events",       "blobs",        "xattr_sets", "chain",
                                         "report_state", "report_outbox"};
constexpr int kMaxProblems = 20;

// Tree ids (16 bytes) as numbers, for halving ranges of them.
__extension__ typedef unsigned __int128 Key128;

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

// A "file:" URI opening `path` read-only (for ATTACH).
std::string ReadOnlyUri(const std::string& path) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
      out += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      out += c;
    }
  }
  return out + "?mode=ro";
}

// Every row of a query's first column ("" for none), at most `max`.
Result<std::vector<std::string>> Rows(Db& db, const std::string& sql, size_t max) {
  DW_ASSIGN_OR_RETURN(Stmt q, db.Prepare(sql));
  std::vector<std::string> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || out.size() >= max) break;
    out.push_back(q.Text(0));
  }
  return out;
}

Result<int64_t> Count(Db& db, const std::string& sql) {
  DW_ASSIGN_OR_RETURN(Stmt q, db.Prepare(sql));
  DW_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

std::string ExpectedVersion(Db& db, const std::string& component, int want) {
  auto v = Rows(db, "SELECT version FROM schema_versions WHERE component = '" + component + "'", 1);
  if (!v.ok()) return "schema_versions unreadable: " + v.status().message();
  if (v->empty()) return component == "store" ? "no store schema version recorded" : "";
  if ((*v)[0] != std::to_string(want)) {
    return component + " schema version " + (*v)[0] + ", this driftwatch knows " +
           std::to_string(want);
  }
  return "";
}

// The column names of `table` in database `schema` ("main", "old").
Result<std::vector<std::string>> Columns(Db& db, const std::string& schema,
                                         const std::string& table) {
  return Rows(db, "SELECT name FROM pragma_table_info('" + table + "', '" + schema + "')", 1000);
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + Quoted(n);
  return out;
}

std::string Blob16(Key128 k) {
  std::string out(16, '\0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(k & 0xff);
    k >>= 8;
  }
  return out;
}

std::string Hex16(Key128 k) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : Blob16(k)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// How keys of a rowid table are bound, read and shown.
struct RowidKeys {
  using Key = int64_t;
  static void Bind(Stmt& s, int i, Key k) { s.Bind(i, k); }
  static Key Read(const Stmt& s, int col) { return s.Int(col); }
  static std::string Show(Key k) { return std::to_string(k); }
};

// The same for tree ids: 16-byte blobs, as 128-bit numbers.
struct TreeIdKeys {
  using Key = Key128;
  static void Bind(Stmt& s, int i, Key k) { s.BindBlob(i, Blob16(k)); }
  static Key Read(const Stmt& s, int col) {
    Key k = 0;
    std::string b = s.Blob(col);
    b.resize(16, '\0');
    for (unsigned char c : b) k = (k << 8) | c;
    return k;
  }
  static std::string Show(Key k) { return Hex16(k); }
};

// The statements a RangeCopier runs on one table, each with the key(s) as
// parameters: copy the rows with keys in [?1, ?2]; read the first key >= ?1
// (SELECT min(key) ... WHERE key >= ?1) and copy its row (the same seek,
// ORDER BY key LIMIT 1); read the last key <= ?1 (max) and copy its row.
// A row is copied by the seek that found it: a lookup by key may pass
// through a damaged page the seek went round.
struct CopyStatements {
  Stmt copy_range;
  Stmt next_key;
  Stmt copy_next;
  Stmt prev_key;
  Stmt copy_prev;
};

// Copies the rows of old.table into main.table, key range by key range.
//
// A range that fails to read is narrowed to its readable beginning (each
// success moves the start up, each failure halves the range); where it
// stops starts an unreadable stretch. Its end is found by probing where the
// table reads again (next_key, a single seek, halving as well), the rows at
// either end of it that still read one by one are copied (such as the first
// key of the stretch, whose range read fails only when stepping past it, or
// a row kept on the parent page of the damaged one), the rest is recorded
// as lost, and copying carries on after the stretch. Every read counts
// against max_reads; when they run out, what was not read yet is recorded
// as lost too.
template <typename Keys>
class RangeCopier {
 public:
  using Key = typename Keys::Key;

  RangeCopier(CopyStatements& stmts, int64_t max_reads, TableRecovery* out)
      : stmts_(stmts), max_reads_(max_reads), out_(out) {}

  void Run(Key lo, Key hi) {
    Key cursor = lo;
    while (!Exhausted()) {  // each pass ends the table or steps past a stretch
      if (CopyRange(cursor, hi)) return;
      Key bad = hi;                           // [cursor, bad] fails to read
      while (cursor < bad && !Exhausted()) {  // the range halves every pass
        const Key mid = cursor + (bad - cursor) / 2;
        if (CopyRange(cursor, mid)) {
          cursor = mid + 1;
        } else {
          bad = mid;
        }
      }
      if (Exhausted()) break;
      const Key end = StretchEnd(cursor, hi);
      if (Exhausted()) break;
      CopyStretch(cursor, end);
      if (end == hi) return;
      cursor = end + 1;
    }
    out_->lost_ranges.push_back(Keys::Show(cursor) + ".." + Keys::Show(hi) + " (not read)");
    out_->note = "stopped after " + std::to_string(max_reads_) + " reads";
  }

 private:
  // Counts one read; false once max_reads_ were made.
  bool Spend() { return ++reads_ <= max_reads_; }
  bool Exhausted() const { return reads_ >= max_reads_; }

  bool CopyRange(Key a, Key b) {
    if (!Spend()) return false;
    stmts_.copy_range.Reset();
    Keys::Bind(stmts_.copy_range, 1, a);
    Keys::Bind(stmts_.copy_range, 2, b);
    return stmts_.copy_range.Run().ok();
  }

  // Runs copy_next or copy_prev.
  bool CopyAt(Stmt& copy, Key k) {
    if (!Spend()) return false;
    copy.Reset();
    Keys::Bind(copy, 1, k);
    return copy.Run().ok();
  }

  // The first key >= k (nullopt: none) in *next; false when it cannot be
  // read.
  bool NextKey(Key k, std::optional<Key>* next) { return Seek(stmts_.next_key, k, next); }
  // The same for the last key <= k.
  bool PrevKey(Key k, std::optional<Key>* prev) { return Seek(stmts_.prev_key, k, prev); }

  bool Seek(Stmt& q, Key k, std::optional<Key>* next) {
    if (!Spend()) return false;
    q.Reset();
    Keys::Bind(q, 1, k);
    Result<bool> row = q.Step();
    const bool ok = row.ok();
    if (ok) *next = *row && !q.IsNull(0) ? std::optional<Key>(Keys::Read(q, 0)) : std::nullopt;
    q.Reset();
    return ok;
  }

  // The last key of the unreadable stretch that starts at `from`: just
  // before the first key from which the table reads again (hi if none).
  Key StretchEnd(Key from, Key hi) {
    std::optional<Key> unused;
    if (from == hi || !NextKey(hi, &unused)) return hi;
    Key bad = from, good = hi;                // NextKey(good) reads
    while (good - bad > 1 && !Exhausted()) {  // the gap halves every pass
      const Key mid = bad + (good - bad) / 2;
      if (NextKey(mid, &unused)) {
        good = mid;
      } else {
        bad = mid;
      }
    }
    return good - 1;
  }

  // Copies the rows of [from, end] that read one by one, from the start
  // and from the end; what lies between is lost.
  void CopyStretch(Key from, Key end) {
    constexpr int kMaxRowsInStretch = 1000;
    Key first = from;  // the first key not copied from the start
    int rows = 0;
    for (; rows < kMaxRowsInStretch; ++rows) {
      std::optional<Key> next;
      if (!NextKey(first, &next)) break;
      if (!next || *next > end) return;  // nothing more in the stretch
      if (!CopyAt(stmts_.copy_next, first)) break;
      if (*next == end) return;
      first = *next + 1;
    }
    Key last = end;  // the last key not copied from the end
    for (; rows < kMaxRowsInStretch; ++rows) {
      std::optional<Key> prev;
      if (!PrevKey(last, &prev)) break;
      if (!prev || *prev < first) return;
      if (!CopyAt(stmts_.copy_prev, last)) break;
      if (*prev == first) return;
      last = *prev - 1;
    }
    out_->lost_ranges.push_back(Keys::Show(first) + ".." + Keys::Show(last));
  }

  CopyStatements& stmts_;
  const int64_t max_reads_;
  TableRecovery* out_;
  int64_t reads_ = 0;
};

// Whether the damaged store has `table` (older stores lack the outbox's
// tables). When its schema cannot be read, the copy is tried and fails.
bool OldHas(Db& db, const std::string& table) {
  auto n = Count(
      db, "SELECT count(*) FROM old.sqlite_master WHERE type = 'table' AND name = '" + table + "'");
  return !n.ok() || *n > 0;
}

Status RecoverRowidTable(Db& db, const std::string& table, int64_t max_reads, TableRecovery* out) {
  DW_ASSIGN_OR_RETURN(std::vector<std::string> cols, Columns(db, "main", table));
  const std::string list = Join(cols);
  const std::string old = "old." + Quoted(table);
  int64_t lo = 1, hi = int64_t{1} << 62;
  if (auto q = db.Prepare("SELECT min(rowid), max(rowid) FROM " + old); q.ok()) {
    if (auto row = q->Step(); row.ok() && *row && !q->IsNull(0)) {
      lo = q->Int(0);
      hi = q->Int(1);
    } else if (row.ok() && *row) {
      return Status::Ok();  // empty
    }
  }
  const std::string insert = "INSERT OR IGNORE INTO main." + Quoted(table) + "(rowid, " + list +
                             ") SELECT rowid, " + list + " FROM " + old;
  DW_ASSIGN_OR_RETURN(Stmt copy_range, db.Prepare(insert + " WHERE rowid BETWEEN ?1 AND ?2"));
  DW_ASSIGN_OR_RETURN(Stmt next_key,
                      db.Prepare("SELECT min(rowid) FROM " + old + " WHERE rowid >= ?1"));
  DW_ASSIGN_OR_RETURN(Stmt copy_next,
                      db.Prepare(insert + " WHERE rowid >= ?1 ORDER BY rowid LIMIT 1"));
  DW_ASSIGN_OR_RETURN(Stmt prev_key,
                      db.Prepare("SELECT max(rowid) FROM " + old + " WHERE rowid <= ?1"));
  DW_ASSIGN_OR_RETURN(Stmt copy_prev,
                      db.Prepare(insert + " WHERE rowid <= ?1 ORDER BY rowid DESC LIMIT 1"));
  CopyStatements stmts{std::move(copy_range), std::move(next_key), std::move(copy_next),
                       std::move(prev_key), std::move(copy_prev)};
  RangeCopier<RowidKeys>(stmts, max_reads, out).Run(lo, hi);
  return Status::Ok();
}

Status RecoverTrees(Db& db, int64_t max_reads, TableRecovery* out) {
  const std::string insert =
      "INSERT OR IGNORE INTO main.trees(id, data) SELECT id, data FROM old.trees";
  DW_ASSIGN_OR_RETURN(Stmt copy_range, db.Prepare(insert + " WHERE id BETWEEN ?1 AND ?2"));
  DW_ASSIGN_OR_RETURN(Stmt next_key, db.Prepare("SELECT min(id) FROM old.trees WHERE id >= ?1"));
  DW_ASSIGN_OR_RETURN(Stmt copy_next, db.Prepare(insert + " WHERE id >= ?1 ORDER BY id LIMIT 1"));
  DW_ASSIGN_OR_RETURN(Stmt prev_key, db.Prepare("SELECT max(id) FROM old.trees WHERE id <= ?1"));
  DW_ASSIGN_OR_RETURN(Stmt copy_prev,
                      db.Prepare(insert + " WHERE id <= ?1 ORDER BY id DESC LIMIT 1"));
  CopyStatements stmts{std::move(copy_range), std::move(next_key), std::move(copy_next),
                       std::move(prev_key), std::move(copy_prev)};
  RangeCopier<TreeIdKeys>(stmts, max_reads, out).Run(0, ~static_cast<Key128>(0));
  return Status::Ok();
}

std::string UtcStamp(int64_t unix_ns) {
  const time_t secs = static_cast<time_t>(unix_ns / 1000000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Status RemoveIfThere(Host& host, const std::string& path) {
  Status s = host.Remove(path);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

// Removes a store file and what SQLite keeps beside it.
Status RemoveStore(Host& host, const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    DW_RETURN_IF_ERROR(RemoveIfThere(host, path + suffix));
  }
  return Status::Ok();
}

// Makes the store `fresh` and copies into it what reads of the store at
// `path`, filling *out's tables.
Status BuildRecovered(Host& host, const std::string& path, const std::string& fresh,
                      int64_t max_reads, StoreRecovery* out) {
  // The schema of both components, made the way the agent makes them.
  { DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, fresh)); }
  { DW_ASSIGN_OR_RETURN(auto outbox, Outbox::Open(fresh)); }

  sqlite::DbOptions options = agent::AgentDbOptions();
  options.foreign_keys = false;  // rows are copied before what they point at is known lost
  options.uri = true;
  DW_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(fresh, options));
  DW_ASSIGN_OR_RETURN(Stmt attach, db->Prepare("ATTACH DATABASE ? AS old"));
  DW_RETURN_IF_ERROR(attach.Bind(1, ReadOnlyUri(path)).Run());
  for (const char* table : kCopiedTables) {
    TableRecovery t;
    t.table = table;
    if (!OldHas(*db, table)) {
      t.note = "not in the damaged store: nothing to copy";
    } else if (t.table == "trees") {
      DW_RETURN_IF_ERROR(RecoverTrees(*db, max_reads, &t));
    } else {
      DW_RETURN_IF_ERROR(RecoverRowidTable(*db, table, max_reads, &t));
    }
    out->tables.push_back(std::move(t));
  }
  TableRecovery cache;
  cache.table = "stat_cache";
  cache.note = "not copied: a cache, rebuilt by the next check";
  out->tables.push_back(std::move(cache));
  DW_RETURN_IF_ERROR(db->Exec("DETACH DATABASE old"));
  // Rows that point at lost ones.
  const std::pair<const char*, const char*> kOrphans[] = {
      {"baselines", "DELETE FROM baselines WHERE snapshot_id NOT IN (SELECT id FROM snapshots)"},
      {"checks",
       "UPDATE checks SET snapshot_id = NULL WHERE snapshot_id NOT IN (SELECT id FROM "
       "snapshots)"},
      {"events", "DELETE FROM events WHERE check_id NOT IN (SELECT id FROM checks)"},
  };
  for (const auto& [table, sql] : kOrphans) {
    DW_RETURN_IF_ERROR(db->Exec(sql));
    for (TableRecovery& t : out->tables) {
      if (t.table == table && std::string(sql).rfind("DELETE", 0) == 0) t.dropped = db->Changes();
    }
  }
  for (TableRecovery& t : out->tables) {
    if (t.table == "stat_cache") continue;
    DW_ASSIGN_OR_RETURN(t.kept, Count(*db, "SELECT count(*) FROM " + Quoted(t.table)));
  }
  return db->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

// Keeps the store at `path` as `damaged` and puts `fresh` in its place.
// When that fails halfway, the damaged store goes back to `path`.
Status SwapIn(Host& host, const std::string& path, const std::string& fresh,
              const std::string& damaged) {
  std::vector<std::string> moved;  // suffixes of what was moved to `damaged`
  Status s;
  for (const char* suffix : {"-wal", "-shm", ""}) {
    s = host.Rename(path + suffix, damaged + suffix);
    if (s.code() == StatusCode::kNotFound && *suffix != '\0') continue;
    if (!s.ok()) break;
    moved.push_back(suffix);
  }
  if (s.ok()) s = RemoveIfThere(host, fresh + "-wal");
  if (s.ok()) s = RemoveIfThere(host, fresh + "-shm");
  if (s.ok()) s = host.Rename(fresh, path);
  if (s.ok()) return s;
  for (const std::string& suffix : moved) {
    host.Rename(damaged + suffix, path + suffix).IgnoreError();
  }
  return s;
}

}  // namespace

Result<StoreCheck> CheckAgentStore(Host& host, const std::string& path) {
  DW_RETURN_IF_ERROR(agent::CheckStoreFile(host, path));
  StoreCheck out;
  auto opened = Db::Open(path, agent::AgentDbOptions(/*read_only=*/true));
  if (!opened.ok()) {
    out.problems.push_back(opened.status().message());
    return out;
  }
  Db& db = **opened;
  auto integrity = Rows(db, "PRAGMA integrity_check", kMaxProblems);
  if (!integrity.ok()) {
    out.problems.push_back("integrity_check: " + integrity.status().message());
  } else if (integrity->size() != 1 || (*integrity)[0] != "ok") {
    for (const std::string& p : *integrity) out.problems.push_back("integrity_check: " + p);
  }
  out.checked.push_back("SQLite integrity_check");
  for (auto [component, want] : {std::pair<std::string, int>{"store", agent::kStoreSchemaVersion},
                                 std::pair<std::string, int>{"report", kReportSchemaVersion}}) {
    if (std::string p = ExpectedVersion(db, component, want); !p.empty()) {
      out.problems.push_back(p);
    }
  }
  out.checked.push_back("schema versions");
  int64_t rows = 0;
  for (const char* table : {"trees", "snapshots", "baselines", "checks", "events", "stat_cache",
                            "report_state", "report_outbox"}) {
    auto n = Count(db, std::string("SELECT count(*) FROM ") + table);
    if (!n.ok()) {
      // The outbox's tables appear with the first enrollment or report.
      if (std::string(table).rfind("report_", 0) == 0 &&
          n.status().message().find("no such table") != std::string::npos) {
        continue;
      }
      out.problems.push_back(std::string(table) + ": " + n.status().message());
    } else {
      rows += *n;
    }
  }
  out.checked.push_back("every table read to its end (" + std::to_string(rows) + " rows)");
  auto fk = Count(db, "SELECT count(*) FROM pragma_foreign_key_check");
  if (!fk.ok()) {
    out.problems.push_back("foreign_key_check: " + fk.status().message());
  } else if (*fk > 0) {
    out.problems.push_back(std::to_string(*fk) + " rows point at rows that are gone");
  }
  auto missing = Count(db,
                       "SELECT count(*) FROM baselines b LEFT JOIN snapshots s ON s.id ="
                       " b.snapshot_id LEFT JOIN trees t ON t.id = s.root WHERE t.id IS NULL"
                       // An image baseline's root is the image's digest (docs/containers.md).
                       " AND b.name NOT LIKE 'image:%'");
  if (!missing.ok()) {
    out.problems.push_back("baselines: " + missing.status().message());
  } else if (*missing > 0) {
    out.problems.push_back(std::to_string(*missing) +
                           " baseline revisions whose snapshot or root tree is missing");
  }
  out.checked.push_back("foreign keys and baseline roots");
  return out;
}

Result<StoreRecovery> RecoverAgentStore(Host& host, const std::string& path,
                                        int64_t max_reads_per_table) {
  DW_RETURN_IF_ERROR(agent::CheckStoreFile(host, path));
  const std::string fresh = path + ".recovering";
  DW_RETURN_IF_ERROR(RemoveStore(host, fresh));
  StoreRecovery out;
  if (Status s = BuildRecovered(host, path, fresh, max_reads_per_table, &out); !s.ok()) {
    RemoveStore(host, fresh).IgnoreError();
    return s;
  }
  out.damaged_copy = path + ".damaged-" + UtcStamp(host.NowNs());
  if (Status s = SwapIn(host, path, fresh, out.damaged_copy); !s.ok()) {
    RemoveStore(host, fresh).IgnoreError();
    return s;
  }
  return out;
}

}  // namespace driftwatch::report
