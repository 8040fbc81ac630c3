// A new revision of a group's baseline (docs/collector.md "Fleet trees"),
// made by POST /groups/{G}/baselines and `driftwatch-collector baseline
// --group G --from-host H | --from-majority`: one place for both.
//
// --from-host takes that host's current tree, --from-majority the group's
// majority tree (tree_majority.h); either way the host-specific paths of
// the group's hosts are left out of it, and the objects it needs that are
// not stored yet are stored before the revision is added.
//
// Errors: kInvalidArgument for an empty group or why, for both or neither
// source; kNotFound for an unknown host; kFailedPrecondition for a host of
// another group, a host that never sent its tree, or a group none of whose
// hosts has sent one. Store errors are passed through.
// Thread-safety: as the store's.
#ifndef DRIFTWATCH_COLLECTOR_GROUP_BASELINE_H_
#define DRIFTWATCH_COLLECTOR_GROUP_BASELINE_H_

#include <cstdint>
#include <string>

#include "collector/store.h"
#include "collector/tree_store.h"
#include "core/status.h"

namespace driftwatch::collector {

struct GroupBaselineRequest {
  std::string group;
  std::string from_host;  // "" for the majority
  bool from_majority = false;
  std::string by;
  std::string why;
};

// Makes and stores the revision; returns it as stored (revision set).
Result<GroupBaseline> MakeGroupBaseline(FleetStore& store, const GroupBaselineRequest& req,
                                        int64_t now_ns);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_GROUP_BASELINE_H_
