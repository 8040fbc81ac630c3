#include "core/tree_io.h"

#include <algorithm>
#include <vector>

#include "core/normal_path.h"

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

Result<std::optional<Entry>> LookupEntry(TreeSource& trees, const Hash128& root,
                                         std::string_view path) {
  const std::vector<std::string> names = PathComponents(path);
  Hash128 dir = root;
  for (size_t i = 0; i < names.size(); ++i) {
    DW_ASSIGN_OR_RETURN(Tree tree, trees.Get(dir));
    auto it = std::lower_bound(tree.entries.begin(), tree.entries.end(), names[i],
                               [](const Entry& e, const std::string& n) { return e.name < n; });
    if (it == tree.entries.end() || it->name != names[i]) break;
    if (i + 1 == names.size()) return std::optional<Entry>(*it);
    if (it->type != EntryType::kDir) break;
    dir = it->subtree;
  }
  return std::optional<Entry>();
}

size_t MemoryTreeStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trees_.size();
}

}  // namespace driftwatch
