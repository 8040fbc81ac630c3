// Path-level compare of two hosts' trees (GET /fleet/compare, docs/api.md):
// the paths where they differ, found by descending only where their subtree
// ids differ (tree_walk.h). A directory only one host has is one path, not
// one per path beneath it.
//
// Thread-safety: uses only its arguments.
#ifndef DRIFTWATCH_COLLECTOR_TREE_COMPARE_H_
#define DRIFTWATCH_COLLECTOR_TREE_COMPARE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/tree_cache.h"
#include "collector/tree_store.h"
#include "core/entry.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::collector {

struct PathDiff {
  std::string path;        // raw bytes
  std::optional<Entry> a;  // nullopt: only b has the path
  std::optional<Entry> b;  // nullopt: only a has the path
  uint32_t changed = 0;    // ChangedAttrs(a, b) when both are present
};

struct CompareReport {
  std::vector<PathDiff> paths;  // in path order
  bool truncated = false;       // more paths differ than `limit`
  int64_t objects_loaded = 0;
};

// The paths under `prefix` (a normal path; "/" for all) where the trees
// `a` and `b` differ, at most `limit` of them. kInvalidArgument for a bad
// prefix; kCorruption for an object the store lacks. Parsed objects are
// taken from and kept in `cache` (may be null).
Result<CompareReport> ComparePaths(TreeStore& store, const Hash128& a, const Hash128& b,
                                   const std::string& prefix, size_t limit,
                                   TreeCache* cache = nullptr);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_TREE_COMPARE_H_
