#include "agent/accept.h"

#include <algorithm>
#include <vector>

#include "core/drift.h"

namespace driftwatch::agent {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

size_t Depth(const std::string& path) {
  return path == "/" ? 0 : static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

// True when an ancestor of path is removed or replaced whole by an edit.
bool CoveredByAncestor(const std::string& path, const std::map<std::string, Edit>& edits) {
  for (std::string p = Parent(path); p != "/"; p = Parent(p)) {
    auto it = edits.find(p);
    if (it != edits.end() && (!it->second.entry || it->second.whole)) return true;
  }
  return false;
}

}  // namespace

Edit EditFor(const Change& change) {
  Edit edit;
  edit.entry = change.new_entry;
  edit.whole = change.new_entry && change.new_entry->type == EntryType::kDir &&
               (!change.old_entry || change.old_entry->type != EntryType::kDir);
  return edit;
}

Result<Hash128> ApplyEdits(TreeSource& source, TreeSink& sink, const Hash128& root,
                           const std::map<std::string, Edit>& edits) {
  // Effective edits grouped by parent directory.
  std::map<std::string, std::vector<std::pair<std::string, const Edit*>>> by_dir;
  std::vector<std::string> dirs;  // every directory to rebuild
  for (const auto& [path, edit] : edits) {
    if (path == "/" || CoveredByAncestor(path, edits)) continue;
    by_dir[Parent(path)].emplace_back(BaseName(path), &edit);
    for (std::string p = Parent(path);; p = Parent(p)) {
      dirs.push_back(p);
      if (p == "/") break;
    }
  }
  if (by_dir.empty()) return root;
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  std::stable_sort(dirs.begin(), dirs.end(),
                   [](const std::string& a, const std::string& b) { return Depth(a) < Depth(b); });

  // Top-down: load the old tree of every directory to rebuild.
  std::map<std::string, Tree> trees;
  for (const std::string& dir : dirs) {
    if (dir == "/") {
      DW_ASSIGN_OR_RETURN(trees[dir], source.Get(root));
      continue;
    }
    const Tree& parent = trees[Parent(dir)];
    const std::string name = BaseName(dir);
    auto it = std::find_if(parent.entries.begin(), parent.entries.end(),
                           [&](const Entry& e) { return e.name == name; });
    bool in_edits = false;
    if (auto e = edits.find(dir);
        e != edits.end() && e->second.entry && e->second.entry->type == EntryType::kDir) {
      in_edits = true;
    }
    if (it != parent.entries.end() && it->type == EntryType::kDir) {
      DW_ASSIGN_OR_RETURN(trees[dir], source.Get(it->subtree));
    } else if (in_edits) {
      trees[dir] = Tree{};
    } else {
      return Status::InvalidArgument("cannot accept a change below " + EscapePath(dir) +
                                     " without accepting " + EscapePath(dir) + " itself");
    }
  }

  // Bottom-up: apply the edits and write the rebuilt trees.
  std::map<std::string, Hash128> rebuilt;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const std::string& dir = *it;
    std::vector<Entry>& entries = trees[dir].entries;
    const std::string prefix = dir == "/" ? "" : dir;
    for (const auto& [name, edit] : by_dir[dir]) {
      auto pos = std::lower_bound(entries.begin(), entries.end(), name,
                                  [](const Entry& e, const std::string& n) { return e.name < n; });
      const bool exists = pos != entries.end() && pos->name == name;
      if (!edit->entry) {
        if (exists) entries.erase(pos);
        continue;
      }
      Entry e = *edit->entry;
      e.name = name;
      if (e.type == EntryType::kDir && !edit->whole) {
        // Attributes only: keep the old contents (children edits follow).
        e.subtree = exists && pos->type == EntryType::kDir ? pos->subtree : Hash128();
      }
      if (exists) {
        *pos = std::move(e);
      } else {
        entries.insert(pos, std::move(e));
      }
    }
    // Directories rebuilt below this one.
    for (Entry& e : entries) {
      auto r = rebuilt.find(prefix + "/" + e.name);
      if (r != rebuilt.end() && e.type == EntryType::kDir) e.subtree = r->second;
    }
    std::string bytes = SerializeTree(trees[dir]);
    Hash128 id = TreeHash(bytes);
    DW_RETURN_IF_ERROR(sink.Put(id, std::move(bytes)));
    rebuilt[dir] = id;
  }
  return rebuilt["/"];
}

}  // namespace driftwatch::agent
