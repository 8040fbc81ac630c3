#include "collector/sqlite_util.h"

namespace driftwatch::collector {
namespace {

// SQLITE_FULL (the disk or filesystem holding the database is full) is
// retryable for the caller: the transaction was rolled back, nothing was
// stored, and the same request succeeds once space is freed. Everything else
// is an I/O error.
Status SqliteError(int rc, std::string message) {
  if ((rc & 0xff) == SQLITE_FULL) {
    return Status::Unavailable(message + " (the collector's database disk is full; nothing " +
                               "was stored, retry when space is freed)");
  }
  return Status::IoError(std::move(message));
}

}  // namespace

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, std::string("sqlite: ") + sqlite3_errmsg(db_));
}

Status Stmt::Run() {
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  if (p == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool read_only) {
  sqlite3* raw = nullptr;
  const int mode = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, mode | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Db> db(new Db(raw));
  if (rc != SQLITE_OK) {
    return Status::IoError(path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

Result<std::unique_ptr<Stmt>> Db::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) !=
        SQLITE_OK) {
      return Error("prepare");
    }
    it = cache_.emplace(sql, s).first;
  }
  return std::make_unique<Stmt>(db_, it->second);
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return SqliteError(rc, "sqlite: " + msg);
  }
  return Status::Ok();
}

Status Db::Error(std::string_view what) const {
  return SqliteError(sqlite3_extended_errcode(db_),
                     "sqlite " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

}  // namespace driftwatch::collector
