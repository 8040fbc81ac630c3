#include "collector/group_baseline.h"

#include <vector>

#include "collector/tree_majority.h"
#include "collector/tree_walk.h"

namespace driftwatch::collector {

Result<GroupBaseline> MakeGroupBaseline(FleetStore& store, const GroupBaselineRequest& req,
                                        int64_t now_ns) {
  if (req.group.empty()) return Status::InvalidArgument("group: missing");
  if (req.why.empty()) return Status::InvalidArgument("why: say why the baseline changes");
  if (req.from_majority == !req.from_host.empty()) {
    return Status::InvalidArgument("give either from_host or from_majority");
  }
  TreeStore& trees = store.trees();
  DW_ASSIGN_OR_RETURN(std::vector<HostTree> group_trees, trees.GroupTrees(req.group));
  const HostSpecificPaths skip(group_trees);
  std::vector<Hash128> roots;
  GroupBaseline b;
  b.group = req.group;
  b.by = req.by;
  b.why = req.why;
  b.created_ns = now_ns;
  if (req.from_majority) {
    if (group_trees.empty()) {
      return Status::FailedPrecondition("no host of group '" + req.group +
                                        "' has sent its tree yet");
    }
    for (const HostTree& h : group_trees) roots.push_back(h.root);
    b.source = "majority";
  } else {
    DW_ASSIGN_OR_RETURN(HostRecord host, store.GetHost(req.from_host));
    if (host.group != req.group) {
      return Status::FailedPrecondition("host '" + req.from_host + "' is in group '" + host.group +
                                        "', not '" + req.group + "'");
    }
    DW_ASSIGN_OR_RETURN(std::optional<HostTree> tree, trees.GetHostTree(req.from_host));
    if (!tree) {
      return Status::FailedPrecondition("host '" + req.from_host + "' has not sent its tree yet");
    }
    roots.push_back(tree->root);
    b.source = "host:" + req.from_host;
  }
  DW_ASSIGN_OR_RETURN(b.root, StoreMajorityTree(trees, roots, skip, now_ns));
  DW_ASSIGN_OR_RETURN(b.revision, trees.AddGroupBaseline(b));
  return b;
}

}  // namespace driftwatch::collector
