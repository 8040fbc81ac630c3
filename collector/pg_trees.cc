// The PostgreSQL TreeStore (pg_trees.h). Lists of ids go to the server as
// one text[] parameter, so HasTrees, GetTrees and PutTrees are one round
// trip each; object bytes travel as hex (decode/encode).
#include "collector/pg_trees.h"

#include <unordered_map>

#include "collector/tree_objects.h"
#include "core/hash.h"

namespace driftwatch::collector {
namespace {

// Ids per statement: bounds one parameter's size (33 bytes an id).
constexpr size_t kIdsPerStatement = 1000;

std::vector<std::string> HexIds(const std::vector<Hash128>& ids, size_t from, size_t to) {
  std::vector<std::string> out;
  out.reserve(to - from);
  for (size_t i = from; i < to; ++i) out.push_back(ids[i].Hex());
  return out;
}

Result<std::vector<bool>> Has(PgConn& c, const std::vector<Hash128>& ids) {
  std::vector<bool> out(ids.size(), false);
  for (size_t from = 0; from < ids.size(); from += kIdsPerStatement) {
    const size_t to = std::min(ids.size(), from + kIdsPerStatement);
    DW_ASSIGN_OR_RETURN(
        auto r, c.Exec("trees_has", "SELECT id FROM tree_objects WHERE id = ANY($1::text[])",
                       {PgArray(HexIds(ids, from, to))}));
    Hash128Set held;
    for (int i = 0; i < r.size(); ++i) {
      auto id = ParseTreeId(r.Text(i, 0));
      if (id.ok()) held.insert(*id);
    }
    for (size_t i = from; i < to; ++i) out[i] = held.count(ids[i]) != 0;
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> Get(PgConn& c, const std::vector<Hash128>& ids) {
  std::vector<std::optional<std::string>> out(ids.size());
  for (size_t from = 0; from < ids.size(); from += kIdsPerStatement) {
    const size_t to = std::min(ids.size(), from + kIdsPerStatement);
    DW_ASSIGN_OR_RETURN(auto r, c.Exec("trees_get",
                                       "SELECT id, encode(data, 'hex') FROM tree_objects "
                                       "WHERE id = ANY($1::text[])",
                                       {PgArray(HexIds(ids, from, to))}));
    std::unordered_map<Hash128, std::string, Hash128Hasher> found;
    for (int i = 0; i < r.size(); ++i) {
      auto id = ParseTreeId(r.Text(i, 0));
      if (!id.ok()) return Status::Corruption("tree_objects: an id is not a tree id");
      DW_ASSIGN_OR_RETURN(std::string bytes, HexDecode(r.Text(i, 1)));
      found.emplace(*id, std::move(bytes));
    }
    for (size_t i = from; i < to; ++i) {
      auto it = found.find(ids[i]);
      if (it != found.end()) out[i] = it->second;  // a repeated id gets the bytes again
    }
  }
  return out;
}

Result<HostTree> ReadHostTree(const PgRows& r, int row) {
  HostTree t;
  t.host_id = r.Text(row, 0);
  auto root = ParseTreeId(r.Text(row, 1));
  if (!root.ok()) return Status::Corruption("host_trees.root of '" + t.host_id + "'");
  t.root = *root;
  t.set_ns = r.Int(row, 2);
  DW_ASSIGN_OR_RETURN(t.host_specific, HostSpecificFromText(r.Text(row, 3)));
  return t;
}

Result<GroupBaseline> ReadBaseline(const PgRows& r, int row) {
  GroupBaseline b;
  b.group = r.Text(row, 0);
  b.revision = r.Int(row, 1);
  auto root = ParseTreeId(r.Text(row, 2));
  if (!root.ok()) return Status::Corruption("group_baselines.root of '" + b.group + "'");
  b.root = *root;
  b.source = r.Text(row, 3);
  b.by = r.Text(row, 4);
  b.why = r.Text(row, 5);
  b.created_ns = r.Int(row, 6);
  return b;
}

const std::string kTreeLockShared =
    "SELECT pg_advisory_xact_lock_shared(" + std::to_string(kPgTreeLock) + ")";
const std::string kTreeLockExclusive =
    "SELECT pg_advisory_xact_lock(" + std::to_string(kPgTreeLock) + ")";

class PgTreeStore : public TreeStore {
 public:
  explicit PgTreeStore(PgPool& pool) : pool_(pool) {}

  Result<std::vector<bool>> HasTrees(const std::vector<Hash128>& ids) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    return Has(*c, ids);
  }

  Result<int64_t> PutTrees(const std::vector<TreeObject>& objects, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    PgTx tx(*c);
    DW_RETURN_IF_ERROR(tx.Begin(kTreeLockShared));
    DW_ASSIGN_OR_RETURN(
        std::vector<Hash128> missing,
        MissingChildren(objects, [&](const std::vector<Hash128>& ids) { return Has(*c, ids); }));
    if (!missing.empty()) return MissingObjectsError(missing);
    int64_t added = 0;
    for (size_t from = 0; from < objects.size(); from += kIdsPerStatement) {
      const size_t to = std::min(objects.size(), from + kIdsPerStatement);
      std::vector<std::string> ids;
      std::vector<std::string> data;
      for (size_t i = from; i < to; ++i) {
        ids.push_back(objects[i].id.Hex());
        data.push_back(HexEncode(objects[i].data));
      }
      DW_ASSIGN_OR_RETURN(auto r, c->Exec("trees_put",
                                          "INSERT INTO tree_objects(id, data, stored_ns) "
                                          "SELECT i, decode(d, 'hex'), $3 FROM "
                                          "unnest($1::text[], $2::text[]) AS u(i, d) "
                                          "ON CONFLICT (id) DO NOTHING",
                                          {PgArray(ids), PgArray(data), PgInt(now_ns)}));
      added += r.affected();
    }
    DW_RETURN_IF_ERROR(tx.Commit());
    return added;
  }

  Result<std::vector<std::optional<std::string>>> GetTrees(
      const std::vector<Hash128>& ids) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    return Get(*c, ids);
  }

  Status SetHostTree(const HostTree& tree) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    PgTx tx(*c);
    DW_RETURN_IF_ERROR(tx.Begin(kTreeLockShared));
    DW_ASSIGN_OR_RETURN(
        auto h,
        c->Exec("trees_host_lock", "SELECT 1 FROM hosts WHERE id = $1 FOR SHARE", {tree.host_id}));
    if (h.size() == 0) return Status::NotFound("unknown host '" + tree.host_id + "'");
    DW_ASSIGN_OR_RETURN(std::vector<bool> held, Has(*c, {tree.root}));
    if (!held[0]) return MissingObjectsError({tree.root});
    const std::string root = tree.root.Hex();
    // The root it replaces joins the history, dated by when it stopped
    // being current (retention counts from then).
    DW_RETURN_IF_ERROR(c->Exec("trees_history",
                               "INSERT INTO host_tree_history(host_id, root, replaced_ns) "
                               "SELECT host_id, root, $3 FROM host_trees WHERE host_id = $1 "
                               "AND root <> $2 ON CONFLICT (host_id, root) DO UPDATE SET "
                               "replaced_ns = greatest(host_tree_history.replaced_ns, "
                               "excluded.replaced_ns)",
                               {tree.host_id, root, PgInt(tree.set_ns)})
                           .status());
    DW_RETURN_IF_ERROR(
        c->Exec("trees_set_host",
                "INSERT INTO host_trees(host_id, root, set_ns, host_specific) "
                "VALUES($1, $2, $3, $4) ON CONFLICT (host_id) DO UPDATE SET "
                "root = excluded.root, set_ns = excluded.set_ns, "
                "host_specific = excluded.host_specific",
                {tree.host_id, root, PgInt(tree.set_ns), HostSpecificToText(tree.host_specific)})
            .status());
    return tx.Commit();
  }

  Result<std::optional<HostTree>> GetHostTree(const std::string& host_id) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("trees_get_host",
                                        "SELECT h.id, t.root, t.set_ns, t.host_specific FROM "
                                        "hosts h LEFT JOIN host_trees t ON t.host_id = h.id "
                                        "WHERE h.id = $1",
                                        {host_id}));
    if (r.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
    if (r.IsNull(0, 1)) return std::optional<HostTree>();
    DW_ASSIGN_OR_RETURN(HostTree t, ReadHostTree(r, 0));
    return std::optional<HostTree>(std::move(t));
  }

  Result<std::vector<HostTree>> GroupTrees(const std::string& group) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("trees_group",
                                        "SELECT t.host_id, t.root, t.set_ns, t.host_specific "
                                        "FROM host_trees t JOIN hosts h ON h.id = t.host_id "
                                        "WHERE h.grp = $1 ORDER BY t.host_id COLLATE \"C\"",
                                        {group}));
    std::vector<HostTree> out;
    for (int i = 0; i < r.size(); ++i) {
      DW_ASSIGN_OR_RETURN(HostTree t, ReadHostTree(r, i));
      out.push_back(std::move(t));
    }
    return out;
  }

  Result<int64_t> AddGroupBaseline(const GroupBaseline& b) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    PgTx tx(*c);
    DW_RETURN_IF_ERROR(tx.Begin(kTreeLockShared));
    DW_ASSIGN_OR_RETURN(std::vector<bool> held, Has(*c, {b.root}));
    if (!held[0]) return MissingObjectsError({b.root});
    // Revisions of a group are numbered by the one writer holding this lock.
    DW_RETURN_IF_ERROR(
        c->Exec("trees_baseline_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgTreeLock + 1)})
            .status());
    DW_ASSIGN_OR_RETURN(
        auto r, c->Exec("trees_add_baseline",
                        "INSERT INTO group_baselines(grp, revision, root, source, by_who, why, "
                        "created_ns) SELECT $1, coalesce(max(revision), 0) + 1, $2, $3, $4, $5, "
                        "$6 FROM group_baselines WHERE grp = $1 RETURNING revision",
                        {b.group, b.root.Hex(), b.source, b.by, b.why, PgInt(b.created_ns)}));
    if (r.size() != 1) return Status::Internal("group baseline: no revision returned");
    const int64_t revision = r.Int(0, 0);
    DW_RETURN_IF_ERROR(tx.Commit());
    return revision;
  }

  Result<std::optional<GroupBaseline>> GetGroupBaseline(const std::string& group,
                                                        int64_t revision) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    DW_ASSIGN_OR_RETURN(auto r,
                        c->Exec("trees_get_baseline",
                                "SELECT grp, revision, root, source, by_who, why, "
                                "created_ns FROM group_baselines WHERE grp = $1 AND "
                                "($2::bigint = 0 OR revision = $2::bigint) ORDER BY revision DESC "
                                "LIMIT 1",
                                {group, PgInt(revision)}));
    if (r.size() == 0) return std::optional<GroupBaseline>();
    DW_ASSIGN_OR_RETURN(GroupBaseline b, ReadBaseline(r, 0));
    return std::optional<GroupBaseline>(std::move(b));
  }

  Result<std::vector<GroupBaseline>> ListGroupBaselines(const std::string& group) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("trees_list_baselines",
                                        "SELECT grp, revision, root, source, by_who, why, "
                                        "created_ns FROM group_baselines WHERE grp = $1 "
                                        "ORDER BY revision DESC",
                                        {group}));
    std::vector<GroupBaseline> out;
    for (int i = 0; i < r.size(); ++i) {
      DW_ASSIGN_OR_RETURN(GroupBaseline b, ReadBaseline(r, i));
      out.push_back(std::move(b));
    }
    return out;
  }

  Result<int64_t> PruneTrees(int64_t cutoff_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    PgTx tx(*c);
    DW_RETURN_IF_ERROR(tx.Begin(kTreeLockExclusive));
    DW_RETURN_IF_ERROR(c->Exec("trees_prune_history",
                               "DELETE FROM host_tree_history WHERE replaced_ns < $1",
                               {PgInt(cutoff_ns)})
                           .status());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("trees_roots",
                                        "SELECT root FROM host_trees UNION SELECT root FROM "
                                        "host_tree_history UNION SELECT root FROM "
                                        "group_baselines UNION SELECT id FROM tree_objects "
                                        "WHERE stored_ns >= $1",
                                        {PgInt(cutoff_ns)}));
    std::vector<Hash128> roots;
    for (int i = 0; i < r.size(); ++i) {
      auto id = ParseTreeId(r.Text(i, 0));
      if (!id.ok()) return Status::Corruption("a stored tree root is not a tree id");
      roots.push_back(*id);
    }
    DW_ASSIGN_OR_RETURN(Hash128Set keep, MarkTrees(roots, [&](const std::vector<Hash128>& ids) {
                          return Get(*c, ids);
                        }));
    DW_RETURN_IF_ERROR(
        c->ExecScript("CREATE TEMP TABLE IF NOT EXISTS tree_keep(id TEXT PRIMARY "
                      "KEY) ON COMMIT DELETE ROWS"));
    std::vector<std::string> batch;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::Ok();
      auto ins = c->Exec("trees_keep", "INSERT INTO tree_keep SELECT unnest($1::text[])",
                         {PgArray(batch)});
      batch.clear();
      return ins.status();
    };
    for (const Hash128& id : keep) {
      batch.push_back(id.Hex());
      if (batch.size() == kIdsPerStatement) DW_RETURN_IF_ERROR(flush());
    }
    DW_RETURN_IF_ERROR(flush());
    DW_ASSIGN_OR_RETURN(auto del, c->Exec("trees_sweep",
                                          "DELETE FROM tree_objects o WHERE NOT EXISTS "
                                          "(SELECT 1 FROM tree_keep k WHERE k.id = o.id)",
                                          {}));
    const int64_t removed = del.affected();
    DW_RETURN_IF_ERROR(tx.Commit());
    return removed;
  }

  Result<TreeStoreCounts> CountTrees() override {
    DW_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("trees_count",
                                        "SELECT (SELECT count(*) FROM tree_objects), "
                                        "(SELECT coalesce(sum(length(data)), 0) FROM "
                                        "tree_objects), (SELECT count(*) FROM host_trees)",
                                        {}));
    TreeStoreCounts out;
    if (r.size() > 0) {
      out.objects = r.Int(0, 0);
      out.bytes = r.Int(0, 1);
      out.host_trees = r.Int(0, 2);
    }
    return out;
  }

 private:
  PgPool& pool_;
};

}  // namespace

std::unique_ptr<TreeStore> NewPgTreeStore(PgPool& pool) {
  return std::make_unique<PgTreeStore>(pool);
}

}  // namespace driftwatch::collector
