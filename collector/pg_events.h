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
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "collector/pg_conn.h"
#include "collector/store.h"

namespace driftwatch::collector {

// Advisory lock keys (pg_advisory_xact_lock): schema changes and partition
// DDL, and `migrate --from`'s copy (no ingest takes it any more).
constexpr int64_t kPgSchemaLock = 0x64770001;
constexpr int64_t kPgIngestLock = 0x64770002;
// The class of the per-host ingest locks (the two-key form
// pg_advisory_xact_lock(kPgHostIngestLockClass, hashtext(host_id))).
constexpr int32_t kPgHostIngestLockClass = 0x6477;

// Takes the ingest lock of `host_id` for the current transaction: reports
// of one host are stored one at a time (whichever collector receives
// them), and host removal, rename and trust reset exclude that host's
// ingests. Reports of different hosts are stored in parallel.
Status PgLockHostIngest(PgConn& c, const std::string& host_id);

// The SQL condition, on `events.id`, of what readers may see: ids only up
// to the lowest horizon of the ingests in flight (docs/store-postgresql.md,
// "Several collectors on one database"), so that a cursor of the
// (detected_ns, id) order never passes an id that is still to commit.
extern const char* const kPgVisibleEvents;

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
// A report with events first registers a horizon (its own committed row
// in ingest_horizons: the highest event id drawn so far), then stores the
// report and deletes the horizon in one transaction; a failed ingest
// deletes it afterwards, and a collector that died mid-ingest leaves one
// that the next registration removes (its backend is gone).
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

// The statement PgQueryDrift (PgPathHistory) runs for these arguments and
// the values it binds: what `EXPLAIN` must be given to show the plan the
// store gets (the plan tests). nullopt for a glob that can match nothing:
// no statement runs. `sql` is static.
struct PgBoundQuery {
  const char* name;
  const char* sql;
  std::vector<PgParam> params;
};
std::optional<PgBoundQuery> PgDriftQueryFor(const DriftQuery& q);
PgBoundQuery PgPathHistoryFor(const std::string& path, const EventPageQuery& page);

// FleetStore::PruneEvents: drops whole months before cutoff_ns, then deletes
// at most `batch` older rows of the month holding it.
Result<int64_t> PgPruneEvents(PgConn& conn, PgPartitions& partitions, int64_t cutoff_ns, int batch);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_EVENTS_H_
