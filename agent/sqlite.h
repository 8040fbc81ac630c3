// Thin RAII wrappers over the SQLite C API: a connection and prepared
// statements. Every error becomes a Status naming the database file.
//
// Thread-safety: a Db may be shared only under the owner's mutex; a Stmt
// belongs to one thread at a time.
#ifndef DRIFTWATCH_AGENT_SQLITE_H_
#define DRIFTWATCH_AGENT_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch::agent {

class Db;

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view text);       // TEXT
  Stmt& BindBlob(int i, std::string_view bytes);  // BLOB
  Stmt& BindNull(int i);

  // Steps once: true with a row, false when done.
  Result<bool> Step();
  // Steps to completion (for statements without rows).
  Status Run();
  void Reset();

  int64_t Int(int col) const;
  std::string Text(int col) const;  // TEXT or BLOB bytes
  bool IsNull(int col) const;

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // Opens (creating) the database at path in WAL mode with a busy timeout.
  // `exclusive`: locking_mode=EXCLUSIVE, set before the first read: the
  // connection keeps the WAL index in its own memory instead of the -shm
  // file (which cannot be created on a full disk) and locks other
  // connections out until it closes.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool read_only = false,
                                          bool exclusive = false);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Result<Stmt> Prepare(std::string_view sql);
  Status Exec(std::string_view sql);  // for schema and pragmas only (no parameters)
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int64_t Changes() const { return sqlite3_changes64(db_); }
  Status Error(std::string_view what) const;  // the connection's last error
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// Runs a transaction: BEGIN IMMEDIATE, fn, COMMIT (ROLLBACK on error).
template <typename Fn>
Status InTransaction(Db& db, Fn&& fn) {
  DW_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status s = fn();
  if (!s.ok()) {
    db.Exec("ROLLBACK").IgnoreError();
    return s;
  }
  s = db.Exec("COMMIT");
  if (!s.ok()) db.Exec("ROLLBACK").IgnoreError();
  return s;
}

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_SQLITE_H_
