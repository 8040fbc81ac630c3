// The fleet lifecycle in the SQLite fleet store (sqlite_lifecycle.h).
#include "collector/sqlite_lifecycle.h"

#include "collector/auth.h"
#include "collector/sqlite_rows.h"
#include "collector/store_rows.h"

namespace driftwatch::collector::sqlite_lifecycle {
namespace {

using sqlite_rows::SqliteRow;

// The tables that hold rows of a host, by their host column; `events` and
// `alerts` are handled apart (event counts, alerts of events).
constexpr const char* kHostTables[] = {
    "reports",          "commands",        "host_inventory",     "host_packages",
    "host_containers",  "host_baselines",  "host_report_status", "chain_hosts",
    "chain_records",    "chain_baselines", "integrity_alerts",   "host_trees",
    "host_tree_history"};

Result<bool> HostExists(sqlite::Db& db, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT 1 FROM hosts WHERE id = ?"));
  s.Bind(1, host_id);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  s.Reset();
  return row;
}

}  // namespace

Status AddToken(sqlite::Db& db, const std::string& sha, Role role, const std::string& host_id,
                int64_t now_ns, const TokenLimits& limits) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO tokens(sha256, id, role, host_id, "
                                         "created_ns, uses_left, expires_ns) "
                                         "VALUES(?, ?, ?, ?, ?, ?, ?)"));
  return s.Bind(1, sha)
      .Bind(2, TokenId(sha))
      .Bind(3, RoleName(role))
      .Bind(4, host_id)
      .Bind(5, now_ns)
      .Bind(6, limits.uses_left)
      .Bind(7, limits.expires_ns)
      .Run();
}

Result<std::optional<TokenInfo>> LookupToken(sqlite::Db& db, const std::string& sha) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string("SELECT ") + store_rows::kTokenColumns +
                                         " FROM tokens WHERE sha256 = ?"));
  s.Bind(1, sha);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<TokenInfo>();
  DW_ASSIGN_OR_RETURN(TokenInfo info, store_rows::ReadToken(SqliteRow(s)));
  return std::optional<TokenInfo>(std::move(info));
}

Result<std::vector<TokenRecord>> ListTokens(sqlite::Db& db) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string("SELECT ") + store_rows::kTokenRecordColumns +
                                         " FROM tokens ORDER BY created_ns, id, sha256"));
  std::vector<TokenRecord> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    DW_ASSIGN_OR_RETURN(TokenRecord t, store_rows::ReadTokenRecord(SqliteRow(s)));
    out.push_back(std::move(t));
  }
  return out;
}

Result<int64_t> RevokeToken(sqlite::Db& db, const std::string& id, int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE tokens SET revoked_ns = ? "
                                           "WHERE id = ? AND revoked_ns = 0"));
    DW_RETURN_IF_ERROR(s.Bind(1, now_ns).Bind(2, id).Run());
  }
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT min(revoked_ns) FROM tokens WHERE id = ?"));
  s.Bind(1, id);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.IsNull(0)) return Status::NotFound("unknown token id '" + id + "'");
  const int64_t revoked = s.Int(0);
  s.Reset();
  DW_RETURN_IF_ERROR(tx.Commit());
  return revoked;
}

Status TouchToken(sqlite::Db& db, const std::string& sha, int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE tokens SET last_used_ns = max(last_used_ns, ?) "
                                         "WHERE sha256 = ?"));
  return s.Bind(1, now_ns).Bind(2, sha).Run();
}

Status EnrollHost(sqlite::Db& db, const std::string& host_id, const std::string& group,
                  const std::string& agent_version, const std::string& token_sha, int64_t now_ns,
                  const std::string& enroll_sha) {
  // BEGIN IMMEDIATE holds the write lock from here: the use counted below
  // cannot be taken by another process between the check and the update.
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  DW_ASSIGN_OR_RETURN(const bool exists, HostExists(db, host_id));
  bool reenroll = false;
  if (!enroll_sha.empty()) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT role, host_id, uses_left, expires_ns, "
                                           "revoked_ns FROM tokens WHERE sha256 = ? AND role IN "
                                           "('enroll', 'admin', 'reenroll')"));
    s.Bind(1, enroll_sha);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::PermissionDenied("unknown enroll token");
    if (s.Int(4) != 0) return Status::PermissionDenied("the enroll token was revoked");
    reenroll = s.Text(0) == "reenroll";
    if (reenroll && s.Text(1) != host_id) {
      return Status::PermissionDenied("this re-enroll token is for host '" + s.Text(1) + "'");
    }
    if (exists && !reenroll) {
      return Status::AlreadyExists("host '" + host_id + "' is already enrolled");
    }
    const TokenLimits limits{s.Int(2), s.Int(3)};
    s.Reset();
    DW_RETURN_IF_ERROR(CheckTokenLimits(limits, now_ns));
    if (limits.uses_left > 0) {
      DW_ASSIGN_OR_RETURN(auto u, db.Prepare("UPDATE tokens SET uses_left = uses_left - 1 "
                                             "WHERE sha256 = ?"));
      DW_RETURN_IF_ERROR(u.Bind(1, enroll_sha).Run());
    }
  } else if (exists) {
    return Status::AlreadyExists("host '" + host_id + "' is already enrolled");
  }
  if (exists) {
    DW_ASSIGN_OR_RETURN(auto r, db.Prepare("UPDATE tokens SET revoked_ns = ? WHERE host_id = ? "
                                           "AND role = 'agent' AND revoked_ns = 0"));
    DW_RETURN_IF_ERROR(r.Bind(1, now_ns).Bind(2, host_id).Run());
    DW_ASSIGN_OR_RETURN(auto h, db.Prepare("UPDATE hosts SET grp = ?, agent_version = ?, "
                                           "last_seen_ns = max(last_seen_ns, ?) WHERE id = ?"));
    DW_RETURN_IF_ERROR(
        h.Bind(1, group).Bind(2, agent_version).Bind(3, now_ns).Bind(4, host_id).Run());
  } else {
    DW_ASSIGN_OR_RETURN(auto h, db.Prepare("INSERT INTO hosts(id, grp, agent_version, "
                                           "enrolled_ns, last_seen_ns) VALUES(?, ?, ?, ?, ?)"));
    DW_RETURN_IF_ERROR(h.Bind(1, host_id)
                           .Bind(2, group)
                           .Bind(3, agent_version)
                           .Bind(4, now_ns)
                           .Bind(5, now_ns)
                           .Run());
  }
  DW_RETURN_IF_ERROR(AddToken(db, token_sha, Role::kAgent, host_id, now_ns, TokenLimits{}));
  return tx.Commit();
}

Status RemoveHost(sqlite::Db& db, const std::string& host_id, int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  DW_ASSIGN_OR_RETURN(const bool exists, HostExists(db, host_id));
  if (!exists) return Status::NotFound("unknown host '" + host_id + "'");
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE event_counts SET n = n - (SELECT count(*) "
                                           "FROM events e WHERE e.host_id = ?1 AND "
                                           "e.severity = event_counts.severity)"));
    DW_RETURN_IF_ERROR(s.Bind(1, host_id).Run());
  }
  for (const char* sql :
       {"DELETE FROM alerts WHERE event_id IN (SELECT id FROM events "
        "WHERE host_id = ?)",
        "DELETE FROM events WHERE host_id = ?", "DELETE FROM hosts WHERE id = ?"}) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare(sql));
    DW_RETURN_IF_ERROR(s.Bind(1, host_id).Run());
  }
  for (const char* table : kHostTables) {
    DW_ASSIGN_OR_RETURN(auto s,
                        db.Prepare(std::string("DELETE FROM ") + table + " WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, host_id).Run());
  }
  DW_ASSIGN_OR_RETURN(auto t, db.Prepare("UPDATE tokens SET revoked_ns = ? WHERE host_id = ? "
                                         "AND revoked_ns = 0"));
  DW_RETURN_IF_ERROR(t.Bind(1, now_ns).Bind(2, host_id).Run());
  return tx.Commit();
}

Status RenameHost(sqlite::Db& db, const std::string& from, const std::string& to) {
  DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  DW_ASSIGN_OR_RETURN(const bool exists, HostExists(db, from));
  if (!exists) return Status::NotFound("unknown host '" + from + "'");
  DW_ASSIGN_OR_RETURN(const bool taken, HostExists(db, to));
  if (taken) return Status::AlreadyExists("host '" + to + "' exists already");
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE hosts SET id = ? WHERE id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, to).Bind(2, from).Run());
  }
  for (const char* table : {"events", "tokens"}) {
    DW_ASSIGN_OR_RETURN(
        auto s, db.Prepare(std::string("UPDATE ") + table + " SET host_id = ? WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, to).Bind(2, from).Run());
  }
  for (const char* table : kHostTables) {
    DW_ASSIGN_OR_RETURN(
        auto s, db.Prepare(std::string("UPDATE ") + table + " SET host_id = ? WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, to).Bind(2, from).Run());
  }
  return tx.Commit();
}

}  // namespace driftwatch::collector::sqlite_lifecycle
