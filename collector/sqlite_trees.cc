// The SQLite TreeStore (sqlite_trees.h). Ids are stored as their 32 hex
// digits, as every other root of the schema; objects as BLOBs.
#include "collector/sqlite_trees.h"

#include <algorithm>

#include "collector/tree_objects.h"

namespace driftwatch::collector {
namespace {

class SqliteTreeStore : public TreeStore {
 public:
  SqliteTreeStore(sqlite::Db& db, std::mutex& mu) : db_(db), mu_(mu) {}

  Result<std::vector<bool>> HasTrees(const std::vector<Hash128>& ids) override {
    std::lock_guard<std::mutex> lock(mu_);
    return HasLocked(ids);
  }

  Result<int64_t> PutTrees(const std::vector<TreeObject>& objects, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
    DW_ASSIGN_OR_RETURN(
        std::vector<Hash128> missing,
        MissingChildren(objects, [&](const std::vector<Hash128>& ids) { return HasLocked(ids); }));
    if (!missing.empty()) return MissingObjectsError(missing);
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("INSERT INTO tree_objects(id, data, stored_ns) "
                                            "VALUES(?, ?, ?) ON CONFLICT(id) DO NOTHING"));
    int64_t added = 0;
    for (const TreeObject& o : objects) {
      DW_RETURN_IF_ERROR(s.Bind(1, o.id.Hex()).BindBlob(2, o.data).Bind(3, now_ns).Run());
      added += db_.Changes();
    }
    DW_RETURN_IF_ERROR(tx.Commit());
    return added;
  }

  Result<std::vector<std::optional<std::string>>> GetTrees(
      const std::vector<Hash128>& ids) override {
    std::lock_guard<std::mutex> lock(mu_);
    return GetLocked(ids);
  }

  Status SetHostTree(const HostTree& tree) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
    DW_RETURN_IF_ERROR(HostExists(tree.host_id));
    DW_ASSIGN_OR_RETURN(std::vector<bool> held, HasLocked({tree.root}));
    if (!held[0]) return MissingObjectsError({tree.root});
    {
      // The root it replaces joins the history, dated by when it stopped
      // being current (retention counts from then).
      DW_ASSIGN_OR_RETURN(auto s,
                          db_.Prepare("INSERT INTO host_tree_history(host_id, root, "
                                      "replaced_ns) SELECT host_id, root, ? FROM "
                                      "host_trees WHERE host_id = ? AND root <> ? "
                                      "ON CONFLICT(host_id, root) DO UPDATE SET "
                                      "replaced_ns = max(replaced_ns, excluded.replaced_ns)"));
      DW_RETURN_IF_ERROR(
          s.Bind(1, tree.set_ns).Bind(2, tree.host_id).Bind(3, tree.root.Hex()).Run());
    }
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("INSERT INTO host_trees(host_id, root, set_ns, "
                                            "host_specific) VALUES(?, ?, ?, ?) "
                                            "ON CONFLICT(host_id) DO UPDATE SET root = "
                                            "excluded.root, set_ns = excluded.set_ns, "
                                            "host_specific = excluded.host_specific"));
    DW_RETURN_IF_ERROR(s.Bind(1, tree.host_id)
                           .Bind(2, tree.root.Hex())
                           .Bind(3, tree.set_ns)
                           .Bind(4, HostSpecificToText(tree.host_specific))
                           .Run());
    return tx.Commit();
  }

  Result<std::optional<HostTree>> GetHostTree(const std::string& host_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_RETURN_IF_ERROR(HostExists(host_id));
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT host_id, root, set_ns, host_specific FROM "
                                            "host_trees WHERE host_id = ?"));
    s.Bind(1, host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<HostTree>();
    DW_ASSIGN_OR_RETURN(HostTree t, ReadHostTree(s));
    return std::optional<HostTree>(std::move(t));
  }

  Result<std::vector<HostTree>> GroupTrees(const std::string& group) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT t.host_id, t.root, t.set_ns, t.host_specific "
                                            "FROM host_trees t JOIN hosts h ON h.id = t.host_id "
                                            "WHERE h.grp = ? ORDER BY t.host_id"));
    s.Bind(1, group);
    std::vector<HostTree> out;
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      DW_ASSIGN_OR_RETURN(HostTree t, ReadHostTree(s));
      out.push_back(std::move(t));
    }
    return out;
  }

  Result<int64_t> AddGroupBaseline(const GroupBaseline& b) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
    DW_ASSIGN_OR_RETURN(std::vector<bool> held, HasLocked({b.root}));
    if (!held[0]) return MissingObjectsError({b.root});
    DW_ASSIGN_OR_RETURN(auto q, db_.Prepare("SELECT coalesce(max(revision), 0) + 1 FROM "
                                            "group_baselines WHERE grp = ?"));
    q.Bind(1, b.group);
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    const int64_t revision = row ? q.Int(0) : 1;
    q.Reset();
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("INSERT INTO group_baselines(grp, revision, root, "
                                            "source, by_who, why, created_ns) "
                                            "VALUES(?, ?, ?, ?, ?, ?, ?)"));
    DW_RETURN_IF_ERROR(s.Bind(1, b.group)
                           .Bind(2, revision)
                           .Bind(3, b.root.Hex())
                           .Bind(4, b.source)
                           .Bind(5, b.by)
                           .Bind(6, b.why)
                           .Bind(7, b.created_ns)
                           .Run());
    DW_RETURN_IF_ERROR(tx.Commit());
    return revision;
  }

  Result<std::optional<GroupBaseline>> GetGroupBaseline(const std::string& group,
                                                        int64_t revision) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare(std::string(kBaselineSelect) +
                                            " WHERE grp = ?1 AND (?2 = 0 OR revision = ?2) "
                                            "ORDER BY revision DESC LIMIT 1"));
    s.Bind(1, group).Bind(2, revision);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<GroupBaseline>();
    DW_ASSIGN_OR_RETURN(GroupBaseline b, ReadBaseline(s));
    return std::optional<GroupBaseline>(std::move(b));
  }

  Result<std::vector<GroupBaseline>> ListGroupBaselines(const std::string& group) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare(std::string(kBaselineSelect) +
                                            " WHERE grp = ? ORDER BY revision DESC"));
    s.Bind(1, group);
    std::vector<GroupBaseline> out;
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      DW_ASSIGN_OR_RETURN(GroupBaseline b, ReadBaseline(s));
      out.push_back(std::move(b));
    }
    return out;
  }

  Result<int64_t> PruneTrees(int64_t cutoff_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
    {
      DW_ASSIGN_OR_RETURN(auto s,
                          db_.Prepare("DELETE FROM host_tree_history WHERE replaced_ns < ?"));
      DW_RETURN_IF_ERROR(s.Bind(1, cutoff_ns).Run());
    }
    std::vector<Hash128> roots;
    {
      DW_ASSIGN_OR_RETURN(auto s,
                          db_.Prepare("SELECT root FROM host_trees UNION SELECT root FROM "
                                      "host_tree_history UNION SELECT root FROM group_baselines "
                                      "UNION SELECT id FROM tree_objects WHERE stored_ns >= ?"));
      s.Bind(1, cutoff_ns);
      while (true) {
        DW_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        auto id = ParseTreeId(s.Text(0));
        if (!id.ok()) return Status::Corruption("a stored tree root is not a tree id");
        roots.push_back(*id);
      }
    }
    DW_ASSIGN_OR_RETURN(Hash128Set keep, MarkTrees(roots, [&](const std::vector<Hash128>& ids) {
                          return GetLocked(ids);
                        }));
    DW_RETURN_IF_ERROR(db_.Exec("CREATE TEMP TABLE IF NOT EXISTS tree_keep(id TEXT PRIMARY KEY)"));
    DW_RETURN_IF_ERROR(db_.Exec("DELETE FROM temp.tree_keep"));
    {
      DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("INSERT INTO temp.tree_keep(id) VALUES(?)"));
      for (const Hash128& id : keep) DW_RETURN_IF_ERROR(s.Bind(1, id.Hex()).Run());
    }
    DW_RETURN_IF_ERROR(
        db_.Exec("DELETE FROM tree_objects WHERE id NOT IN (SELECT id FROM temp.tree_keep)"));
    const int64_t removed = db_.Changes();
    DW_RETURN_IF_ERROR(db_.Exec("DELETE FROM temp.tree_keep"));
    DW_RETURN_IF_ERROR(tx.Commit());
    return removed;
  }

  Result<TreeStoreCounts> CountTrees() override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT (SELECT count(*) FROM tree_objects), "
                                            "(SELECT coalesce(sum(length(data)), 0) FROM "
                                            "tree_objects), (SELECT count(*) FROM host_trees)"));
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    TreeStoreCounts c;
    if (row) {
      c.objects = s.Int(0);
      c.bytes = s.Int(1);
      c.host_trees = s.Int(2);
    }
    return c;
  }

 private:
  static constexpr const char* kBaselineSelect =
      "SELECT grp, revision, root, source, by_who, why, created_ns FROM group_baselines";

  Result<std::vector<bool>> HasLocked(const std::vector<Hash128>& ids) {
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT 1 FROM tree_objects WHERE id = ?"));
    std::vector<bool> out;
    out.reserve(ids.size());
    for (const Hash128& id : ids) {
      s.Bind(1, id.Hex());
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      out.push_back(row);
      s.Reset();
    }
    return out;
  }

  Result<std::vector<std::optional<std::string>>> GetLocked(const std::vector<Hash128>& ids) {
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT data FROM tree_objects WHERE id = ?"));
    std::vector<std::optional<std::string>> out;
    out.reserve(ids.size());
    for (const Hash128& id : ids) {
      s.Bind(1, id.Hex());
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      out.push_back(row ? std::optional<std::string>(s.Blob(0)) : std::nullopt);
      s.Reset();
    }
    return out;
  }

  Status HostExists(const std::string& host_id) {
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT 1 FROM hosts WHERE id = ?"));
    s.Bind(1, host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("unknown host '" + host_id + "'");
    return Status::Ok();
  }

  static Result<HostTree> ReadHostTree(const sqlite::Stmt& s) {
    HostTree t;
    t.host_id = s.Text(0);
    auto root = ParseTreeId(s.Text(1));
    if (!root.ok()) return Status::Corruption("host_trees.root of '" + t.host_id + "'");
    t.root = *root;
    t.set_ns = s.Int(2);
    DW_ASSIGN_OR_RETURN(t.host_specific, HostSpecificFromText(s.Text(3)));
    return t;
  }

  static Result<GroupBaseline> ReadBaseline(const sqlite::Stmt& s) {
    GroupBaseline b;
    b.group = s.Text(0);
    b.revision = s.Int(1);
    auto root = ParseTreeId(s.Text(2));
    if (!root.ok()) return Status::Corruption("group_baselines.root of '" + b.group + "'");
    b.root = *root;
    b.source = s.Text(3);
    b.by = s.Text(4);
    b.why = s.Text(5);
    b.created_ns = s.Int(6);
    return b;
  }

  sqlite::Db& db_;
  std::mutex& mu_;  // the fleet store's: guards db_
};

}  // namespace

std::unique_ptr<TreeStore> NewSqliteTreeStore(sqlite::Db& db, std::mutex& mu) {
  return std::make_unique<SqliteTreeStore>(db, mu);
}

}  // namespace driftwatch::collector
