// Thin RAII layer over libpq for the PostgreSQL fleet store: one connection
// with its prepared statements, and a fixed-size pool of them.
//
// Every statement that carries values goes through Exec(name, sql, params):
// it is prepared once per connection under `name` and executed with text
// parameters; values are never spliced into SQL. ExecScript runs fixed SQL
// (schema, transaction control) without parameters.
//
// A failed statement is kUnavailable when the connection is gone or the
// server lacks resources (SQLSTATE class 53; 53100, a full disk, says that
// nothing was stored), which the API answers with 503 so agents retry;
// kAlreadyExists for a unique violation (23505); kIoError otherwise.
//
// Thread-safety: PgConn is not thread-safe (one user at a time, which the
// pool guarantees); PgPool is thread-safe.
#ifndef DRIFTWATCH_COLLECTOR_PG_CONN_H_
#define DRIFTWATCH_COLLECTOR_PG_CONN_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

struct pg_conn;
struct pg_result;

namespace driftwatch::collector {

// One statement parameter in text form; nullopt binds SQL NULL.
using PgParam = std::optional<std::string>;
inline PgParam PgInt(int64_t v) { return std::to_string(v); }
// One-dimensional array literals for $n::text[] ('{"a","b"}': every element
// quoted, `"` and `\` escaped, so any text round-trips) and $n::bigint[] or
// ::int[] parameters; {} when empty.
std::string PgArray(const std::vector<std::string>& items);
std::string PgIntArray(const std::vector<int64_t>& items);
// The same with NULL elements for nullopt.
std::string PgNullableArray(const std::vector<std::optional<std::string>>& items);
std::string PgNullableIntArray(const std::vector<std::optional<int64_t>>& items);

// An owned query result.
class PgRows {
 public:
  explicit PgRows(pg_result* r) : r_(r) {}
  PgRows(PgRows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgRows& operator=(PgRows&& o) noexcept;
  PgRows(const PgRows&) = delete;
  PgRows& operator=(const PgRows&) = delete;
  ~PgRows();

  int size() const;
  int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;  // 0 for NULL

 private:
  pg_result* r_;
};

// Row `row` of a PgRows as a store_rows::Row (booleans come as "t" and
// "f"). Borrows the result.
class PgRow {
 public:
  PgRow(const PgRows& rows, int row) : rows_(rows), row_(row) {}
  std::string Text(int col) const { return rows_.Text(row_, col); }
  int64_t Int(int col) const { return rows_.Int(row_, col); }
  bool Bool(int col) const { return rows_.Text(row_, col) == "t"; }

 private:
  const PgRows& rows_;
  int row_;
};

class PgConn {
 public:
  // Connects; kUnavailable with libpq's message when it cannot.
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& conninfo,
                                                 int connect_timeout_s);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  Result<PgRows> Exec(const char* name, const char* sql, const std::vector<PgParam>& params);
  Status ExecScript(const std::string& sql);
  // SQLSTATE of the last failed statement ("" when none).
  const std::string& last_sqlstate() const { return sqlstate_; }
  // True when the connection is no longer usable (server gone).
  bool broken() const;

 private:
  explicit PgConn(pg_conn* c) : c_(c) {}
  Status Fail(pg_result* r, const std::string& what);

  pg_conn* c_;
  std::set<std::string> prepared_;
  std::string sqlstate_;
};

// A transaction on a borrowed connection: rolls back unless committed.
class PgTx {
 public:
  explicit PgTx(PgConn& c) : c_(c) {}
  ~PgTx();
  // BEGIN, followed in the same round trip by `then` (fixed SQL such as
  // SET LOCAL) when given.
  Status Begin(const std::string& then = "");
  Status Commit();

 private:
  PgConn& c_;
  bool open_ = false;
};

class PgPool {
 public:
  // Opens `size` connections up front.
  static Result<std::unique_ptr<PgPool>> Open(const std::string& conninfo, int size,
                                              int connect_timeout_s);

  // A borrowed connection, returned to the pool (or replaced when broken) on
  // destruction.
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConn> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), c_(std::move(o.c_)) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConn& operator*() { return *c_; }
    PgConn* operator->() { return c_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConn> c_;
  };

  // Blocks until a connection is free; reconnects a dropped one (fails with
  // kUnavailable when the server is unreachable).
  Result<Lease> Acquire();

 private:
  PgPool(std::string conninfo, int timeout) : conninfo_(std::move(conninfo)), timeout_(timeout) {}
  void Return(std::unique_ptr<PgConn> c);

  const std::string conninfo_;
  const int timeout_;
  std::mutex mu_;  // guards free_, missing_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> free_;
  int missing_ = 0;  // slots whose connection was dropped and not yet replaced
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_CONN_H_
