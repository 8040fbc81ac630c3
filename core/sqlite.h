// SQLite: the one wrapper of the SQLite C API in driftwatch (the agent's
// store and outbox, the collector's SQLite store, rpm's database).
//
// A Db is one connection, opened with DbOptions (flags, busy timeout, the
// pragmas its owner wants) and closed on destruction. Db::Prepare hands out a
// Stmt from the connection's statement cache, keyed by the SQL text: a Stmt
// borrows a prepared statement and gives it back, reset and with its
// bindings cleared, when it is destroyed; the next Prepare of the same text
// reuses it. Two Stmts of one text alive at once are two statements.
//
// Errors are Status values whose message is "NAME: SQLite's message", NAME
// being DbOptions::name or else the path; prepare and bind errors also quote
// the SQL. A Bind never fails on its own: the first bind error of a
// statement is kept, and Step/Run return it without running the statement
// (Reset forgets it). Codes: see DbOptions::codes.
//
// Ownership: a Db owns its cached statements. A Stmt and a Transaction
// borrow their Db and must be destroyed before it (checked by an assert).
//
// Thread-safety: none. A Db with its Stmts and Transactions is used by one
// thread at a time (its owner's mutex); SQLite's own connection mutex is off.
// Separate Dbs, of one file or not, may be used from separate threads.
#ifndef DRIFTWATCH_CORE_SQLITE_H_
#define DRIFTWATCH_CORE_SQLITE_H_

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace driftwatch::sqlite {

// How SQLite result codes become StatusCodes.
enum class ErrorCodes {
  // The closest code: a full disk kResourceExhausted, corruption
  // kCorruption, a read-only file kPermissionDenied, a lock held past the
  // busy timeout kUnavailable, a constraint kAlreadyExists, a bind index out
  // of range kInternal, anything else kIoError. An open that fails with an
  // OS error takes the code of its errno (ErrnoStatus).
  kByCause,
  // kIoError for everything: for callers that map store failures themselves.
  kIoError,
};

struct DbOptions {
  bool read_only = false;  // SQLITE_OPEN_READONLY: the file must exist
  bool create = true;      // create a missing file (not with read_only)
  bool uri = false;        // the path is a "file:" URI (SQLITE_OPEN_URI)
  int busy_timeout_ms = 10000;
  // locking_mode=EXCLUSIVE, set before the first read: the connection keeps
  // the WAL index in its own memory instead of the -shm file (which cannot
  // be created on a full disk) and locks other connections out until it
  // closes.
  bool exclusive = false;
  bool wal = false;           // journal_mode=WAL, synchronous=NORMAL (not read-only)
  bool foreign_keys = false;  // foreign_keys=ON
  int cache_kib = 0;          // cache_size=-cache_kib when > 0
  std::string name;           // names the database in messages; "" = the path
  ErrorCodes codes = ErrorCodes::kByCause;
  // When set, a full disk (SQLITE_FULL) is kUnavailable, with this note in
  // parentheses after the message: for a server whose clients retry (the
  // statement failed whole and its transaction rolls back).
  std::string full_disk_note;
};

class Db;

// A prepared statement borrowed from a Db's cache. Move-only.
class Stmt {
 public:
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();  // gives the statement back to its Db

  // Parameters are numbered from 1. Text and blobs are copied.
  template <std::integral T>
  Stmt& Bind(int i, T v) {
    return BindInt64(i, static_cast<int64_t>(v));
  }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view text);       // TEXT
  Stmt& BindBlob(int i, std::string_view bytes);  // BLOB, never NULL (even when empty)
  Stmt& BindNull(int i);

  // Steps once: true with a row, false when done. Returns the kept bind
  // error, if any, without stepping.
  Result<bool> Step();
  // Steps to completion (rows are skipped), then resets: the statement can
  // be bound and run again. Returns the kept bind error without running.
  Status Run();
  // Rewinds the statement, clears its bindings and the kept bind error.
  void Reset();

  // Columns of the current row, numbered from 0. NULL reads as 0 or "".
  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;  // the bytes of a TEXT (or BLOB) value
  std::string Blob(int col) const;  // the bytes of a BLOB (or TEXT) value, NULs kept
  bool IsNull(int col) const;

  // The SQL text it was prepared from.
  const std::string& sql() const { return *sql_; }

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* stmt, const std::string* sql) : db_(db), stmt_(stmt), sql_(sql) {}
  Stmt& BindInt64(int i, int64_t v);
  Stmt& KeepBindError(int i, int rc);
  void GiveBack();

  Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  const std::string* sql_ = nullptr;  // the cache's key, stable while db_ lives
  Status bind_error_;                 // the first, until Reset
};

class Db {
 public:
  // Opens `path` (or a "file:" URI with options.uri). Fails with the OS
  // error when there is one: a read-only open of a missing file is
  // kNotFound "PATH: unable to open database file: No such file or
  // directory".
  static Result<std::unique_ptr<Db>> Open(const std::string& path, const DbOptions& options = {});
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A statement for `sql` (one statement), from the cache or newly
  // prepared. Fails on SQL that does not compile, naming it.
  Result<Stmt> Prepare(std::string_view sql);
  // Runs a script of statements without parameters (schema, pragmas).
  Status Exec(std::string_view sql);
  // PRAGMA name=value, run to completion.
  Status SetPragma(std::string_view name, std::string_view value);
  // The first column of the first row of PRAGMA name ("" when none).
  Result<std::string> Pragma(std::string_view name);

  int64_t LastInsertId() const;
  int64_t Changes() const;  // rows changed by the last INSERT, UPDATE or DELETE
  const std::string& path() const { return path_; }
  // Statements prepared and cached, not handed out (for tests).
  size_t idle_statements() const { return idle_count_; }

 private:
  friend class Stmt;
  friend class Transaction;
  // Idle statements kept at most; more are finalized when given back.
  static constexpr size_t kMaxIdleStatements = 256;

  Db(sqlite3* db, std::string path, DbOptions options);
  Status ApplyOptions();
  // "NAME: detail" with the code for rc (see DbOptions).
  Status MakeError(int rc, std::string_view detail) const;
  Status LastError(int rc) const;  // detail: the connection's message
  void GiveBack(sqlite3_stmt* stmt, const std::string* sql);

  sqlite3* db_;
  const std::string path_;
  const DbOptions options_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> cache_;  // by SQL text
  size_t idle_count_ = 0;
  size_t borrowed_ = 0;  // Stmts alive
};

// A transaction, rolled back on destruction unless Commit() succeeded.
// Move-only; at most one per Db at a time (SQLite does not nest BEGIN).
class Transaction {
 public:
  enum class Mode {
    kDeferred,   // BEGIN: locks are taken by the first read or write
    kImmediate,  // BEGIN IMMEDIATE: the write lock now, waiting at most the busy timeout
  };
  static Result<Transaction> Begin(Db& db, Mode mode = Mode::kImmediate);
  Transaction(Transaction&& o) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // COMMIT. When it fails the transaction is still rolled back on
  // destruction.
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;  // null when moved from or committed
};

// Runs fn (returning Status) inside a Transaction::kImmediate; commits when
// fn succeeds, rolls back otherwise.
template <typename Fn>
Status InTransaction(Db& db, Fn&& fn) {
  DW_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
  DW_RETURN_IF_ERROR(fn());
  return tx.Commit();
}

}  // namespace driftwatch::sqlite

#endif  // DRIFTWATCH_CORE_SQLITE_H_
