// All SQL of the PostgreSQL store's host inventories (pg_inventory.h).
#include "collector/pg_inventory.h"

#include "collector/inventory.h"
#include "collector/store_rows.h"

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
  // Each list is stored by one statement: rows at positions the new list
  // has are overwritten, the rest deleted (disjoint rows, so one statement).
  if (r.containers) {
    std::vector<std::string> name, id, runtime, image, digest;
    std::vector<int64_t> known, events;
    for (const ContainerInfo& x : *r.containers) {
      name.push_back(x.name);
      id.push_back(x.id);
      runtime.push_back(x.runtime);
      image.push_back(x.image);
      digest.push_back(x.image_digest);
      known.push_back(x.drift_known ? 1 : 0);
      events.push_back(x.events);
    }
    DW_RETURN_IF_ERROR(
        c.Exec("containers_store",
               "WITH gone AS (DELETE FROM host_containers WHERE host_id = $1 AND "
               "pos >= cardinality($2::text[])), "
               "put AS (INSERT INTO host_containers(host_id, pos, name, container_id, runtime, "
               "image, image_digest, drift_known, events) SELECT $1, (u.ord - 1)::int, u.name, "
               "u.id, u.runtime, u.image, u.digest, u.known = 1, u.events FROM unnest($2, "
               "$3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[]) WITH "
               "ORDINALITY AS u(name, id, runtime, image, digest, known, events, ord) "
               "ON CONFLICT (host_id, pos) DO UPDATE SET name = excluded.name, "
               "container_id = excluded.container_id, runtime = excluded.runtime, "
               "image = excluded.image, image_digest = excluded.image_digest, "
               "drift_known = excluded.drift_known, events = excluded.events) "
               "INSERT INTO host_inventory(host_id, containers_ns) VALUES($1, $9) "
               "ON CONFLICT (host_id) DO UPDATE SET containers_ns = excluded.containers_ns",
               {host, PgArray(name), PgArray(id), PgArray(runtime), PgArray(image), PgArray(digest),
                PgIntArray(known), PgIntArray(events), PgInt(rep.received_ns)})
            .status());
  }
  if (!r.packages) return Status::Ok();
  const std::string digest = r.packages->digest.Hex();
  if (!r.packages->full) {
    // The row exists from here on, as after a report with a list.
    DW_ASSIGN_OR_RETURN(auto d, c.Exec("packages_digest",
                                       "WITH made AS (INSERT INTO host_inventory(host_id) "
                                       "VALUES($1) ON CONFLICT (host_id) DO NOTHING) "
                                       "SELECT packages_digest FROM host_inventory "
                                       "WHERE host_id = $1",
                                       {host}));
    out->packages_needed = d.size() == 0 || d.Text(0, 0) != digest;
    return Status::Ok();
  }
  std::vector<std::string> manager, name, version, arch;
  for (const PackageInfo& p : r.packages->list) {
    manager.push_back(p.manager);
    name.push_back(p.name);
    version.push_back(p.version);
    arch.push_back(p.arch);
  }
  return c
      .Exec("packages_store",
            "WITH gone AS (DELETE FROM host_packages WHERE host_id = $1 AND "
            "pos >= cardinality($2::text[])), "
            "put AS (INSERT INTO host_packages(host_id, pos, manager, name, version, arch) "
            "SELECT $1, (u.ord - 1)::int, u.manager, u.name, u.version, u.arch FROM unnest($2, "
            "$3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(manager, name, version, "
            "arch, ord) ON CONFLICT (host_id, pos) DO UPDATE SET manager = excluded.manager, "
            "name = excluded.name, version = excluded.version, arch = excluded.arch) "
            "INSERT INTO host_inventory(host_id, packages_digest, packages_count, packages_ns) "
            "VALUES($1, $6, $7, $8) ON CONFLICT (host_id) DO UPDATE SET "
            "packages_digest = excluded.packages_digest, "
            "packages_count = excluded.packages_count, packages_ns = excluded.packages_ns",
            {host, PgArray(manager), PgArray(name), PgArray(version), PgArray(arch), digest,
             PgInt(static_cast<int64_t>(r.packages->list.size())), PgInt(rep.received_ns)})
      .status();
}

Result<HostInventory> PgReadInventory(PgConn& c, const std::string& host_id) {
  HostInventory inv;
  DW_ASSIGN_OR_RETURN(auto h, c.Exec("inventory_get",
                                     "SELECT packages_digest, packages_count, packages_ns, "
                                     "containers_ns FROM host_inventory WHERE host_id = $1",
                                     {host_id}));
  if (h.size() > 0) store_rows::ReadInventoryHead(PgRow(h, 0), &inv);
  DW_ASSIGN_OR_RETURN(auto p, c.Exec("packages_get",
                                     "SELECT manager, name, version, arch FROM host_packages "
                                     "WHERE host_id = $1 ORDER BY pos",
                                     {host_id}));
  for (int i = 0; i < p.size(); ++i) inv.packages.push_back(store_rows::ReadPackage(PgRow(p, i)));
  DW_ASSIGN_OR_RETURN(auto k, c.Exec("containers_get",
                                     "SELECT name, container_id, runtime, image, image_digest, "
                                     "drift_known, events FROM host_containers WHERE host_id = $1 "
                                     "ORDER BY pos",
                                     {host_id}));
  for (int i = 0; i < k.size(); ++i) {
    inv.containers.push_back(store_rows::ReadContainer(PgRow(k, i)));
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
  for (int i = 0; i < r.size(); ++i) out.push_back(store_rows::ReadBaselineRevision(PgRow(r, i)));
  return out;
}

Result<std::vector<ImageUsage>> PgReadImages(PgConn& c) {
  DW_ASSIGN_OR_RETURN(
      auto r,
      c.Exec("images_get", "SELECT image, image_digest, host_id, events FROM host_containers", {}));
  std::vector<ImageRow> rows;
  for (int i = 0; i < r.size(); ++i) rows.push_back(store_rows::ReadImageRow(PgRow(r, i)));
  return AggregateImages(rows);
}

}  // namespace driftwatch::collector
