#include "core/tree_io.h"

namespace driftwatch {

Status MemoryTreeStore::Put(const Hash128& id, std::string serialized) {
  std::lock_guard<std::mutex> lock(mu_);
  trees_.emplace(id, std::move(serialized));
  return Status::Ok();
}

Result<Tree> MemoryTreeStore::Get(const Hash128& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = trees_.find(id);
  if (it == trees_.end()) return Status::NotFound("tree " + id.Hex() + " not found");
  return ParseTree(it->second);
}

size_t MemoryTreeStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trees_.size();
}

}  // namespace driftwatch
