// Report ingest of the SQLite fleet store, in two halves (docs/collector.md,
// "Ingest and group commit"):
//  - PrepareIngest computes, without the database, everything a report's
//    rows need that does not depend on what is stored (escaped paths, actor
//    columns, JSON of warnings, stats and subtrees, hashes in hex), so that
//    none of it runs while the write lock is held;
//  - ApplyIngest writes one prepared report inside a transaction its caller
//    holds open (the group commit of sqlite_store_batch.h), with the same
//    answers as FleetStore::IngestReport (store.h): a duplicate report_id
//    writes nothing and gets the original's answer.
//
// Thread-safety: PrepareIngest is pure; ApplyIngest uses the Db it is given
// (its caller's lock).
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_STORE_INGEST_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_STORE_INGEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_ingest {

// The columns of one event that come from the event alone.
struct PreparedEvent {
  std::string path;  // escaped (EscapePath)
  std::string body;  // the stored form of the wire JSON (event_body.h)
  int64_t kind = 0;
  int64_t severity = 0;
  std::optional<std::string> actor, actor_exe, reverted_by, diff;
  std::optional<int64_t> actor_uid, event_ns;
  bool transient = false;
};

// A report with its columns computed. Borrows the envelope and the routes,
// which must outlive it.
struct PreparedReport {
  const ReportEnvelope* rep = nullptr;
  const std::vector<AlertRoute>* routes = nullptr;
  std::vector<PreparedEvent> events;
  std::string warnings_json, stats_json, subtrees_json, root_hex;
  bool realtime = false;
};

PreparedReport PrepareIngest(const ReportEnvelope& rep, const std::vector<AlertRoute>& routes);

// Stores one report in the open transaction of `db`. On failure the rows it
// wrote are the caller's to roll back (a savepoint); a duplicate writes
// nothing.
Result<IngestResult> ApplyIngest(sqlite::Db& db, const PreparedReport& p);

}  // namespace driftwatch::collector::sqlite_ingest

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_STORE_INGEST_H_
