// The agent store's chain records: their canonical bodies (docs/integrity.md,
// "The agent's chain") and the digests that tie a record to the rows it
// stands for. The store (store_chain.cc) appends them in the transaction
// that adds the rows; `store verify` (chain_verify.h) recomputes them from
// the tables with the same functions.
//
// Thread-safety: pure functions, or functions borrowing a Db their caller
// serialises.
#ifndef DRIFTWATCH_AGENT_STORE_CHAIN_H_
#define DRIFTWATCH_AGENT_STORE_CHAIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/chain.h"
#include "core/sqlite.h"
#include "core/status.h"

namespace driftwatch::agent {

// An accept keeps at most this many bytes of escaped paths in its record;
// the rest are counted ("paths_omitted"), so that the body stays under
// chain::kMaxBodyBytes whatever was accepted.
inline constexpr size_t kMaxAcceptPathBytes = 12 << 10;

// `baseline`: {"author","name","reason","revision","root","rules","snapshot"};
// an accept (accepted != null) adds "paths" (EscapePath'd, in the order
// given) and "paths_omitted" when they do not all fit, or "all": true when
// `accepted` is empty (everything found was accepted).
std::string BaselineRecordBody(const std::string& name, int64_t revision, int64_t snapshot_id,
                               const std::string& root_hex, const std::string& rules_hash,
                               const std::string& author, const std::string& reason,
                               const std::vector<std::string>* accepted);

// `check`: {"baseline","baseline_root","check","events","events_digest",
// "revision","root"}; roots are "" when the snapshot is not known.
std::string CheckRecordBody(int64_t check_id, const std::string& baseline, int64_t revision,
                            const std::string& baseline_root_hex, const std::string& root_hex,
                            int64_t events, const std::string& events_digest);

// `restore`: {"actions","actions_digest","author","baseline","reason",
// "refused","restore","revision"}.
std::string RestoreRecordBody(int64_t restore_id, const std::string& baseline, int64_t revision,
                              const std::string& author, const std::string& reason, int64_t refused,
                              int64_t actions, const std::string& actions_digest);

// `agent-start`: {"exe","version"}; `config`: {"digest","path"}; `rules`:
// {"digest","fingerprint","path"}; `enroll`:
// {"collector","group","host","signing_key"}.
std::string AgentStartRecordBody(const std::string& exe_digest, const std::string& version);
std::string ConfigRecordBody(const std::string& path, const std::string& digest);
std::string RulesRecordBody(const std::string& path, const std::string& digest,
                            const std::string& fingerprint);
std::string EnrollRecordBody(const std::string& collector, const std::string& host,
                             const std::string& group, const std::string& signing_key);

// The number of a check's events and the SHA-256 (hex) of them as stored:
// of "driftwatch-events-1\n" followed, for each event row in id order, by
// the SHA-256 hex of its columns (path, kind, severity, rule, changed,
// old_entry, new_entry, package, from_version, to_version, cause, diff,
// content_note; each as "<length>:<bytes>", NULL as "n;") and "\n".
struct RowsDigest {
  int64_t count = 0;
  std::string digest;
};
Result<RowsDigest> CheckEventsDigest(sqlite::Db& db, int64_t check_id);
// The same for a restore's actions ("driftwatch-actions-1\n"; columns seq,
// path, action, detail, ok).
Result<RowsDigest> RestoreActionsDigest(sqlite::Db& db, int64_t restore_id);

// The 32-hex root of snapshot `snapshot_id`; "" when there is no such
// snapshot (pruned) or its root is not 16 bytes.
Result<std::string> SnapshotRootHex(sqlite::Db& db, int64_t snapshot_id);
// The 32-hex root of the snapshot of baseline `name` revision `revision`;
// "" when unknown.
Result<std::string> BaselineRootHex(sqlite::Db& db, const std::string& name, int64_t revision);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_STORE_CHAIN_H_
