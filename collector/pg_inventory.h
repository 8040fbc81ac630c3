// Host inventories in the PostgreSQL fleet store: packages, containers and
// baseline revisions (schema versions 2 and 9 in pg_schema.cc,
// docs/store-postgresql.md). Used by pg_events.cc inside the ingest
// transaction and by pg_store.cc.
//
// Thread-safety: functions use the one connection they are given.
#ifndef DRIFTWATCH_COLLECTOR_PG_INVENTORY_H_
#define DRIFTWATCH_COLLECTOR_PG_INVENTORY_H_

#include <string>
#include <vector>

#include "collector/pg_conn.h"
#include "collector/store.h"

namespace driftwatch::collector {

// Stores the containers and packages a report carries for rep.host_id,
// inside the caller's transaction and before its ingest lock (no other part
// of an ingest touches these rows); sets out->packages_needed. The check
// interval and baseline revision are part of the ingest statement
// (pg_events.cc).
Status PgIngestInventory(PgConn& c, const ReportEnvelope& rep, IngestResult* out);
// Records a baseline revision created at created_ns (seen at now_ns).
Status PgRecordBaseline(PgConn& c, const std::string& host_id, const std::string& name,
                        int64_t revision, const std::string& root_hex, int64_t created_ns,
                        int64_t now_ns);
Result<HostInventory> PgReadInventory(PgConn& c, const std::string& host_id);
Result<std::vector<BaselineRevision>> PgReadBaselines(PgConn& c, const std::string& host_id);
Result<std::vector<ImageUsage>> PgReadImages(PgConn& c);
Result<std::vector<FleetContainer>> PgReadContainers(PgConn& c, const ContainerQuery& q);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_INVENTORY_H_
