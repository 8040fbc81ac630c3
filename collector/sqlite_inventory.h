// Host inventories in the SQLite fleet store: packages, containers and
// baseline revisions (schema in sqlite_rows.cc, docs/collector.md). Used
// only by sqlite_store.cc, inside its lock and, for writes, its transaction.
//
// Thread-safety: none; the caller serializes access to the Db.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_INVENTORY_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_INVENTORY_H_

#include <string>
#include <vector>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_inventory {

// Stores the inventory a report carries (interval, containers, packages,
// baseline revision) for rep.host_id; sets out->packages_needed.
Status Ingest(sqlite::Db& db, const ReportEnvelope& rep, IngestResult* out);
// Records a baseline revision created at created_ns (seen at now_ns).
Status RecordBaseline(sqlite::Db& db, const std::string& host_id, const std::string& name,
                      int64_t revision, const std::string& root_hex, int64_t created_ns,
                      int64_t now_ns);
Result<HostInventory> Read(sqlite::Db& db, const std::string& host_id);
Result<std::vector<BaselineRevision>> Baselines(sqlite::Db& db, const std::string& host_id);
Result<std::vector<ImageUsage>> Images(sqlite::Db& db);
Result<std::vector<FleetContainer>> Containers(sqlite::Db& db, const ContainerQuery& q);

}  // namespace driftwatch::collector::sqlite_inventory

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_INVENTORY_H_
