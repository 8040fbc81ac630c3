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

// Tables copied by rowid, in an order that brings what a row points at
// before the row.
constexpr const char* kRowidTables[] = {"snapshots", "baselines",    "checks",
                                        "events",    "report_state", "report_outbox"};
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

// Copies rows of old.table with keys in [lo, hi] into main.table; a range
// that fails is halved until single keys, which are recorded as lost.
// Key is int64_t (rowid) or Key128 (16-byte blob ids).
template <typename Key, typename BindKey, typename Show>
void CopyRanges(Stmt& copy, Key lo, Key hi, BindKey bind, Show show, TableRecovery* out) {
  std::vector<std::pair<Key, Key>> todo = {{lo, hi}};
  int64_t statements = 0;
  std::optional<std::pair<Key, Key>> lost;  // the last lost range, merged as it grows
  auto flush_lost = [&] {
    if (lost) out->lost_ranges.push_back(show(lost->first) + ".." + show(lost->second));
    lost.reset();
  };
  while (!todo.empty()) {
    auto [a, b] = todo.back();
    todo.pop_back();
    if (++statements > kMaxRecoverStatements) {
      out->note = "stopped after " + std::to_string(kMaxRecoverStatements) + " reads";
      break;
    }
    copy.Reset();
    bind(copy, 1, a);
    bind(copy, 2, b);
    if (copy.Run().ok()) {
      flush_lost();
      continue;
    }
    if (a == b) {
      if (lost && lost->second + 1 == a) {
        lost->second = a;
      } else {
        flush_lost();
        lost = std::pair{a, a};
      }
      continue;
    }
    const Key mid = a + (b - a) / 2;
    todo.emplace_back(mid + 1, b);  // the lower half first
    todo.emplace_back(a, mid);
  }
  flush_lost();
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

Status RecoverRowidTable(Db& db, const std::string& table, TableRecovery* out) {
  DW_ASSIGN_OR_RETURN(std::vector<std::string> cols, Columns(db, "main", table));
  const std::string list = Join(cols);
  int64_t lo = 1, hi = int64_t{1} << 62;
  if (auto q = db.Prepare("SELECT min(rowid), max(rowid) FROM old." + Quoted(table)); q.ok()) {
    if (auto row = q->Step(); row.ok() && *row && !q->IsNull(0)) {
      lo = q->Int(0);
      hi = q->Int(1);
    } else if (row.ok() && *row) {
      return Status::Ok();  // empty
    }
  }
  DW_ASSIGN_OR_RETURN(Stmt copy,
                      db.Prepare("INSERT OR IGNORE INTO main." + Quoted(table) + "(rowid, " + list +
                                 ") SELECT rowid, " + list + " FROM old." + Quoted(table) +
                                 " WHERE rowid BETWEEN ? AND ?"));
  CopyRanges<int64_t>(
      copy, lo, hi, [](Stmt& s, int i, int64_t k) { s.Bind(i, k); },
      [](int64_t k) { return std::to_string(k); }, out);
  return Status::Ok();
}

Status RecoverTrees(Db& db, TableRecovery* out) {
  DW_ASSIGN_OR_RETURN(Stmt copy, db.Prepare("INSERT OR IGNORE INTO main.trees(id, data)"
                                            " SELECT id, data FROM old.trees"
                                            " WHERE id BETWEEN ? AND ?"));
  CopyRanges<Key128>(
      copy, 0, ~static_cast<Key128>(0), [](Stmt& s, int i, Key128 k) { s.BindBlob(i, Blob16(k)); },
      Hex16, out);
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

Result<StoreRecovery> RecoverAgentStore(Host& host, const std::string& path) {
  DW_RETURN_IF_ERROR(agent::CheckStoreFile(host, path));
  const std::string fresh = path + ".recovering";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    DW_RETURN_IF_ERROR(RemoveIfThere(host, fresh + suffix));
  }
  // The schema of both components, made the way the agent makes them.
  { DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, fresh)); }
  { DW_ASSIGN_OR_RETURN(auto outbox, Outbox::Open(fresh)); }

  StoreRecovery out;
  {
    sqlite::DbOptions options = agent::AgentDbOptions();
    options.foreign_keys = false;  // rows are copied before what they point at is known lost
    options.uri = true;
    DW_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(fresh, options));
    DW_ASSIGN_OR_RETURN(Stmt attach, db->Prepare("ATTACH DATABASE ? AS old"));
    DW_RETURN_IF_ERROR(attach.Bind(1, ReadOnlyUri(path)).Run());
    TableRecovery trees;
    trees.table = "trees";
    DW_RETURN_IF_ERROR(RecoverTrees(*db, &trees));
    out.tables.push_back(std::move(trees));
    for (const char* table : kRowidTables) {
      TableRecovery t;
      t.table = table;
      DW_RETURN_IF_ERROR(RecoverRowidTable(*db, table, &t));
      out.tables.push_back(std::move(t));
    }
    TableRecovery cache;
    cache.table = "stat_cache";
    cache.note = "not copied: a cache, rebuilt by the next check";
    out.tables.push_back(std::move(cache));
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
      for (TableRecovery& t : out.tables) {
        if (t.table == table && std::string(sql).rfind("DELETE", 0) == 0) t.dropped = db->Changes();
      }
    }
    for (TableRecovery& t : out.tables) {
      if (t.table == "stat_cache") continue;
      DW_ASSIGN_OR_RETURN(t.kept, Count(*db, "SELECT count(*) FROM " + Quoted(t.table)));
    }
    DW_RETURN_IF_ERROR(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  out.damaged_copy = path + ".damaged-" + UtcStamp(host.NowNs());
  for (const char* suffix : {"-wal", "-shm"}) {
    Status s = host.Rename(path + suffix, out.damaged_copy + suffix);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  DW_RETURN_IF_ERROR(host.Rename(path, out.damaged_copy));
  for (const char* suffix : {"-wal", "-shm"}) {
    DW_RETURN_IF_ERROR(RemoveIfThere(host, fresh + suffix));
  }
  DW_RETURN_IF_ERROR(host.Rename(fresh, path));
  return out;
}

}  // namespace driftwatch::report
