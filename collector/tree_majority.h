// The majority tree of a group (POST /groups/{G}/baselines with
// from_majority, `driftwatch-collector baseline --from-majority`; docs/api.md):
// at every path, the entry most of the group's hosts hold (MajoritySide,
// tree_outliers.h), a path absent on most hosts left out, and host-specific
// paths taken from no one (left out with everything beneath them).
//
// Built bottom-up with the walk of tree_walk.h: where all holders of a
// directory share one tree and no host-specific path lies beneath it, that
// tree is taken as it is, so the new objects are those on the paths where
// the group disagrees. The same build over one host makes a baseline from
// that host with the host-specific paths left out. Explicit stack, no
// recursion on tree depth.
//
// Thread-safety: uses only its arguments.
#ifndef DRIFTWATCH_COLLECTOR_TREE_MAJORITY_H_
#define DRIFTWATCH_COLLECTOR_TREE_MAJORITY_H_

#include <cstdint>
#include <vector>

#include "collector/tree_store.h"
#include "collector/tree_walk.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::collector {

struct MajorityTree {
  Hash128 root;
  // Objects the build made, children before parents, each once; some may
  // already be stored.
  std::vector<TreeObject> objects;
  int64_t objects_loaded = 0;
};

// The majority tree of `roots` without the paths `skip` covers.
// kFailedPrecondition when there is no root.
Result<MajorityTree> BuildMajorityTree(TreeStore& store, const std::vector<Hash128>& roots,
                                       const HostSpecificPaths& skip);

// BuildMajorityTree, then the new objects stored with one PutTrees; the root.
Result<Hash128> StoreMajorityTree(TreeStore& store, const std::vector<Hash128>& roots,
                                  const HostSpecificPaths& skip, int64_t now_ns);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_TREE_MAJORITY_H_
