// Integrity in the SQLite fleet store: the escrow of agent chains, integrity
// alerts, trust resets and the collector's own per-host event chain (schema
// in sqlite_rows.cc, docs/collector.md; verdicts in escrow.h). Used only by
// sqlite_store.cc and its siblings, inside its lock and, for writes, its
// transaction.
//
// Thread-safety: none; the caller serializes access to the Db.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_INTEGRITY_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_INTEGRITY_H_

#include <string>
#include <vector>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_integrity {

// Judges rep's chain and self and stores what the verdicts say; sets
// out->chain and out->integrity_alerts. Runs before the report's
// inventory is stored (the stored package list explains upgrades).
Status Ingest(sqlite::Db& db, const ReportEnvelope& rep, IngestResult* out);

// Appends events to the host's event chain as they are inserted.
class EventChainWriter {
 public:
  // Reads the host's chain head.
  static Result<EventChainWriter> Open(sqlite::Db& db, const std::string& host_id);
  // The seq and head of the next event.
  std::pair<int64_t, std::string> Next(int64_t detected_ns, const std::string& report_id,
                                       const std::string& event_json, const std::string& diff);
  // Stores the host's new length and head.
  Status Finish(sqlite::Db& db);

 private:
  std::string host_id_;
  int64_t length_ = 0;
  std::string head_;
  bool changed_ = false;
};

// Moves the anchors of hosts whose events were pruned (ids in temp.prune).
Status MoveAnchors(sqlite::Db& db);

Result<std::vector<IntegrityAlert>> ListAlerts(sqlite::Db& db, const IntegrityQuery& q);
Result<HostChain> GetChain(sqlite::Db& db, const std::string& host_id);
Result<int64_t> TrustReset(sqlite::Db& db, const std::string& host_id, const std::string& by,
                           const std::string& reason, int64_t now_ns);
Result<std::vector<EventChainFinding>> VerifyEvents(
    sqlite::Db& db, const std::string& host_id,
    const std::map<std::string, ExportedHead>& expected);

}  // namespace driftwatch::collector::sqlite_integrity

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_INTEGRITY_H_
