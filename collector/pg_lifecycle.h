// The fleet lifecycle in the PostgreSQL fleet store: tokens (added, listed,
// revoked, used), enrollment and re-enrollment, and hosts removed or renamed
// (store.h has the contracts; schema in pg_schema.cc,
// docs/store-postgresql.md). Used only by pg_store.cc; the functions that
// write several rows run their own transaction on the connection.
//
// Thread-safety: as the PgConn borrowed (one user at a time).
#ifndef DRIFTWATCH_COLLECTOR_PG_LIFECYCLE_H_
#define DRIFTWATCH_COLLECTOR_PG_LIFECYCLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/pg_conn.h"
#include "collector/store.h"

namespace driftwatch::collector::pg_lifecycle {

Status AddToken(PgConn& c, const std::string& sha, Role role, const std::string& host_id,
                int64_t now_ns, const TokenLimits& limits);
Result<std::optional<TokenInfo>> LookupToken(PgConn& c, const std::string& sha);
Result<std::vector<TokenRecord>> ListTokens(PgConn& c);
Result<int64_t> RevokeToken(PgConn& c, const std::string& id, int64_t now_ns);
Status TouchToken(PgConn& c, const std::string& sha, int64_t now_ns);
Status EnrollHost(PgConn& c, const std::string& host_id, const std::string& group,
                  const std::string& agent_version, const std::string& token_sha, int64_t now_ns,
                  const std::string& enroll_sha);
Status RemoveHost(PgConn& c, const std::string& host_id, int64_t now_ns);
Status RenameHost(PgConn& c, const std::string& from, const std::string& to);

}  // namespace driftwatch::collector::pg_lifecycle

#endif  // DRIFTWATCH_COLLECTOR_PG_LIFECYCLE_H_
