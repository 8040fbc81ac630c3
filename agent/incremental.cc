#include "agent/incremental.h"

#include <algorithm>

namespace driftwatch::agent {

bool IsCleanLogicalPath(std::string_view path) {
  if (path == "/") return true;
  if (path.empty() || path.front() != '/' || path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool ReuseState::Leads(const std::string& path) const {
  const std::vector<std::string>& dirty = reuse_.dirty;
  if (path == "/") return !dirty.empty();
  if (std::binary_search(dirty.begin(), dirty.end(), path)) return true;
  // Paths below `path` all start with path + "/" and sort together.
  const std::string prefix = path + "/";
  auto it = std::lower_bound(dirty.begin(), dirty.end(), prefix);
  return it != dirty.end() && it->compare(0, prefix.size(), prefix) == 0;
}

bool ReuseState::IsTree(const std::string& path) const {
  return std::binary_search(reuse_.trees.begin(), reuse_.trees.end(), path);
}

std::vector<std::pair<std::string, Hash128>> ReuseState::SubtreesUnder(
    const std::string& dir) const {
  std::vector<std::pair<std::string, Hash128>> out;
  const std::string prefix = dir == "/" ? "/" : dir + "/";
  for (const auto& [path, id] : reuse_.subtrees) {
    if (path == dir || path.compare(0, prefix.size(), prefix) == 0) out.emplace_back(path, id);
  }
  return out;
}

void ReuseState::Subtract(EntryType type) {
  switch (type) {
    case EntryType::kFile:
      ++files_;
      break;
    case EntryType::kDir:
      ++dirs_;
      break;
    default:
      ++others_;
      break;
  }
}

void ReuseState::SubtractEntries(const Tree& base_dir) {
  for (const Entry& e : base_dir.entries) Subtract(e.type);
}

Status ReuseState::SubtractBelow(const Hash128& id) {
  std::vector<Hash128> stack{id};
  while (!stack.empty()) {
    Hash128 next = stack.back();
    stack.pop_back();
    DW_ASSIGN_OR_RETURN(Tree tree, reuse_.source->Get(next));
    for (const Entry& e : tree.entries) {
      Subtract(e.type);
      if (e.type == EntryType::kDir) stack.push_back(e.subtree);
    }
  }
  return Status::Ok();
}

ScanStats ReuseState::Totals(uint64_t files, uint64_t dirs, uint64_t others) const {
  ScanStats s;
  s.files = reuse_.stats.files + files - files_;
  s.dirs = reuse_.stats.dirs + dirs - dirs_;
  s.others = reuse_.stats.others + others - others_;
  return s;
}

}  // namespace driftwatch::agent
