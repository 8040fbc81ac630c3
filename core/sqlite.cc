#include "core/sqlite.h"

#include <sqlite3.h>

#include <cassert>
#include <utility>

namespace driftwatch::sqlite {
namespace {

// SQL quoted in messages is cut here: enough to recognise the statement.
constexpr size_t kQuotedSqlBytes = 160;

std::string Quote(std::string_view sql) {
  std::string out = "'";
  if (sql.size() > kQuotedSqlBytes) {
    out.append(sql.substr(0, kQuotedSqlBytes));
    out += "...";
  } else {
    out.append(sql);
  }
  return out + "'";
}

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_TOOBIG:
    case SQLITE_NOMEM:
      return StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kCorruption;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return StatusCode::kPermissionDenied;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return StatusCode::kAlreadyExists;
    case SQLITE_RANGE:
    case SQLITE_MISUSE:
      return StatusCode::kInternal;
    default:
      return StatusCode::kIoError;
  }
}

bool OnlySpaceOrSemicolons(const char* p) {
  for (; p != nullptr && *p != '\0'; ++p) {
    if (*p != ';' && *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') return false;
  }
  return true;
}

}  // namespace

// ---- Stmt ----

Stmt::Stmt(Stmt&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)),
      stmt_(std::exchange(o.stmt_, nullptr)),
      sql_(o.sql_),
      bind_error_(std::move(o.bind_error_)) {}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    GiveBack();
    db_ = std::exchange(o.db_, nullptr);
    stmt_ = std::exchange(o.stmt_, nullptr);
    sql_ = o.sql_;
    bind_error_ = std::move(o.bind_error_);
  }
  return *this;
}

Stmt::~Stmt() { GiveBack(); }

void Stmt::GiveBack() {
  if (stmt_ == nullptr) return;
  db_->GiveBack(stmt_, sql_);
  stmt_ = nullptr;
  db_ = nullptr;
}

Stmt& Stmt::KeepBindError(int i, int rc) {
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = db_->MakeError(rc, "bind parameter " + std::to_string(i) + " of " + Quote(*sql_) +
                                         ": " + sqlite3_errstr(rc));
  }
  return *this;
}

Stmt& Stmt::BindInt64(int i, int64_t v) {
  return KeepBindError(i, sqlite3_bind_int64(stmt_, i, v));
}

Stmt& Stmt::Bind(int i, double v) { return KeepBindError(i, sqlite3_bind_double(stmt_, i, v)); }

Stmt& Stmt::Bind(int i, std::string_view text) {
  return KeepBindError(
      i, sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  // A null pointer would bind NULL: an empty blob must stay a blob.
  static const char kEmpty = 0;
  return KeepBindError(i, sqlite3_bind_blob64(stmt_, i, bytes.empty() ? &kEmpty : bytes.data(),
                                              bytes.size(), SQLITE_TRANSIENT));
}

Stmt& Stmt::BindNull(int i) { return KeepBindError(i, sqlite3_bind_null(stmt_, i)); }

Result<bool> Stmt::Step() {
  if (!bind_error_.ok()) return bind_error_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->LastError(rc);
}

Status Stmt::Run() {
  Status s;
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) {
      s = row.status();
      break;
    }
    if (!*row) break;
  }
  Reset();
  return s;
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

double Stmt::Double(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);  // after the conversion above
  if (p == nullptr || n <= 0) return std::string();
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

std::string Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return std::string();
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// ---- Db ----

Db::Db(sqlite3* db, std::string path, DbOptions options)
    : db_(db), path_(std::move(path)), options_(std::move(options)) {}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, const DbOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX;  // the owner serializes access (header)
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0);
  }
  if (options.uri) flags |= SQLITE_OPEN_URI;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // The handle is closed by ~Db even when the open failed.
  std::unique_ptr<Db> db(new Db(raw, path, options));
  if (rc != SQLITE_OK) {
    const std::string name = options.name.empty() ? path : options.name;
    const std::string msg = name + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    const int err = raw ? sqlite3_system_errno(raw) : 0;
    if (options.codes == ErrorCodes::kIoError) {
      return Status::IoError(err != 0 ? ErrnoStatus(msg, err).message() : msg);
    }
    if (err != 0) return ErrnoStatus(msg, err);
    return (rc & 0xff) == SQLITE_CANTOPEN ? Status::NotFound(msg) : db->MakeError(rc, msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  DW_RETURN_IF_ERROR(db->ApplyOptions());
  return db;
}

Status Db::ApplyOptions() {
  if (options_.exclusive) DW_RETURN_IF_ERROR(SetPragma("locking_mode", "EXCLUSIVE"));
  if (options_.wal && !options_.read_only) {
    DW_RETURN_IF_ERROR(SetPragma("journal_mode", "WAL"));
    DW_RETURN_IF_ERROR(SetPragma("synchronous", "NORMAL"));
  }
  if (options_.foreign_keys) DW_RETURN_IF_ERROR(SetPragma("foreign_keys", "ON"));
  if (options_.cache_kib > 0) {
    DW_RETURN_IF_ERROR(SetPragma("cache_size", std::to_string(-options_.cache_kib)));
  }
  return Status::Ok();
}

Db::~Db() {
  assert(borrowed_ == 0 && "a Stmt outlives its Db");
  for (auto& [sql, idle] : cache_) {
    for (sqlite3_stmt* s : idle) sqlite3_finalize(s);
  }
  sqlite3_close_v2(db_);
}

Status Db::MakeError(int rc, std::string_view detail) const {
  std::string msg = (options_.name.empty() ? path_ : options_.name) + ": " + std::string(detail);
  if ((rc & 0xff) == SQLITE_FULL && !options_.full_disk_note.empty()) {
    return Status::Unavailable(msg + " (" + options_.full_disk_note + ")");
  }
  if (options_.codes == ErrorCodes::kIoError) return Status::IoError(std::move(msg));
  return Status(CodeFor(rc), std::move(msg));
}

Status Db::LastError(int rc) const { return MakeError(rc, sqlite3_errmsg(db_)); }

Result<Stmt> Db::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end() && !it->second.empty()) {
    sqlite3_stmt* s = it->second.back();
    it->second.pop_back();
    --idle_count_;
    ++borrowed_;
    return Stmt(this, s, &it->first);
  }
  sqlite3_stmt* s = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, &tail);
  if (rc != SQLITE_OK) {
    return MakeError(rc, "prepare " + Quote(sql) + ": " + sqlite3_errmsg(db_));
  }
  const char* end = sql.data() + sql.size();
  std::string rest = tail != nullptr && tail < end ? std::string(tail, end) : std::string();
  if (s == nullptr || !OnlySpaceOrSemicolons(rest.c_str())) {
    sqlite3_finalize(s);
    return Status::InvalidArgument(
        (options_.name.empty() ? path_ : options_.name) + ": prepare " + Quote(sql) +
        (s == nullptr ? ": no SQL statement" : ": more than one statement (Exec runs scripts)"));
  }
  if (it == cache_.end()) it = cache_.emplace(std::string(sql), std::vector<sqlite3_stmt*>()).first;
  ++borrowed_;
  return Stmt(this, s, &it->first);
}

void Db::GiveBack(sqlite3_stmt* stmt, const std::string* sql) {
  --borrowed_;
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (idle_count_ >= kMaxIdleStatements) {
    sqlite3_finalize(stmt);
    return;
  }
  cache_.find(*sql)->second.push_back(stmt);
  ++idle_count_;
}

Status Db::Exec(std::string_view sql) {
  const std::string copy(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return MakeError(rc, msg);
  }
  return Status::Ok();
}

Status Db::SetPragma(std::string_view name, std::string_view value) {
  return Exec("PRAGMA " + std::string(name) + "=" + std::string(value));
}

Result<std::string> Db::Pragma(std::string_view name) {
  DW_ASSIGN_OR_RETURN(Stmt q, Prepare("PRAGMA " + std::string(name)));
  DW_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Text(0) : std::string();
}

int64_t Db::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

// ---- Transaction ----

Result<Transaction> Transaction::Begin(Db& db, Mode mode) {
  DW_RETURN_IF_ERROR(db.Exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}

Transaction::~Transaction() {
  if (db_ != nullptr) db_->Exec("ROLLBACK").IgnoreError();
}

Status Transaction::Commit() {
  assert(db_ != nullptr && "Commit of a finished transaction");
  DW_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  db_ = nullptr;
  return Status::Ok();
}

}  // namespace driftwatch::sqlite
