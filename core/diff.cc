#include "core/diff.h"

#include <vector>

namespace driftwatch {
namespace {

// A pair of directories still to compare; a side is absent when that
// directory does not exist on it.
struct Pending {
  std::string path;
  std::optional<Hash128> old_tree;
  std::optional<Hash128> new_tree;
};

}  // namespace

Status DiffTrees(TreeSource& old_source, const Hash128& old_root, TreeSource& new_source,
                 const Hash128& new_root, const ChangeFn& emit) {
  std::vector<Pending> stack;
  if (old_root != new_root) stack.push_back({"/", old_root, new_root});
  while (!stack.empty()) {
    Pending p = std::move(stack.back());
    stack.pop_back();
    Tree old_tree, new_tree;
    if (p.old_tree) {
      DW_ASSIGN_OR_RETURN(old_tree, old_source.Get(*p.old_tree));
    }
    if (p.new_tree) {
      DW_ASSIGN_OR_RETURN(new_tree, new_source.Get(*p.new_tree));
    }
    const std::string prefix = p.path == "/" ? "" : p.path;
    std::vector<Pending> children;
    size_t i = 0, j = 0;
    const auto& a = old_tree.entries;
    const auto& b = new_tree.entries;
    while (i < a.size() || j < b.size()) {
      const Entry* o = nullptr;
      const Entry* n = nullptr;
      if (j >= b.size() || (i < a.size() && a[i].name < b[j].name)) {
        o = &a[i++];
      } else if (i >= a.size() || b[j].name < a[i].name) {
        n = &b[j++];
      } else {
        o = &a[i++];
        n = &b[j++];
      }
      const std::string path = prefix + "/" + (o ? o->name : n->name);
      if (o && n && *o == *n) continue;  // identical, subtree included
      Change c;
      c.path = path;
      bool report = false;
      if (o && n) {
        c.changed = ChangedAttrs(*o, *n);
        report = c.changed != 0 && !o->structural && !n->structural;
        if (!o->structural && n->structural) {
          report = true;  // no longer watched as such: treat as removed
          c.changed = 0;
          c.old_entry = *o;
        } else if (o->structural && !n->structural) {
          report = true;
          c.changed = 0;
          c.new_entry = *n;
        } else {
          c.old_entry = *o;
          c.new_entry = *n;
        }
      } else if (o) {
        report = !o->structural;
        c.old_entry = *o;
      } else {
        report = !n->structural;
        c.new_entry = *n;
      }
      if (report) DW_RETURN_IF_ERROR(emit(std::move(c)));
      const bool old_dir = o && o->type == EntryType::kDir;
      const bool new_dir = n && n->type == EntryType::kDir;
      if (old_dir || new_dir) {
        Pending child{path, std::nullopt, std::nullopt};
        if (old_dir) child.old_tree = o->subtree;
        if (new_dir) child.new_tree = n->subtree;
        if (child.old_tree != child.new_tree) children.push_back(std::move(child));
      }
    }
    // Reverse so the smallest name is compared next: output stays in path order.
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(std::move(*it));
  }
  return Status::Ok();
}

}  // namespace driftwatch
