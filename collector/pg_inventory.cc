// All SQL of the PostgreSQL store's host inventories (pg_inventory.h).
#include "collector/pg_inventory.h"

#include "collector/inventory.h"

namespace driftwatch::collector {

Status PgRecordBaseline(PgConn& c, const std::string& host_id, const std::string& name,
                        int64_t revision, const std::string& root_hex, int64_t created_ns,
                        int64_t now_ns) {
  // A revision keeps the time it was first known by; a root learnt later
  // fills an empty one.
  return c
      .Exec("baseline_record",
            "INSERT INTO host_baselines(host_id, name, revision, root, since_ns, first_seen_ns, "
            "last_seen_ns) VALUES($1, $2, $3, $4, $5, $6, $6) "
            "ON CONFLICT (host_id, name, revision) DO UPDATE SET "
            "last_seen_ns = greatest(host_baselines.last_seen_ns, excluded.last_seen_ns), "
            "since_ns = least(host_baselines.since_ns, excluded.since_ns), "
            "root = CASE WHEN host_baselines.root = '' THEN excluded.root "
            "ELSE host_baselines.root END",
            {host_id, name, PgInt(revision), root_hex, PgInt(created_ns), PgInt(now_ns)})
      .status();
}

Status PgIngestInventory(PgConn& c, const ReportEnvelope& rep, IngestResult* out) {
  const CheckResult& r = rep.result;
  const std::string& host = rep.host_id;
  if (r.interval_ns > 0) {
    DW_RETURN_IF_ERROR(c.Exec("host_interval", "UPDATE hosts SET interval_ns = $1 WHERE id = $2",
                              {PgInt(r.interval_ns), host})
                           .status());
  }
  if (!r.baseline.empty() && r.baseline_revision > 0) {
    DW_RETURN_IF_ERROR(PgRecordBaseline(c, host, r.baseline, r.baseline_revision,
                                        r.baseline_root.IsZero() ? "" : r.baseline_root.Hex(),
                                        r.started_ns, rep.received_ns));
  }
  if (!r.containers && !r.packages) return Status::Ok();
  DW_RETURN_IF_ERROR(c.Exec("inventory_row",
                            "INSERT INTO host_inventory(host_id) VALUES($1) "
                            "ON CONFLICT (host_id) DO NOTHING",
                            {host})
                         .status());
  if (r.containers) {
    DW_RETURN_IF_ERROR(
        c.Exec("containers_clear", "DELETE FROM host_containers WHERE host_id = $1", {host})
            .status());
    int64_t pos = 0;
    for (const ContainerInfo& x : *r.containers) {
      DW_RETURN_IF_ERROR(
          c.Exec("container_insert",
                 "INSERT INTO host_containers(host_id, pos, name, container_id, runtime, image, "
                 "image_digest, drift_known, events) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                 {host, PgInt(pos++), x.name, x.id, x.runtime, x.image, x.image_digest,
                  std::string(x.drift_known ? "t" : "f"), PgInt(x.events)})
              .status());
    }
    DW_RETURN_IF_ERROR(c.Exec("containers_time",
                              "UPDATE host_inventory SET containers_ns = $1 WHERE host_id = $2",
                              {PgInt(rep.received_ns), host})
                           .status());
  }
  if (r.packages) {
    const std::string digest = r.packages->digest.Hex();
    if (!r.packages->full) {
      DW_ASSIGN_OR_RETURN(auto d, c.Exec("packages_digest",
                                         "SELECT packages_digest FROM host_inventory "
                                         "WHERE host_id = $1",
                                         {host}));
      out->packages_needed = d.size() == 0 || d.Text(0, 0) != digest;
      return Status::Ok();
    }
    DW_RETURN_IF_ERROR(
        c.Exec("packages_clear", "DELETE FROM host_packages WHERE host_id = $1", {host}).status());
    int64_t pos = 0;
    for (const PackageInfo& p : r.packages->list) {
      DW_RETURN_IF_ERROR(c.Exec("package_insert",
                                "INSERT INTO host_packages(host_id, pos, manager, name, version, "
                                "arch) VALUES($1, $2, $3, $4, $5, $6)",
                                {host, PgInt(pos++), p.manager, p.name, p.version, p.arch})
                             .status());
    }
    DW_RETURN_IF_ERROR(c.Exec("packages_time",
                              "UPDATE host_inventory SET packages_digest = $1, packages_count = "
                              "$2, packages_ns = $3 WHERE host_id = $4",
                              {digest, PgInt(static_cast<int64_t>(r.packages->list.size())),
                               PgInt(rep.received_ns), host})
                           .status());
  }
  return Status::Ok();
}

Result<HostInventory> PgReadInventory(PgConn& c, const std::string& host_id) {
  HostInventory inv;
  DW_ASSIGN_OR_RETURN(auto h, c.Exec("inventory_get",
                                     "SELECT packages_digest, packages_count, packages_ns, "
                                     "containers_ns FROM host_inventory WHERE host_id = $1",
                                     {host_id}));
  if (h.size() > 0) {
    inv.packages_digest = h.Text(0, 0);
    inv.packages_count = h.Int(0, 1);
    inv.packages_ns = h.Int(0, 2);
    inv.containers_ns = h.Int(0, 3);
    inv.containers_known = inv.containers_ns != 0;
  }
  DW_ASSIGN_OR_RETURN(auto p, c.Exec("packages_get",
                                     "SELECT manager, name, version, arch FROM host_packages "
                                     "WHERE host_id = $1 ORDER BY pos",
                                     {host_id}));
  for (int i = 0; i < p.size(); ++i) {
    inv.packages.push_back({p.Text(i, 0), p.Text(i, 1), p.Text(i, 2), p.Text(i, 3)});
  }
  DW_ASSIGN_OR_RETURN(auto k, c.Exec("containers_get",
                                     "SELECT name, container_id, runtime, image, image_digest, "
                                     "drift_known, events FROM host_containers WHERE host_id = $1 "
                                     "ORDER BY pos",
                                     {host_id}));
  for (int i = 0; i < k.size(); ++i) {
    inv.containers.push_back({k.Text(i, 0), k.Text(i, 1), k.Text(i, 2), k.Text(i, 3), k.Text(i, 4),
                              k.Text(i, 5) == "t", k.Int(i, 6)});
  }
  return inv;
}

Result<std::vector<BaselineRevision>> PgReadBaselines(PgConn& c, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto r, c.Exec("baselines_get",
                                     "SELECT name, revision, root, since_ns, first_seen_ns, "
                                     "last_seen_ns FROM host_baselines WHERE host_id = $1 "
                                     "ORDER BY since_ns DESC, revision DESC, name COLLATE \"C\"",
                                     {host_id}));
  std::vector<BaselineRevision> out;
  for (int i = 0; i < r.size(); ++i) {
    BaselineRevision b;
    b.name = r.Text(i, 0);
    b.revision = r.Int(i, 1);
    if (auto h = Hash128::FromHex(r.Text(i, 2)); h.ok()) b.root = *h;
    b.since_ns = r.Int(i, 3);
    b.first_seen_ns = r.Int(i, 4);
    b.last_seen_ns = r.Int(i, 5);
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<ImageUsage>> PgReadImages(PgConn& c) {
  DW_ASSIGN_OR_RETURN(
      auto r,
      c.Exec("images_get", "SELECT image, image_digest, host_id, events FROM host_containers", {}));
  std::vector<ImageRow> rows;
  for (int i = 0; i < r.size(); ++i) {
    rows.push_back({r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Int(i, 3)});
  }
  return AggregateImages(rows);
}

}  // namespace driftwatch::collector
