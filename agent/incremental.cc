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

namespace {

// "PATH" of a scanner warning "PATH: message"; "" for other warnings.
std::string_view WarnedPath(std::string_view warning) {
  if (warning.empty() || warning.front() != '/') return {};
  size_t colon = warning.find(": ");
  return colon == std::string_view::npos ? std::string_view() : warning.substr(0, colon);
}

std::string_view Parent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

}  // namespace

ReuseState::ReuseState(const ScanReuse& reuse) : reuse_(reuse) {
  for (const std::string& w : reuse_.warnings) {
    if (std::string_view p = WarnedPath(w); !p.empty()) warned_.emplace_back(p);
  }
  std::sort(warned_.begin(), warned_.end());
}

bool ReuseState::HasBaseWarning(const std::string& path) const {
  return !warned_.empty() && std::binary_search(warned_.begin(), warned_.end(), EscapePath(path));
}

std::vector<std::string> ReuseState::CarriedWarnings(
    const std::vector<std::string>& listed_dirs) const {
  std::vector<std::string> listed;
  listed.reserve(listed_dirs.size());
  for (const std::string& d : listed_dirs) listed.push_back(EscapePath(d));
  std::sort(listed.begin(), listed.end());
  auto is_listed = [&](std::string_view p) {
    return std::binary_search(listed.begin(), listed.end(), p);
  };
  std::vector<std::string> out;
  for (const std::string& w : reuse_.warnings) {
    std::string_view p = WarnedPath(w);
    if (!p.empty() && !is_listed(p) && !is_listed(Parent(p))) out.push_back(w);
  }
  return out;
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

void ReuseState::SubtractEntries(const Tree& base_dir) {
  for (const Entry& e : base_dir.entries) subtracted_.Add(e.type);
}

Status ReuseState::SubtractBelow(const Hash128& id) {
  std::vector<Hash128> stack{id};
  while (!stack.empty()) {
    Hash128 next = stack.back();
    stack.pop_back();
    DW_ASSIGN_OR_RETURN(Tree tree, reuse_.source->Get(next));
    for (const Entry& e : tree.entries) {
      subtracted_.Add(e.type);
      if (e.type == EntryType::kDir) stack.push_back(e.subtree);
    }
  }
  return Status::Ok();
}

ScanStats ReuseState::Totals(const EntryCounts& seen) const {
  ScanStats s;
  s.files = reuse_.stats.files + seen.files - subtracted_.files;
  s.dirs = reuse_.stats.dirs + seen.dirs - subtracted_.dirs;
  s.others = reuse_.stats.others + seen.others - subtracted_.others;
  return s;
}

}  // namespace driftwatch::agent
