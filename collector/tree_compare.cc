#include "collector/tree_compare.h"

#include <utility>

#include "collector/tree_walk.h"

namespace driftwatch::collector {

Result<CompareReport> ComparePaths(TreeStore& store, const Hash128& a, const Hash128& b,
                                   const std::string& prefix, size_t limit, TreeCache* cache) {
  CompareReport report;
  WalkOptions options;
  options.prefix = prefix;
  options.cache = cache;
  auto visit = [&](Disagreement d) {
    if (report.paths.size() >= limit) {
      report.truncated = true;
      return false;
    }
    PathDiff diff;
    diff.path = std::move(d.path);
    // Two hosts: two sides, each holding one host (0 is a, 1 is b).
    for (PathSide& side : d.sides) {
      if (!side.entry) continue;
      Entry e = std::move(*side.entry);
      if (e.type == EntryType::kDir) e.subtree = side.subtrees.front();
      (side.hosts.front() == 0 ? diff.a : diff.b) = std::move(e);
    }
    if (diff.a && diff.b) diff.changed = ChangedAttrs(*diff.a, *diff.b);
    report.paths.push_back(std::move(diff));
    return true;
  };
  DW_ASSIGN_OR_RETURN(WalkStats stats, WalkDisagreements(store, {a, b}, options, visit));
  report.objects_loaded = stats.objects_loaded;
  return report;
}

}  // namespace driftwatch::collector
