#include "collector/tree_majority.h"

#include <optional>
#include <set>
#include <string>
#include <utility>

#include "collector/tree_outliers.h"

namespace driftwatch::collector {

Result<MajorityTree> BuildMajorityTree(TreeStore& store, const std::vector<Hash128>& roots,
                                       const HostSpecificPaths& skip) {
  if (roots.empty()) return Status::FailedPrecondition("no host tree to build a majority from");
  MajorityTree out;
  std::vector<TreeGroup> groups = GroupRoots(roots);
  if (groups.size() == 1 && !skip.AnyBeneath("/")) {
    out.root = groups.front().id;
    return out;
  }
  // One directory being built: the entries chosen so far (in name order),
  // and the entry of the parent it becomes once its id is known.
  struct Frame {
    Level level;
    std::string dir;
    size_t next = 0;
    Tree built;
    Entry pending;
  };
  std::set<Hash128> made;
  std::vector<Frame> stack;
  out.objects_loaded += static_cast<int64_t>(groups.size());
  {
    DW_ASSIGN_OR_RETURN(Level level, Level::Load(store, std::move(groups)));
    stack.push_back(Frame{std::move(level), "", 0, Tree{}, Entry{}});
  }
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next >= f.level.size()) {
      std::string bytes = SerializeTree(f.built);
      const Hash128 id = TreeHash(bytes);
      if (made.insert(id).second) out.objects.push_back({id, std::move(bytes)});
      Entry done = std::move(f.pending);
      stack.pop_back();
      if (stack.empty()) {
        out.root = id;
      } else {
        done.subtree = id;
        stack.back().built.entries.push_back(std::move(done));
      }
      continue;
    }
    const size_t i = f.next++;
    std::string path = JoinPath(f.dir, f.level.name(i));
    if (skip.Covers(path)) continue;
    Entry chosen;
    if (f.level.Agree(i)) {
      chosen = f.level.First(i);
    } else {
      const std::vector<PathSide> sides = f.level.Sides(i);
      const PathSide& majority = MajoritySide(sides);
      if (!majority.entry) continue;  // absent on most hosts
      chosen = *majority.entry;
    }
    if (chosen.type != EntryType::kDir) {
      f.built.entries.push_back(std::move(chosen));
      continue;
    }
    std::vector<TreeGroup> children = f.level.Children(i);
    if (children.size() == 1 && !skip.AnyBeneath(path)) {
      chosen.subtree = children.front().id;
      f.built.entries.push_back(std::move(chosen));
      continue;
    }
    // `f` is not used past this point: the push may move it.
    out.objects_loaded += static_cast<int64_t>(children.size());
    DW_ASSIGN_OR_RETURN(Level child, Level::Load(store, std::move(children)));
    stack.push_back(Frame{std::move(child), std::move(path), 0, Tree{}, std::move(chosen)});
  }
  return out;
}

Result<Hash128> StoreMajorityTree(TreeStore& store, const std::vector<Hash128>& roots,
                                  const HostSpecificPaths& skip, int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(MajorityTree tree, BuildMajorityTree(store, roots, skip));
  if (!tree.objects.empty()) {
    DW_ASSIGN_OR_RETURN(int64_t stored, store.PutTrees(tree.objects, now_ns));
    (void)stored;
  }
  return tree.root;
}

}  // namespace driftwatch::collector
