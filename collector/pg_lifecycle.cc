// The fleet lifecycle in the PostgreSQL fleet store (pg_lifecycle.h).
#include "collector/pg_lifecycle.h"

#include "collector/auth.h"
#include "collector/pg_events.h"
#include "collector/store_rows.h"

namespace driftwatch::collector::pg_lifecycle {
namespace {

// The tables that hold rows of a host, by their host column, with the
// names of their prepared DELETE and UPDATE; `events` and `alerts` are
// handled apart (event counts, alerts of events).
struct HostTable {
  const char* table;
  const char* remove;
  const char* rename;
};
constexpr HostTable kHostTables[] = {
    {"reports", "host_rm_reports", "host_mv_reports"},
    {"commands", "host_rm_commands", "host_mv_commands"},
    {"host_inventory", "host_rm_inventory", "host_mv_inventory"},
    {"host_packages", "host_rm_packages", "host_mv_packages"},
    {"host_containers", "host_rm_containers", "host_mv_containers"},
    {"host_baselines", "host_rm_baselines", "host_mv_baselines"},
    {"host_report_status", "host_rm_status", "host_mv_status"},
    {"chain_hosts", "host_rm_chain_hosts", "host_mv_chain_hosts"},
    {"chain_records", "host_rm_chain_records", "host_mv_chain_records"},
    {"chain_baselines", "host_rm_chain_baselines", "host_mv_chain_baselines"},
    {"integrity_alerts", "host_rm_integrity_alerts", "host_mv_integrity_alerts"},
    {"host_trees", "host_rm_trees", "host_mv_trees"},
    {"host_tree_history", "host_rm_tree_history", "host_mv_tree_history"},
};

// Holds the ingest lock (no report is stored meanwhile) and the host's row;
// whether the host exists.
Result<bool> LockHost(PgConn& c, const std::string& host_id) {
  DW_RETURN_IF_ERROR(
      c.Exec("ingest_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgIngestLock)}).status());
  DW_ASSIGN_OR_RETURN(
      auto r, c.Exec("host_lock", "SELECT 1 FROM hosts WHERE id = $1 FOR UPDATE", {host_id}));
  return r.size() > 0;
}

}  // namespace

Status AddToken(PgConn& c, const std::string& sha, Role role, const std::string& host_id,
                int64_t now_ns, const TokenLimits& limits) {
  return c
      .Exec("token_add",
            "INSERT INTO tokens(sha256, id, role, host_id, created_ns, uses_left, expires_ns) "
            "VALUES($1, $2, $3, $4, $5, $6, $7)",
            {sha, TokenId(sha), std::string(RoleName(role)), host_id, PgInt(now_ns),
             PgInt(limits.uses_left), PgInt(limits.expires_ns)})
      .status();
}

Result<std::optional<TokenInfo>> LookupToken(PgConn& c, const std::string& sha) {
  static const std::string sql =
      std::string("SELECT ") + store_rows::kTokenColumns + " FROM tokens WHERE sha256 = $1";
  DW_ASSIGN_OR_RETURN(auto r, c.Exec("token_get", sql.c_str(), {sha}));
  if (r.size() == 0) return std::optional<TokenInfo>();
  DW_ASSIGN_OR_RETURN(TokenInfo info, store_rows::ReadToken(PgRow(r, 0)));
  return std::optional<TokenInfo>(std::move(info));
}

Result<std::vector<TokenRecord>> ListTokens(PgConn& c) {
  static const std::string sql = std::string("SELECT ") + store_rows::kTokenRecordColumns +
                                 " FROM tokens ORDER BY created_ns, id COLLATE \"C\", "
                                 "sha256 COLLATE \"C\"";
  DW_ASSIGN_OR_RETURN(auto r, c.Exec("token_list", sql.c_str(), {}));
  std::vector<TokenRecord> out;
  for (int i = 0; i < r.size(); ++i) {
    DW_ASSIGN_OR_RETURN(TokenRecord t, store_rows::ReadTokenRecord(PgRow(r, i)));
    out.push_back(std::move(t));
  }
  return out;
}

Result<int64_t> RevokeToken(PgConn& c, const std::string& id, int64_t now_ns) {
  // One statement: the UPDATE's rows and the earlier revocations together.
  DW_ASSIGN_OR_RETURN(auto r,
                      c.Exec("token_revoke",
                             "WITH u AS (UPDATE tokens SET revoked_ns = $2 WHERE id = $1 AND "
                             "revoked_ns = 0 RETURNING revoked_ns) "
                             "SELECT min(v) FROM (SELECT revoked_ns AS v FROM u UNION ALL "
                             "SELECT revoked_ns FROM tokens WHERE id = $1 AND revoked_ns <> 0) x",
                             {id, PgInt(now_ns)}));
  if (r.size() == 0 || r.IsNull(0, 0)) return Status::NotFound("unknown token id '" + id + "'");
  return r.Int(0, 0);
}

Status TouchToken(PgConn& c, const std::string& sha, int64_t now_ns) {
  return c
      .Exec("token_touch",
            "UPDATE tokens SET last_used_ns = $2 WHERE sha256 = $1 AND last_used_ns < $2",
            {sha, PgInt(now_ns)})
      .status();
}

Status EnrollHost(PgConn& c, const std::string& host_id, const std::string& group,
                  const std::string& agent_version, const std::string& token_sha, int64_t now_ns,
                  const std::string& enroll_sha) {
  PgTx tx(c);
  DW_RETURN_IF_ERROR(tx.Begin());
  DW_ASSIGN_OR_RETURN(
      auto h, c.Exec("host_lock", "SELECT 1 FROM hosts WHERE id = $1 FOR UPDATE", {host_id}));
  const bool exists = h.size() > 0;
  if (!enroll_sha.empty()) {
    // FOR UPDATE: a concurrent enrollment with the same token waits here
    // until this transaction ends, then sees the use it took.
    DW_ASSIGN_OR_RETURN(auto t, c.Exec("enroll_token_lock",
                                       "SELECT role, host_id, uses_left, expires_ns, revoked_ns "
                                       "FROM tokens WHERE sha256 = $1 AND role IN ('enroll', "
                                       "'admin', 'reenroll') FOR UPDATE",
                                       {enroll_sha}));
    if (t.size() == 0) return Status::PermissionDenied("unknown enroll token");
    if (t.Int(0, 4) != 0) return Status::PermissionDenied("the enroll token was revoked");
    const bool reenroll = t.Text(0, 0) == "reenroll";
    if (reenroll && t.Text(0, 1) != host_id) {
      return Status::PermissionDenied("this re-enroll token is for host '" + t.Text(0, 1) + "'");
    }
    if (exists && !reenroll) {
      return Status::AlreadyExists("host '" + host_id + "' is already enrolled");
    }
    const TokenLimits limits{t.Int(0, 2), t.Int(0, 3)};
    DW_RETURN_IF_ERROR(CheckTokenLimits(limits, now_ns));
    if (limits.uses_left > 0) {
      DW_RETURN_IF_ERROR(c.Exec("enroll_token_use",
                                "UPDATE tokens SET uses_left = uses_left - 1 WHERE sha256 = $1",
                                {enroll_sha})
                             .status());
    }
  } else if (exists) {
    return Status::AlreadyExists("host '" + host_id + "' is already enrolled");
  }
  if (exists) {
    DW_RETURN_IF_ERROR(c.Exec("reenroll_revoke",
                              "UPDATE tokens SET revoked_ns = $2 WHERE host_id = $1 AND "
                              "role = 'agent' AND revoked_ns = 0",
                              {host_id, PgInt(now_ns)})
                           .status());
    DW_RETURN_IF_ERROR(c.Exec("reenroll_host",
                              "UPDATE hosts SET grp = $2, agent_version = $3, "
                              "last_seen_ns = greatest(last_seen_ns, $4) WHERE id = $1",
                              {host_id, group, agent_version, PgInt(now_ns)})
                           .status());
  } else {
    DW_ASSIGN_OR_RETURN(auto ins, c.Exec("host_insert",
                                         "INSERT INTO hosts(id, grp, agent_version, enrolled_ns, "
                                         "last_seen_ns) VALUES($1, $2, $3, $4, $4) "
                                         "ON CONFLICT (id) DO NOTHING",
                                         {host_id, group, agent_version, PgInt(now_ns)}));
    if (ins.affected() == 0) {
      return Status::AlreadyExists("host '" + host_id + "' is already enrolled");
    }
  }
  DW_RETURN_IF_ERROR(AddToken(c, token_sha, Role::kAgent, host_id, now_ns, TokenLimits{}));
  return tx.Commit();
}

Status RemoveHost(PgConn& c, const std::string& host_id, int64_t now_ns) {
  PgTx tx(c);
  DW_RETURN_IF_ERROR(tx.Begin());
  DW_ASSIGN_OR_RETURN(const bool exists, LockHost(c, host_id));
  if (!exists) return Status::NotFound("unknown host '" + host_id + "'");
  DW_RETURN_IF_ERROR(c.Exec("host_rm_events",
                            "WITH gone AS (DELETE FROM events WHERE host_id = $1 "
                            "RETURNING id, severity), "
                            "al AS (DELETE FROM alerts WHERE event_id IN (SELECT id FROM gone)), "
                            "cnt AS (SELECT greatest(1, least(4, severity)) AS severity, "
                            "count(*) AS n FROM gone GROUP BY 1) "
                            "UPDATE event_counts SET n = event_counts.n - cnt.n FROM cnt "
                            "WHERE event_counts.severity = cnt.severity",
                            {host_id})
                         .status());
  for (const HostTable& t : kHostTables) {
    const std::string sql = std::string("DELETE FROM ") + t.table + " WHERE host_id = $1";
    DW_RETURN_IF_ERROR(c.Exec(t.remove, sql.c_str(), {host_id}).status());
  }
  DW_RETURN_IF_ERROR(c.Exec("host_rm", "DELETE FROM hosts WHERE id = $1", {host_id}).status());
  DW_RETURN_IF_ERROR(c.Exec("host_rm_tokens",
                            "UPDATE tokens SET revoked_ns = $2 WHERE host_id = $1 AND "
                            "revoked_ns = 0",
                            {host_id, PgInt(now_ns)})
                         .status());
  return tx.Commit();
}

Status RenameHost(PgConn& c, const std::string& from, const std::string& to) {
  PgTx tx(c);
  DW_RETURN_IF_ERROR(tx.Begin());
  DW_ASSIGN_OR_RETURN(const bool exists, LockHost(c, from));
  if (!exists) return Status::NotFound("unknown host '" + from + "'");
  DW_ASSIGN_OR_RETURN(auto ins, c.Exec("host_rename",
                                       "UPDATE hosts SET id = $2 WHERE id = $1 "
                                       "AND NOT EXISTS (SELECT 1 FROM hosts WHERE id = $2)",
                                       {from, to}));
  if (ins.affected() == 0) return Status::AlreadyExists("host '" + to + "' exists already");
  DW_RETURN_IF_ERROR(
      c.Exec("host_mv_events", "UPDATE events SET host_id = $2 WHERE host_id = $1", {from, to})
          .status());
  DW_RETURN_IF_ERROR(
      c.Exec("host_mv_tokens", "UPDATE tokens SET host_id = $2 WHERE host_id = $1", {from, to})
          .status());
  for (const HostTable& t : kHostTables) {
    const std::string sql =
        std::string("UPDATE ") + t.table + " SET host_id = $2 WHERE host_id = $1";
    DW_RETURN_IF_ERROR(c.Exec(t.rename, sql.c_str(), {from, to}).status());
  }
  return tx.Commit();
}

}  // namespace driftwatch::collector::pg_lifecycle
