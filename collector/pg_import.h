// Copying an existing SQLite collector database into a PostgreSQL fleet
// store (`driftwatch-collector migrate --from sqlite:///PATH --store
// postgresql://...`, docs/operations.md).
//
// Every row of every fleet table is copied as it is, ids included (report
// seqs, event ids, command and alert ids), so /drift cursors, event ids in
// alerts and command ids stay valid; the PostgreSQL sequences are advanced
// past the copied ids. The copy is one PostgreSQL transaction (all or
// nothing) reading one SQLite snapshot, so it may run while a collector
// still serves the SQLite file; reports that arrive after the snapshot are
// not copied (stop that collector first).
//
// The target must be migrated to this build's schema and hold no rows in
// any copied table; a non-empty target is refused (kAlreadyExists) and left
// untouched, so running the copy twice never duplicates anything.
//
// Thread-safety: a free function; uses its own connections.
#ifndef DRIFTWATCH_COLLECTOR_PG_IMPORT_H_
#define DRIFTWATCH_COLLECTOR_PG_IMPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace driftwatch::collector {

// Rows copied per table, in copy order.
using ImportCounts = std::vector<std::pair<std::string, int64_t>>;

// Copies the SQLite store at `sqlite_path` (must exist; opened through
// OpenSqliteStore, so an older SQLite schema is upgraded first) into the
// PostgreSQL store at `pg_url`. kNotFound when the file is missing,
// kAlreadyExists when the target holds data, kUnsupported without libpq.
Result<ImportCounts> ImportSqliteIntoPg(const std::string& sqlite_path, const std::string& pg_url);

// "3 tokens, 2 hosts, ..." for the operator.
inline std::string FormatImportCounts(const ImportCounts& counts) {
  std::string out;
  for (const auto& [table, n] : counts) {
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + table;
  }
  return out;
}

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_IMPORT_H_
