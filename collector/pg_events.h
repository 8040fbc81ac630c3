// Drift events in the PostgreSQL fleet store: ingest of a whole report,
// monthly partitions of `events`, the event queries, and retention by
// dropping partitions
// (docs/store-postgresql.md). Used by pg_store.cc; all SQL for events lives
// in pg_events.cc.
//
// Thread-safety: PgPartitions is thread-safe; the functions use the one
// connection they are given (not shared between threads).
#ifndef DRIFTWATCH_COLLECTOR_PG_EVENTS_H_
#define DRIFTWATCH_COLLECTOR_PG_EVENTS_H_

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "collector/pg_conn.h"
#include "collector/store.h"

namespace driftwatch::collector {

// Advisory lock keys (pg_advisory_xact_lock): schema changes and partition
// DDL, and the commit order of event ids.
constexpr int64_t kPgSchemaLock = 0x64770001;
constexpr int64_t kPgIngestLock = 0x64770002;

// The months whose partition this process knows to exist.
class PgPartitions {
 public:
  // Creates the partition holding `detected_ns` unless known (own
  // transaction, under kPgSchemaLock; CREATE ... IF NOT EXISTS).
  Status Ensure(PgConn& c, int64_t detected_ns);
  void Forget(int64_t month_start_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    known_.erase(month_start_ns);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    known_.clear();
  }

 private:
  std::mutex mu_;            // guards known_
  std::set<int64_t> known_;  // month start ns
};

// FleetStore::IngestReport on one connection (store.h has the contract).
// When the report's month partition was dropped behind this process's back
// the call fails with SQLSTATE 23514 (PgConn::last_sqlstate()); Clear() and
// retry.
Result<IngestResult> PgIngestReport(PgConn& conn, PgPartitions& partitions,
                                    const ReportEnvelope& rep,
                                    const std::vector<AlertRoute>& routes);

// FleetStore::QueryDrift and FleetStore::PathHistory: one range scan of the
// (detected_ns, id) order (store_rows::PlanEventScan).
Result<std::vector<EventRecord>> PgQueryDrift(PgConn& conn, const DriftQuery& q);
// The statement PgQueryDrift runs to scan the order up (oldest first) or
// down: $1 host, $2 group, $3 path regex, $4 kind, $5 min severity (NULL =
// no filter), $6..$7 the detected_ns window, $8..$9 the (detected_ns, id)
// the scan starts after, $10 limit, $11 one event id (NULL = any).
const char* PgDriftQuerySql(bool ascending);
Result<std::vector<EventRecord>> PgPathHistory(PgConn& conn, const std::string& path,
                                               const EventPageQuery& page);

// FleetStore::PruneEvents: drops whole months before cutoff_ns, then deletes
// at most `batch` older rows of the month holding it.
Result<int64_t> PgPruneEvents(PgConn& conn, PgPartitions& partitions, int64_t cutoff_ns, int batch);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_EVENTS_H_
