#include "collector/tree_cache.h"

#include <utility>

namespace driftwatch::collector {

size_t TreeCost(const Tree& tree, size_t serialized_bytes) {
  // The parsed form: the entries themselves, and what their strings hold
  // beyond the small-string buffer. The serialized size is added so that
  // the budget also bounds the bytes the entries' digests and xattrs carry.
  size_t cost = sizeof(Tree) + serialized_bytes + tree.entries.capacity() * sizeof(Entry);
  for (const Entry& e : tree.entries) {
    if (e.name.capacity() > 15) cost += e.name.capacity();
    if (e.link_target.capacity() > 15) cost += e.link_target.capacity();
  }
  return cost;
}

std::shared_ptr<const Tree> TreeCache::Get(const Hash128& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(id);
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->tree;
}

std::shared_ptr<const Tree> TreeCache::Put(const Hash128& id, Tree tree, size_t cost) {
  auto shared = std::make_shared<const Tree>(std::move(tree));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(id); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->tree;
  }
  if (cost > max_bytes_) return shared;
  while (!lru_.empty() && stats_.bytes + cost > max_bytes_) {
    const Item& last = lru_.back();
    stats_.bytes -= last.cost;
    index_.erase(last.id);
    lru_.pop_back();
    ++stats_.evictions;
  }
  lru_.push_front(Item{id, shared, cost});
  index_[id] = lru_.begin();
  stats_.bytes += cost;
  stats_.objects = lru_.size();
  return shared;
}

TreeCacheStats TreeCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  TreeCacheStats s = stats_;
  s.objects = lru_.size();
  return s;
}

}  // namespace driftwatch::collector
