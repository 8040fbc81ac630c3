// `driftwatch db check` and `db recover`: verifying the agent store and
// rebuilding a damaged one from what can still be read (docs/store.md,
// "Checking and recovering the store").
//
// CheckAgentStore opens the store read-only and never writes: SQLite's
// PRAGMA integrity_check, then driftwatch's own checks (the schema versions
// of the store and the outbox, every table present and readable to its
// last row, foreign keys, every baseline's snapshot and root tree there).
//
// RecoverAgentStore copies the readable rows of every table, key range by
// key range (a range that cannot be read is narrowed to its readable
// beginning, the unreadable stretch after it is measured by probes, its
// keys reported lost, and copying goes on after it), into a new store made
// beside the damaged one (PATH.recovering, removed again on failure);
// tables the damaged file lacks are skipped with a note, and the stat cache
// is not copied (the next check rebuilds it). Rows left pointing at lost
// ones are dropped. The damaged file is then kept as
// PATH.damaged-YYYYmmddTHHMMSSZ and the new store takes its place. Work is
// bounded: at most kMaxRecoverStatements reads per table; keys not read
// when they run out are reported lost too.
//
// Thread-safety: plain functions; the store must not be in use by another
// driftwatch during a recovery (the daemon stopped).
#ifndef DRIFTWATCH_REPORT_STORE_REPAIR_H_
#define DRIFTWATCH_REPORT_STORE_REPAIR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::report {

inline constexpr int64_t kMaxRecoverStatements = 100000;

struct StoreCheck {
  std::vector<std::string> problems;  // empty: the store is sound
  std::vector<std::string> checked;   // what was verified, one line each
};

// Fails only when there is no store to check (missing, refused by the
// file checks of agent/store_file.h); a store that cannot be read is a
// problem in the result.
Result<StoreCheck> CheckAgentStore(Host& host, const std::string& path);

struct TableRecovery {
  std::string table;
  int64_t kept = 0;
  int64_t dropped = 0;                   // copied, then dropped as orphans
  std::vector<std::string> lost_ranges;  // keys that could not be read
  std::string note;                      // e.g. why nothing was copied
};

struct StoreRecovery {
  std::string damaged_copy;  // where the damaged file now is
  std::vector<TableRecovery> tables;
};

// max_reads_per_table is the read budget of each table (tests lower it).
Result<StoreRecovery> RecoverAgentStore(Host& host, const std::string& path,
                                        int64_t max_reads_per_table = kMaxRecoverStatements);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_STORE_REPAIR_H_
