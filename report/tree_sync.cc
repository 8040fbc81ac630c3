#include "report/tree_sync.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "core/entry.h"

namespace driftwatch::report {
namespace {

struct HashOf {
  size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.low ^ (h.high * 31)); }
};
using IdSet = std::unordered_set<Hash128, HashOf>;

// The objects of `root` not among those of `base` (nullopt: every object),
// each once, children before parents (the order the collector takes them
// in): a directory is listed once everything below it is. Explicit stack:
// no recursion on the tree's depth.
Result<std::vector<Hash128>> NewObjects(TreeSource& trees, const Hash128& root,
                                        const std::optional<Hash128>& base) {
  struct Frame {
    Hash128 id;
    std::optional<Hash128> old;  // the object at the same place in the base
    bool expanded = false;
  };
  std::vector<Hash128> out;
  IdSet seen;
  std::vector<Frame> stack = {{root, base, false}};
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (f.expanded) {
      out.push_back(f.id);
      continue;
    }
    // An object already listed (or under way, which in a tree of hashes is
    // never an ancestor) is not listed again.
    if (f.id.IsZero() || (f.old && *f.old == f.id) || !seen.insert(f.id).second) continue;
    stack.push_back({f.id, std::nullopt, true});
    DW_ASSIGN_OR_RETURN(Tree tree, trees.Get(f.id));
    std::optional<Tree> old_tree;
    if (f.old && !f.old->IsZero()) {
      // A base the store no longer holds (pruned) compares as absent.
      if (Result<Tree> t = trees.Get(*f.old); t.ok()) old_tree = std::move(t).value();
    }
    size_t j = 0;
    for (const Entry& e : tree.entries) {
      if (e.type != EntryType::kDir || e.subtree.IsZero()) continue;
      std::optional<Hash128> before;
      if (old_tree) {
        const auto& olds = old_tree->entries;
        while (j < olds.size() && olds[j].name < e.name) ++j;
        if (j < olds.size() && olds[j].name == e.name && olds[j].type == EntryType::kDir) {
          before = olds[j].subtree;
        }
      }
      stack.push_back({e.subtree, before, false});
    }
  }
  return out;
}

// One exchange of offers, uploads (children first) and the root. Returns
// false when the collector lacked objects it should have had (409).
Result<bool> Exchange(CollectorClient& client, TreeSource& trees, const Hash128& root,
                      const std::vector<Hash128>& objects,
                      const std::vector<std::string>& host_specific, TreeSyncStats* stats) {
  // Offered children first, so that "want" comes back in upload order.
  const std::vector<Hash128>& order = objects;
  std::vector<Hash128> want;
  for (size_t i = 0; i < order.size(); i += kMaxOfferIds) {
    std::vector<Hash128> chunk(order.begin() + i,
                               order.begin() + std::min(order.size(), i + kMaxOfferIds));
    stats->offered += static_cast<int64_t>(chunk.size());
    ++stats->rounds;
    DW_ASSIGN_OR_RETURN(std::vector<Hash128> w, client.OfferTrees(chunk, &stats->sent_bytes));
    want.insert(want.end(), w.begin(), w.end());
  }
  std::vector<TreeObjectData> batch;
  size_t batch_bytes = 0;
  auto flush = [&]() -> Result<bool> {
    if (batch.empty()) return true;
    ++stats->rounds;
    DW_ASSIGN_OR_RETURN(TreeUploadAnswer a, client.UploadTrees(batch, &stats->sent_bytes));
    if (!a.missing.empty()) return false;
    stats->sent_objects += static_cast<int64_t>(batch.size());
    batch.clear();
    batch_bytes = 0;
    return true;
  };
  for (const Hash128& id : want) {
    DW_ASSIGN_OR_RETURN(Tree tree, trees.Get(id));
    std::string data = SerializeTree(tree);
    if (TreeHash(data) != id) {
      return Status::Corruption("tree " + id.Hex() + " in the store does not match its id");
    }
    if (!batch.empty() &&
        (batch.size() >= kMaxUploadObjects || batch_bytes + data.size() > kTreeUploadBatchBytes)) {
      DW_ASSIGN_OR_RETURN(bool ok, flush());
      if (!ok) return false;
    }
    batch_bytes += data.size();
    batch.push_back(TreeObjectData{id, std::move(data)});
  }
  DW_ASSIGN_OR_RETURN(bool ok, flush());
  if (!ok) return false;
  ++stats->rounds;
  DW_ASSIGN_OR_RETURN(std::vector<Hash128> missing,
                      client.SetHostTree(root, host_specific, &stats->sent_bytes));
  return missing.empty();
}

}  // namespace

Result<TreeSyncStats> SyncTree(CollectorClient& client, TreeSource& trees, const Hash128& root,
                               const std::optional<Hash128>& last_confirmed,
                               const std::vector<std::string>& host_specific) {
  TreeSyncStats stats;
  DW_ASSIGN_OR_RETURN(std::vector<Hash128> objects, NewObjects(trees, root, last_confirmed));
  DW_ASSIGN_OR_RETURN(bool done, Exchange(client, trees, root, objects, host_specific, &stats));
  if (done) return stats;
  // The collector lacks what it confirmed before: offer the whole tree.
  stats.full = true;
  DW_ASSIGN_OR_RETURN(objects, NewObjects(trees, root, std::nullopt));
  DW_ASSIGN_OR_RETURN(done, Exchange(client, trees, root, objects, host_specific, &stats));
  if (!done) {
    return Status::Unavailable("set tree " + root.Hex() +
                               ": the collector still lacks objects after the whole tree was "
                               "offered");
  }
  return stats;
}

Result<std::vector<std::string>> HostSpecificPaths(TreeSource& trees, const Hash128& root,
                                                   const rules::Policy& policy) {
  std::vector<std::string> out;
  if (!policy.PeerIgnoredBelow("/")) return out;
  std::vector<std::pair<std::string, Hash128>> stack = {{"/", root}};
  while (!stack.empty()) {
    auto [dir, id] = std::move(stack.back());
    stack.pop_back();
    DW_ASSIGN_OR_RETURN(Tree tree, trees.Get(id));
    for (const Entry& e : tree.entries) {
      std::string path = JoinPath(dir == "/" ? "" : dir, e.name);
      if (policy.PeerIgnored(path)) {
        if (out.size() >= kMaxHostSpecificPaths) {
          return Status::ResourceExhausted("more than " + std::to_string(kMaxHostSpecificPaths) +
                                           " host-specific paths (rules with peer: ignore)");
        }
        out.push_back(std::move(path));
      } else if (e.type == EntryType::kDir && !e.subtree.IsZero() &&
                 policy.PeerIgnoredBelow(path)) {
        stack.emplace_back(std::move(path), e.subtree);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace driftwatch::report
