// Thin RAII wrappers over the SQLite C API for the collector's store.
// No SQL lives here; statements come from sqlite_store.cc.
//
// Thread-safety: none; the owner serializes access.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_UTIL_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch::collector {

// A prepared statement borrowed from a Db's cache; reset on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Returns true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

class Db {
 public:
  // Opens (creating when missing) for reading and writing, or only for
  // reading an existing file when `read_only`.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool read_only = false);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A cached prepared statement for `sql` (a string literal or fixed text).
  Result<std::unique_ptr<Stmt>> Prepare(const std::string& sql);
  Status Exec(const std::string& sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  Status Error(std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

// Rolls back on destruction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction() {
    if (begun_ && !done_) db_.Exec("ROLLBACK").IgnoreError();
  }
  Status Begin() {
    DW_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    begun_ = true;
    return Status::Ok();
  }
  Status Commit() {
    DW_RETURN_IF_ERROR(db_.Exec("COMMIT"));
    done_ = true;
    return Status::Ok();
  }

 private:
  Db& db_;
  bool begun_ = false;
  bool done_ = false;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_UTIL_H_
