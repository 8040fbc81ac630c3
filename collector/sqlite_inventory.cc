// All SQL of the SQLite store's host inventories (sqlite_inventory.h).
#include "collector/sqlite_inventory.h"

#include "collector/fleet_containers.h"
#include "collector/inventory.h"
#include "collector/sqlite_rows.h"
#include "collector/store_rows.h"

namespace driftwatch::collector::sqlite_inventory {

using sqlite_rows::SqliteRow;

Status RecordBaseline(sqlite::Db& db, const std::string& host_id, const std::string& name,
                      int64_t revision, const std::string& root_hex, int64_t created_ns,
                      int64_t now_ns) {
  // A revision keeps the time it was first known by; a root learnt later
  // (reports carry it, older acks may not) fills an empty one.
  DW_ASSIGN_OR_RETURN(
      auto s, db.Prepare("INSERT INTO host_baselines(host_id, name, revision, root, since_ns, "
                         "first_seen_ns, last_seen_ns) VALUES(?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT(host_id, name, revision) DO UPDATE SET "
                         "last_seen_ns = max(last_seen_ns, excluded.last_seen_ns), "
                         "since_ns = min(since_ns, excluded.since_ns), "
                         "root = CASE WHEN root = '' THEN excluded.root ELSE root END"));
  return s.Bind(1, host_id)
      .Bind(2, name)
      .Bind(3, revision)
      .Bind(4, root_hex)
      .Bind(5, created_ns)
      .Bind(6, now_ns)
      .Bind(7, now_ns)
      .Run();
}

Status Ingest(sqlite::Db& db, const ReportEnvelope& rep, IngestResult* out) {
  const CheckResult& r = rep.result;
  const std::string& host = rep.host_id;
  if (r.interval_ns > 0) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE hosts SET interval_ns = ? WHERE id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, r.interval_ns).Bind(2, host).Run());
  }
  if (!r.baseline.empty() && r.baseline_revision > 0) {
    DW_RETURN_IF_ERROR(RecordBaseline(db, host, r.baseline, r.baseline_revision,
                                      r.baseline_root.IsZero() ? "" : r.baseline_root.Hex(),
                                      r.started_ns, rep.received_ns));
  }
  if (!r.containers && !r.packages) return Status::Ok();
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT OR IGNORE INTO host_inventory(host_id) "
                                           "VALUES(?)"));
    DW_RETURN_IF_ERROR(s.Bind(1, host).Run());
  }
  if (r.containers) {
    DW_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM host_containers WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(del.Bind(1, host).Run());
    del.Reset();
    int64_t pos = 0;
    for (const ContainerInfo& c : *r.containers) {
      DW_ASSIGN_OR_RETURN(
          auto s,
          db.Prepare("INSERT INTO host_containers(host_id, pos, name, container_id, runtime, "
                     "image, image_digest, drift_known, events, image_id, image_tree, labels, "
                     "started_ns, pid, excluded, note, k8s_namespace, k8s_pod, k8s_container) "
                     "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      const KubernetesIdentity k = KubernetesOf(c.labels);
      DW_RETURN_IF_ERROR(s.Bind(1, host)
                             .Bind(2, pos++)
                             .Bind(3, c.name)
                             .Bind(4, c.id)
                             .Bind(5, c.runtime)
                             .Bind(6, c.image)
                             .Bind(7, c.image_digest)
                             .Bind(8, int64_t{c.drift_known ? 1 : 0})
                             .Bind(9, c.events)
                             .Bind(10, c.image_id)
                             .Bind(11, c.image_tree)
                             .Bind(12, LabelsToJson(c.labels))
                             .Bind(13, c.started_ns)
                             .Bind(14, c.pid)
                             .Bind(15, PathsToJson(c.excluded))
                             .Bind(16, c.note)
                             .Bind(17, k.k8s_namespace)
                             .Bind(18, k.pod)
                             .Bind(19, k.container)
                             .Run());
    }
    DW_ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE host_inventory SET containers_ns = ? "
                                            "WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(up.Bind(1, rep.received_ns).Bind(2, host).Run());
  }
  if (r.packages) {
    const std::string digest = r.packages->digest.Hex();
    if (!r.packages->full) {
      DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT packages_digest FROM host_inventory "
                                             "WHERE host_id = ?"));
      s.Bind(1, host);
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      out->packages_needed = !row || s.Text(0) != digest;
      return Status::Ok();
    }
    DW_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM host_packages WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(del.Bind(1, host).Run());
    del.Reset();
    int64_t pos = 0;
    for (const PackageInfo& p : r.packages->list) {
      DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT INTO host_packages(host_id, pos, manager, "
                                             "name, version, arch) VALUES(?, ?, ?, ?, ?, ?)"));
      DW_RETURN_IF_ERROR(s.Bind(1, host)
                             .Bind(2, pos++)
                             .Bind(3, p.manager)
                             .Bind(4, p.name)
                             .Bind(5, p.version)
                             .Bind(6, p.arch)
                             .Run());
    }
    DW_ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE host_inventory SET packages_digest = ?, "
                                            "packages_count = ?, packages_ns = ? "
                                            "WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(up.Bind(1, digest)
                           .Bind(2, static_cast<int64_t>(r.packages->list.size()))
                           .Bind(3, rep.received_ns)
                           .Bind(4, host)
                           .Run());
  }
  return Status::Ok();
}

Result<HostInventory> Read(sqlite::Db& db, const std::string& host_id) {
  HostInventory inv;
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT packages_digest, packages_count, packages_ns, "
                                           "containers_ns FROM host_inventory WHERE host_id = ?"));
    s.Bind(1, host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) store_rows::ReadInventoryHead(SqliteRow(s), &inv);
  }
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT manager, name, version, arch FROM "
                                           "host_packages WHERE host_id = ? ORDER BY pos"));
    s.Bind(1, host_id);
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      inv.packages.push_back(store_rows::ReadPackage(SqliteRow(s)));
    }
  }
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string("SELECT ") + store_rows::kContainerColumns +
                                         " FROM host_containers WHERE host_id = ? ORDER BY pos"));
  s.Bind(1, host_id);
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    inv.containers.push_back(store_rows::ReadContainer(SqliteRow(s)));
  }
  return inv;
}

Result<std::vector<BaselineRevision>> Baselines(sqlite::Db& db, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT name, revision, root, since_ns, first_seen_ns, "
                                         "last_seen_ns FROM host_baselines WHERE host_id = ? "
                                         "ORDER BY since_ns DESC, revision DESC, name"));
  s.Bind(1, host_id);
  std::vector<BaselineRevision> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(store_rows::ReadBaselineRevision(SqliteRow(s)));
  }
  return out;
}

Result<std::vector<ImageUsage>> Images(sqlite::Db& db) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string("SELECT ") + store_rows::kImageRowColumns +
                                         " FROM host_containers"));
  std::vector<ImageRow> rows;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    rows.push_back(store_rows::ReadImageRow(SqliteRow(s)));
  }
  return AggregateImages(rows);
}

Result<std::vector<FleetContainer>> Containers(sqlite::Db& db, const ContainerQuery& q) {
  // One statement for every filter combination: an unset filter binds NULL
  // and its condition is true. The keyset (host_id, pos) is the primary key.
  DW_ASSIGN_OR_RETURN(
      auto s, db.Prepare(std::string("SELECT host_id, pos, ") + store_rows::kContainerColumns +
                         " FROM host_containers WHERE (?1 IS NULL OR host_id = ?1) "
                         "AND (?2 IS NULL OR image = ?2) AND (?3 IS NULL OR image_digest = ?3) "
                         "AND (?4 IS NULL OR runtime = ?4) AND (?5 IS NULL OR k8s_namespace = ?5) "
                         "AND (?6 IS NULL OR k8s_pod = ?6) AND (?7 IS NULL OR (events > 0) = ?7) "
                         "AND (?8 = 0 OR k8s_namespace <> '') AND (host_id, pos) > (?9, ?10) "
                         "ORDER BY host_id, pos LIMIT ?11"));
  int col = 1;
  for (const std::string* f :
       {&q.host, &q.image, &q.digest, &q.runtime, &q.k8s_namespace, &q.k8s_pod}) {
    if (!f->empty()) s.Bind(col, *f);
    ++col;
  }
  if (q.drifted) s.Bind(7, int64_t{*q.drifted ? 1 : 0});
  s.Bind(8, int64_t{q.kubernetes_only ? 1 : 0});
  s.Bind(9, q.after ? q.after->first : std::string());
  s.Bind(10, q.after ? q.after->second : int64_t{-1});
  s.Bind(11, int64_t{q.limit});
  std::vector<FleetContainer> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(store_rows::ReadFleetContainer(SqliteRow(s)));
  }
  return out;
}

}  // namespace driftwatch::collector::sqlite_inventory
