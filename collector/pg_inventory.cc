// All SQL of the PostgreSQL store's host inventories (pg_inventory.h).
#include "collector/pg_inventory.h"

#include "collector/fleet_containers.h"
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
    std::vector<std::string> name, id, runtime, image, digest, image_id, tree, labels, excluded,
        note, k8s_ns, k8s_pod, k8s_ctr;
    std::vector<int64_t> known, events, started, pid;
    for (const ContainerInfo& x : *r.containers) {
      name.push_back(x.name);
      id.push_back(x.id);
      runtime.push_back(x.runtime);
      image.push_back(x.image);
      digest.push_back(x.image_digest);
      known.push_back(x.drift_known ? 1 : 0);
      events.push_back(x.events);
      image_id.push_back(x.image_id);
      tree.push_back(x.image_tree);
      labels.push_back(LabelsToJson(x.labels));
      started.push_back(x.started_ns);
      pid.push_back(x.pid);
      excluded.push_back(PathsToJson(x.excluded));
      note.push_back(x.note);
      KubernetesIdentity k = KubernetesOf(x.labels);
      k8s_ns.push_back(std::move(k.k8s_namespace));
      k8s_pod.push_back(std::move(k.pod));
      k8s_ctr.push_back(std::move(k.container));
    }
    DW_RETURN_IF_ERROR(
        c.Exec("containers_store",
               "WITH gone AS (DELETE FROM host_containers WHERE host_id = $1 AND "
               "pos >= cardinality($2::text[])), "
               "put AS (INSERT INTO host_containers(host_id, pos, name, container_id, runtime, "
               "image, image_digest, drift_known, events, image_id, image_tree, labels, "
               "started_ns, pid, excluded, note, k8s_namespace, k8s_pod, k8s_container) "
               "SELECT $1, (u.ord - 1)::int, u.name, u.id, u.runtime, u.image, u.digest, "
               "u.known = 1, u.events, u.image_id, u.tree, u.labels, u.started, u.pid, "
               "u.excluded, u.note, u.k8s_ns, u.k8s_pod, u.k8s_ctr FROM unnest($2, "
               "$3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], "
               "$10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], "
               "$15::text[], $16::text[], $17::text[], $18::text[], $19::text[]) WITH "
               "ORDINALITY AS u(name, id, runtime, image, digest, known, events, image_id, tree, "
               "labels, started, pid, excluded, note, k8s_ns, k8s_pod, k8s_ctr, ord) "
               "ON CONFLICT (host_id, pos) DO UPDATE SET name = excluded.name, "
               "container_id = excluded.container_id, runtime = excluded.runtime, "
               "image = excluded.image, image_digest = excluded.image_digest, "
               "drift_known = excluded.drift_known, events = excluded.events, "
               "image_id = excluded.image_id, image_tree = excluded.image_tree, "
               "labels = excluded.labels, started_ns = excluded.started_ns, "
               "pid = excluded.pid, excluded = excluded.excluded, note = excluded.note, "
               "k8s_namespace = excluded.k8s_namespace, k8s_pod = excluded.k8s_pod, "
               "k8s_container = excluded.k8s_container) "
               "INSERT INTO host_inventory(host_id, containers_ns) VALUES($1, $9) "
               "ON CONFLICT (host_id) DO UPDATE SET containers_ns = excluded.containers_ns",
               {host, PgArray(name), PgArray(id), PgArray(runtime), PgArray(image), PgArray(digest),
                PgIntArray(known), PgIntArray(events), PgInt(rep.received_ns), PgArray(image_id),
                PgArray(tree), PgArray(labels), PgIntArray(started), PgIntArray(pid),
                PgArray(excluded), PgArray(note), PgArray(k8s_ns), PgArray(k8s_pod),
                PgArray(k8s_ctr)})
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
  static const std::string kContainersGet = std::string("SELECT ") + store_rows::kContainerColumns +
                                            " FROM host_containers WHERE host_id = $1 ORDER BY pos";
  DW_ASSIGN_OR_RETURN(auto k, c.Exec("containers_get", kContainersGet.c_str(), {host_id}));
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
  static const std::string kImagesGet =
      std::string("SELECT ") + store_rows::kImageRowColumns + " FROM host_containers";
  DW_ASSIGN_OR_RETURN(auto r, c.Exec("images_get", kImagesGet.c_str(), {}));
  std::vector<ImageRow> rows;
  for (int i = 0; i < r.size(); ++i) rows.push_back(store_rows::ReadImageRow(PgRow(r, i)));
  return AggregateImages(rows);
}

Result<std::vector<FleetContainer>> PgReadContainers(PgConn& c, const ContainerQuery& q) {
  // One statement for every filter combination: an unset filter binds NULL
  // and its condition folds away. Host ids compare bytewise (COLLATE "C"),
  // as the SQLite store orders them.
  static const std::string kSql =
      std::string("SELECT host_id, pos, ") + store_rows::kContainerColumns +
      " FROM host_containers WHERE ($1::text IS NULL OR host_id = $1) "
      "AND ($2::text IS NULL OR image = $2) AND ($3::text IS NULL OR image_digest = $3) "
      "AND ($4::text IS NULL OR runtime = $4) AND ($5::text IS NULL OR k8s_namespace = $5) "
      "AND ($6::text IS NULL OR k8s_pod = $6) AND ($7::bool IS NULL OR (events > 0) = $7) "
      "AND ($8::int = 0 OR k8s_namespace <> '') AND (host_id COLLATE \"C\" > $9::text OR "
      "(host_id = $9 AND pos > $10::int)) ORDER BY host_id COLLATE \"C\", pos LIMIT $11";
  auto opt = [](const std::string& v) { return v.empty() ? PgParam() : PgParam(v); };
  DW_ASSIGN_OR_RETURN(
      auto r, c.Exec("containers_list", kSql.c_str(),
                     {opt(q.host), opt(q.image), opt(q.digest), opt(q.runtime),
                      opt(q.k8s_namespace), opt(q.k8s_pod),
                      q.drifted ? PgParam(std::string(*q.drifted ? "true" : "false")) : PgParam(),
                      PgInt(q.kubernetes_only ? 1 : 0), q.after ? q.after->first : std::string(),
                      PgInt(q.after ? q.after->second : -1), PgInt(q.limit)}));
  std::vector<FleetContainer> out;
  out.reserve(r.size());
  for (int i = 0; i < r.size(); ++i) out.push_back(store_rows::ReadFleetContainer(PgRow(r, i)));
  return out;
}

}  // namespace driftwatch::collector
