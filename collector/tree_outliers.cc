#include "collector/tree_outliers.h"

#include <algorithm>
#include <set>
#include <utility>

namespace driftwatch::collector {

const PathSide& MajoritySide(const std::vector<PathSide>& sides) {
  // Sides come in key order (an absent path has the empty key, so it is
  // first): the first of the largest wins a tie.
  size_t best = 0;
  for (size_t i = 1; i < sides.size(); ++i) {
    if (sides[i].hosts.size() > sides[best].hosts.size()) best = i;
  }
  return sides[best];
}

Result<OutlierReport> FindOutliers(TreeStore& store, const std::vector<HostTree>& hosts,
                                   const std::string& prefix, size_t limit, TreeCache* cache) {
  OutlierReport report;
  std::vector<Hash128> roots;
  roots.reserve(hosts.size());
  for (const HostTree& h : hosts) roots.push_back(h.root);
  const HostSpecificPaths skip(hosts);
  WalkOptions options;
  options.prefix = prefix;
  options.skip = &skip;
  options.cache = cache;
  std::set<std::string> differing;
  auto visit = [&](Disagreement d) {
    if (report.paths.size() >= limit) {
      report.truncated = true;
      return false;
    }
    const PathSide& majority = MajoritySide(d.sides);
    OutlierPath p;
    p.path = std::move(d.path);
    p.majority = majority.entry;
    p.holders = static_cast<int64_t>(majority.hosts.size());
    for (const PathSide& side : d.sides) {
      if (&side == &majority) continue;
      for (size_t j = 0; j < side.hosts.size(); ++j) {
        Outlier o;
        o.host_id = hosts[side.hosts[j]].host_id;
        o.entry = side.entry;
        if (o.entry && !side.subtrees.empty()) o.entry->subtree = side.subtrees[j];
        differing.insert(o.host_id);
        p.outliers.push_back(std::move(o));
      }
    }
    std::sort(p.outliers.begin(), p.outliers.end(),
              [](const Outlier& x, const Outlier& y) { return x.host_id < y.host_id; });
    report.paths.push_back(std::move(p));
    return true;
  };
  DW_ASSIGN_OR_RETURN(WalkStats stats, WalkDisagreements(store, roots, options, visit));
  report.differing_hosts.assign(differing.begin(), differing.end());
  report.ignored = stats.ignored;
  report.objects_loaded = stats.objects_loaded;
  return report;
}

}  // namespace driftwatch::collector
