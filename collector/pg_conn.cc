#include "collector/pg_conn.h"

#include <libpq-fe.h>

#include <cstdlib>

namespace driftwatch::collector {

PgRows& PgRows::operator=(PgRows&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}
PgRows::~PgRows() {
  if (r_) PQclear(r_);
}
int PgRows::size() const { return r_ ? PQntuples(r_) : 0; }
int64_t PgRows::affected() const {
  const char* n = r_ ? PQcmdTuples(r_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}
bool PgRows::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string PgRows::Text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
int64_t PgRows::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}

std::string PgArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::string PgNullableArray(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char ch : *items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::string PgNullableIntArray(const std::vector<std::optional<int64_t>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i] ? std::to_string(*items[i]) : std::string("NULL");
  }
  return out + "}";
}

std::string PgIntArray(const std::vector<int64_t>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(items[i]);
  }
  return out + "}";
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& conninfo,
                                                int connect_timeout_s) {
  const std::string timeout = std::to_string(connect_timeout_s);
  // expand_dbname lets `dbname` carry a whole URI or conninfo string.
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* vals[] = {conninfo.c_str(), timeout.c_str(), "driftwatch-collector", nullptr};
  pg_conn* c = PQconnectdbParams(keys, vals, 1);
  if (c == nullptr) return Status::ResourceExhausted("postgresql: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::Unavailable("postgresql: cannot connect: " + msg);
  }
  auto conn = std::unique_ptr<PgConn>(new PgConn(c));
  // Quiet NOTICEs (IF NOT EXISTS). Plan every execution with its values:
  // the store's queries fold unused filters away (pg_schema.h). A report is
  // acknowledged once its transaction commits, so the commit must be on
  // disk: synchronous_commit = off (a server default some tune for speed)
  // would lose acknowledged reports in a server crash; stronger settings
  // (remote_write, remote_apply) and `local` are kept.
  DW_RETURN_IF_ERROR(conn->ExecScript(
      "SET client_min_messages = warning; SET plan_cache_mode = force_custom_plan; "
      "SELECT set_config('synchronous_commit', 'on', false) "
      "WHERE current_setting('synchronous_commit') = 'off'"));
  return conn;
}

PgConn::~PgConn() { PQfinish(c_); }

bool PgConn::broken() const { return PQstatus(c_) != CONNECTION_OK; }

Status PgConn::Fail(pg_result* r, const std::string& what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state ? state : "";
  std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c_);
  if (r) PQclear(r);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string text = "postgresql: " + what + ": " + msg;
  if (broken()) return Status::Unavailable(text);
  if (sqlstate_ == "23505") return Status::AlreadyExists(text);
  // Class 53, insufficient resources (53100 disk_full: a table or index
  // could not grow; 53200 out of memory) is retryable, as SQLite's full
  // disk is: the statement failed whole, the caller's transaction rolls
  // back, and the same request succeeds once the server has room again. A
  // full pg_wal is not among them: the server PANICs and drops the
  // connection (broken() above).
  if (sqlstate_ == "53100") {
    return Status::Unavailable(text +
                               " (the collector's database disk is full; nothing was stored, "
                               "retry when space is freed)");
  }
  if (sqlstate_.rfind("53", 0) == 0) {
    return Status::Unavailable(text + " (the database server is out of resources, SQLSTATE " +
                               sqlstate_ + "; nothing was stored, retry later)");
  }
  return Status::IoError(text);
}

Result<PgRows> PgConn::Exec(const char* name, const char* sql, const std::vector<PgParam>& params) {
  if (!prepared_.count(name)) {
    pg_result* r = PQprepare(c_, name, sql, static_cast<int>(params.size()), nullptr);
    if (r == nullptr || PQresultStatus(r) != PGRES_COMMAND_OK) return Fail(r, name);
    PQclear(r);
    prepared_.insert(name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  pg_result* r =
      PQexecPrepared(c_, name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  if (r == nullptr) return Fail(nullptr, name);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Fail(r, name);
  sqlstate_.clear();
  return PgRows(r);
}

Status PgConn::ExecScript(const std::string& sql) {
  pg_result* r = PQexec(c_, sql.c_str());
  if (r == nullptr) return Fail(nullptr, "script");
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Fail(r, "script");
  PQclear(r);
  sqlstate_.clear();
  return Status::Ok();
}

PgTx::~PgTx() {
  if (open_) (void)c_.ExecScript("ROLLBACK");
}
Status PgTx::Begin(const std::string& then) {
  // Open even when `then` fails after BEGIN: the destructor rolls back (a
  // ROLLBACK outside a transaction only warns).
  open_ = true;
  return c_.ExecScript(then.empty() ? "BEGIN" : "BEGIN; " + then);
}
Status PgTx::Commit() {
  open_ = false;
  return c_.ExecScript("COMMIT");
}

Result<std::unique_ptr<PgPool>> PgPool::Open(const std::string& conninfo, int size,
                                             int connect_timeout_s) {
  if (size < 1 || size > 64) {
    return Status::InvalidArgument("postgresql pool size must be 1..64, got " +
                                   std::to_string(size));
  }
  auto pool = std::unique_ptr<PgPool>(new PgPool(conninfo, connect_timeout_s));
  for (int i = 0; i < size; ++i) {
    DW_ASSIGN_OR_RETURN(auto c, PgConn::Connect(conninfo, connect_timeout_s));
    pool->free_.push_back(std::move(c));
  }
  return pool;
}

PgPool::Lease::~Lease() {
  if (pool_) pool_->Return(std::move(c_));
}

Result<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !free_.empty() || missing_ > 0; });
  if (!free_.empty()) {
    auto c = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(c));
  }
  --missing_;
  lock.unlock();
  auto c = PgConn::Connect(conninfo_, timeout_);
  if (!c.ok()) {
    std::lock_guard<std::mutex> relock(mu_);
    ++missing_;
    cv_.notify_one();
    return c.status();
  }
  return Lease(this, std::move(c).value());
}

void PgPool::Return(std::unique_ptr<PgConn> c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (c == nullptr || c->broken()) {
    ++missing_;
  } else {
    free_.push_back(std::move(c));
  }
  cv_.notify_one();
}

}  // namespace driftwatch::collector
