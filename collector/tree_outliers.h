// Peer drift (GET /fleet/outliers, docs/api.md): for every path where the
// hosts of a group disagree, the entry most of them hold and the hosts that
// differ from it. Computed by WalkDisagreements (tree_walk.h), so its cost
// follows the distinct subtrees where the group disagrees. Host-specific
// paths (the union of the hosts' `host_specific`, each with everything
// beneath it) are left out and counted.
//
// The majority of a path is taken among the hosts that hold its directory:
// a host without /etc/cron.d is an outlier at /etc/cron.d, not at every file
// in it. Ties break by the entries' canonical bytes, an absent path first,
// so the answer does not depend on the order of hosts.
//
// Thread-safety: uses only its arguments.
#ifndef DRIFTWATCH_COLLECTOR_TREE_OUTLIERS_H_
#define DRIFTWATCH_COLLECTOR_TREE_OUTLIERS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/tree_store.h"
#include "collector/tree_walk.h"
#include "core/entry.h"
#include "core/status.h"

namespace driftwatch::collector {

struct Outlier {
  std::string host_id;
  std::optional<Entry> entry;  // nullopt: the host lacks the path
};

struct OutlierPath {
  std::string path;               // raw bytes
  std::optional<Entry> majority;  // nullopt: absent on most hosts
  int64_t holders = 0;            // hosts with the majority entry
  std::vector<Outlier> outliers;  // by host id
};

struct OutlierReport {
  std::vector<OutlierPath> paths;            // in path order
  std::vector<std::string> differing_hosts;  // outliers of any listed path, sorted
  int64_t ignored = 0;                       // disagreeing host-specific paths left out
  bool truncated = false;                    // more paths disagree than `limit`
  int64_t objects_loaded = 0;
};

// The majority side of a disagreement (see above for ties).
const PathSide& MajoritySide(const std::vector<PathSide>& sides);

// Outliers among `hosts` (their current trees) under `prefix` (a normal
// path), at most `limit` paths. Parsed objects are taken from and kept in
// `cache` (may be null). kInvalidArgument for a bad prefix.
Result<OutlierReport> FindOutliers(TreeStore& store, const std::vector<HostTree>& hosts,
                                   const std::string& prefix, size_t limit,
                                   TreeCache* cache = nullptr);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_TREE_OUTLIERS_H_
