// The fleet lifecycle in the SQLite fleet store: tokens (added, listed,
// revoked, used), enrollment and re-enrollment, and hosts removed or renamed
// (store.h has the contracts; schema in sqlite_rows.cc, docs/collector.md).
// Used only by sqlite_store.cc, inside its lock; the functions that write
// several rows run their own transaction.
//
// Thread-safety: none; the caller serializes access to the Db.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_LIFECYCLE_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_LIFECYCLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_lifecycle {

Status AddToken(sqlite::Db& db, const std::string& sha, Role role, const std::string& host_id,
                int64_t now_ns, const TokenLimits& limits);
Result<std::optional<TokenInfo>> LookupToken(sqlite::Db& db, const std::string& sha);
Result<std::vector<TokenRecord>> ListTokens(sqlite::Db& db);
Result<int64_t> RevokeToken(sqlite::Db& db, const std::string& id, int64_t now_ns);
Status TouchToken(sqlite::Db& db, const std::string& sha, int64_t now_ns);
Status EnrollHost(sqlite::Db& db, const std::string& host_id, const std::string& group,
                  const std::string& agent_version, const std::string& token_sha, int64_t now_ns,
                  const std::string& enroll_sha);
Status RemoveHost(sqlite::Db& db, const std::string& host_id, int64_t now_ns);
Status RenameHost(sqlite::Db& db, const std::string& from, const std::string& to);

}  // namespace driftwatch::collector::sqlite_lifecycle

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_LIFECYCLE_H_
