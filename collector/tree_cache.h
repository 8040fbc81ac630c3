// TreeCache: parsed tree objects by id, shared by the walks over the
// fleet's trees (tree_walk.h) so that /fleet/outliers on a large group does
// not read and parse the same objects from the store on every request.
//
// Tree objects are content-addressed and never change (same id = same
// bytes), so a cached tree is never stale: the cache needs no invalidation,
// only a bound. It holds at most `max_bytes` of parsed trees (each charged
// its serialized size plus its in-memory overhead, TreeCost) and forgets the
// least recently used ones first. A tree larger than the whole budget is
// handed back without being kept. A budget of 0 keeps nothing.
//
// Thread-safety: thread-safe (one mutex); the trees handed out are
// immutable and stay valid while the caller holds them, evicted or not.
#ifndef DRIFTWATCH_COLLECTOR_TREE_CACHE_H_
#define DRIFTWATCH_COLLECTOR_TREE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>

#include "core/entry.h"
#include "core/hash.h"

namespace driftwatch::collector {

// What a parsed tree of `serialized_bytes` bytes is charged in a TreeCache.
size_t TreeCost(const Tree& tree, size_t serialized_bytes);

struct TreeCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
  size_t bytes = 0;    // charged bytes held
  size_t objects = 0;  // trees held
};

class TreeCache {
 public:
  explicit TreeCache(size_t max_bytes) : max_bytes_(max_bytes) {}
  TreeCache(const TreeCache&) = delete;
  TreeCache& operator=(const TreeCache&) = delete;

  // The tree `id`, or null when not held (counted as a miss).
  std::shared_ptr<const Tree> Get(const Hash128& id);
  // Keeps `tree` (the parse of the object `id`, `cost` bytes) and returns
  // it shared; the tree already held when another caller put it first.
  std::shared_ptr<const Tree> Put(const Hash128& id, Tree tree, size_t cost);

  TreeCacheStats stats() const;
  size_t max_bytes() const { return max_bytes_; }

 private:
  struct Item {
    Hash128 id;
    std::shared_ptr<const Tree> tree;
    size_t cost = 0;
  };
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Item> lru_;                                 // most recent first; guarded
  std::map<Hash128, std::list<Item>::iterator> index_;  // guarded by mu_
  TreeCacheStats stats_;                                // guarded by mu_
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_TREE_CACHE_H_
