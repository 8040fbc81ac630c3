// MemoryTreeStore: collector/tree_store.h in memory, for the tests of the
// algorithms over the fleet's trees (compare, outliers, majority). It keeps
// hosts with their groups, tree objects, host trees and group baselines, and
// records every object GetTrees was asked for (reads()), so that a test can
// assert which objects a walk loaded, and how often.
//
// Hosts must be added (AddHost) before their trees are set, as enrollment
// does for the real stores; an unknown host is kNotFound. PruneTrees keeps
// everything (retention is the real stores' business, tested there).
//
// Also here: TreeBuilder, which makes hand-made trees from a list of paths
// and entries, and the entries tests use most.
//
// Thread-safety: thread-safe (one mutex).
#ifndef DRIFTWATCH_TESTS_TESTING_MEMORY_TREE_STORE_H_
#define DRIFTWATCH_TESTS_TESTING_MEMORY_TREE_STORE_H_

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/tree_store.h"
#include "core/entry.h"
#include "core/hash.h"
#include "core/normal_path.h"
#include "core/status.h"

namespace driftwatch::testutil {

class MemoryTreeStore final : public collector::TreeStore {
 public:
  void AddHost(const std::string& host_id, const std::string& group) {
    std::lock_guard lock(mu_);
    hosts_[host_id].group = group;
  }

  // Every id GetTrees was asked for, in order, and how many calls it took.
  std::vector<Hash128> reads() const {
    std::lock_guard lock(mu_);
    return reads_;
  }
  int get_calls() const {
    std::lock_guard lock(mu_);
    return get_calls_;
  }
  void ClearReads() {
    std::lock_guard lock(mu_);
    reads_.clear();
    get_calls_ = 0;
  }
  size_t object_count() const {
    std::lock_guard lock(mu_);
    return objects_.size();
  }

  Result<std::vector<bool>> HasTrees(const std::vector<Hash128>& ids) override {
    std::lock_guard lock(mu_);
    std::vector<bool> out;
    for (const Hash128& id : ids) out.push_back(objects_.count(id) > 0);
    return out;
  }
  Result<int64_t> PutTrees(const std::vector<collector::TreeObject>& objects,
                           int64_t /*now_ns*/) override {
    std::lock_guard lock(mu_);
    // The closure rule of the contract, checked as the Api would: every
    // subtree is held or comes earlier in the call.
    std::set<Hash128> batch;
    for (const collector::TreeObject& o : objects) {
      if (TreeHash(o.data) != o.id) return Status::InvalidArgument("id does not match data");
      auto tree = ParseTree(o.data);
      if (!tree.ok()) return tree.status();
      for (const Entry& e : tree->entries) {
        if (e.type == EntryType::kDir && objects_.count(e.subtree) == 0 &&
            batch.count(e.subtree) == 0) {
          return Status::InvalidArgument("object " + o.id.Hex() + " names a missing subtree " +
                                         e.subtree.Hex());
        }
      }
      batch.insert(o.id);
    }
    int64_t added = 0;
    for (const collector::TreeObject& o : objects) added += objects_.emplace(o.id, o.data).second;
    return added;
  }
  Result<std::vector<std::optional<std::string>>> GetTrees(
      const std::vector<Hash128>& ids) override {
    std::lock_guard lock(mu_);
    ++get_calls_;
    std::vector<std::optional<std::string>> out;
    for (const Hash128& id : ids) {
      reads_.push_back(id);
      auto it = objects_.find(id);
      out.push_back(it == objects_.end() ? std::nullopt : std::optional(it->second));
    }
    return out;
  }

  Status SetHostTree(const collector::HostTree& tree) override {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(tree.host_id);
    if (it == hosts_.end()) return Status::NotFound("host " + tree.host_id);
    it->second.tree = tree;
    return Status::Ok();
  }
  Result<std::optional<collector::HostTree>> GetHostTree(const std::string& host_id) override {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(host_id);
    if (it == hosts_.end()) return Status::NotFound("host " + host_id);
    return it->second.tree;
  }
  Result<std::vector<collector::HostTree>> GroupTrees(const std::string& group) override {
    std::lock_guard lock(mu_);
    std::vector<collector::HostTree> out;
    for (const auto& [id, h] : hosts_) {
      if (h.group == group && h.tree) out.push_back(*h.tree);
    }
    return out;
  }

  Result<int64_t> AddGroupBaseline(const collector::GroupBaseline& baseline) override {
    std::lock_guard lock(mu_);
    auto& list = baselines_[baseline.group];
    list.push_back(baseline);
    list.back().revision = static_cast<int64_t>(list.size());
    return list.back().revision;
  }
  Result<std::optional<collector::GroupBaseline>> GetGroupBaseline(const std::string& group,
                                                                   int64_t revision) override {
    std::lock_guard lock(mu_);
    auto it = baselines_.find(group);
    if (it == baselines_.end() || it->second.empty())
      return std::optional<collector::GroupBaseline>();
    if (revision == 0) return std::optional(it->second.back());
    if (revision < 0 || revision > static_cast<int64_t>(it->second.size())) {
      return std::optional<collector::GroupBaseline>();
    }
    return std::optional(it->second[revision - 1]);
  }
  Result<std::vector<collector::GroupBaseline>> ListGroupBaselines(
      const std::string& group) override {
    std::lock_guard lock(mu_);
    auto it = baselines_.find(group);
    if (it == baselines_.end()) return std::vector<collector::GroupBaseline>();
    return std::vector<collector::GroupBaseline>(it->second.rbegin(), it->second.rend());
  }

  Result<int64_t> PruneTrees(int64_t /*cutoff_ns*/) override { return int64_t{0}; }
  Result<collector::TreeStoreCounts> CountTrees() override {
    std::lock_guard lock(mu_);
    collector::TreeStoreCounts c;
    c.objects = static_cast<int64_t>(objects_.size());
    for (const auto& [id, data] : objects_) c.bytes += static_cast<int64_t>(data.size());
    for (const auto& [id, h] : hosts_) c.host_trees += h.tree.has_value();
    return c;
  }

 private:
  struct HostRow {
    std::string group;
    std::optional<collector::HostTree> tree;
  };
  mutable std::mutex mu_;
  std::map<std::string, HostRow> hosts_;                                    // guarded by mu_
  std::map<Hash128, std::string> objects_;                                  // guarded by mu_
  std::map<std::string, std::vector<collector::GroupBaseline>> baselines_;  // guarded by mu_
  std::vector<Hash128> reads_;                                              // guarded by mu_
  int get_calls_ = 0;                                                       // guarded by mu_
};

inline constexpr uint32_t kTestFileMask =
    kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrHash;
inline constexpr uint32_t kTestDirMask = kAttrType | kAttrPerm | kAttrUid | kAttrGid;

// A regular file whose content is `content` (only its size and digest are
// recorded, as a scan does).
inline Entry TestFile(std::string_view content, uint32_t mode = 0644) {
  Entry e;
  e.type = EntryType::kFile;
  e.mask = kTestFileMask;
  e.mode = mode;
  e.size = content.size();
  e.content = Hasher::Of(HashAlgo::kXxh128, content);
  return e;
}

inline Entry TestDir(uint32_t mode = 0755) {
  Entry e;
  e.type = EntryType::kDir;
  e.mask = kTestDirMask;
  e.mode = mode;
  return e;
}

inline Entry TestLink(std::string target) {
  Entry e;
  e.type = EntryType::kSymlink;
  e.mask = kAttrType | kAttrLink;
  e.link_target = std::move(target);
  return e;
}

// Builds a tree from paths: Add("/etc/ssh/sshd_config", TestFile("x"))
// makes /etc and /etc/ssh as TestDir() unless they were added themselves.
// Build() serializes it: the root's id and every object, children before
// parents, each once (identical directories share one object).
class TreeBuilder {
 public:
  TreeBuilder& Add(std::string_view path, Entry e) {
    Node* n = &root_;
    const std::vector<std::string> comps = PathComponents(path);
    for (size_t i = 0; i < comps.size(); ++i) {
      auto [it, fresh] = n->children.try_emplace(comps[i]);
      if (i + 1 == comps.size()) {
        it->second.entry = std::move(e);
      } else if (fresh) {
        it->second.entry = TestDir();
      }
      it->second.entry.name = comps[i];
      n = &it->second;
    }
    return *this;
  }
  TreeBuilder& Remove(std::string_view path) {
    Node* n = &root_;
    const std::vector<std::string> comps = PathComponents(path);
    for (size_t i = 0; i + 1 < comps.size(); ++i) n = &n->children.at(comps[i]);
    n->children.erase(comps.back());
    return *this;
  }

  struct Built {
    Hash128 root;
    std::vector<collector::TreeObject> objects;  // children first, no repeats
  };
  Built Build() const {
    Built out;
    std::set<Hash128> seen;
    out.root = Serialize(root_, &out, &seen);
    return out;
  }

 private:
  struct Node {
    Entry entry;
    std::map<std::string, Node> children;
  };
  // Recursion is fine here: test trees are a few levels deep.
  static Hash128 Serialize(const Node& n, Built* out, std::set<Hash128>* seen) {
    Tree t;
    for (const auto& [name, child] : n.children) {
      Entry e = child.entry;
      if (e.type == EntryType::kDir) e.subtree = Serialize(child, out, seen);
      t.entries.push_back(std::move(e));
    }
    std::string bytes = SerializeTree(t);
    const Hash128 id = TreeHash(bytes);
    if (seen->insert(id).second) out->objects.push_back({id, std::move(bytes)});
    return id;
  }
  Node root_;
};

// Stores a built tree in `store` and returns its root.
inline Hash128 StoreBuilt(collector::TreeStore& store, const TreeBuilder& b) {
  TreeBuilder::Built built = b.Build();
  auto put = store.PutTrees(built.objects, 0);
  if (!put.ok()) return Hash128();
  return built.root;
}

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_MEMORY_TREE_STORE_H_
