#include "core/diff.h"

#include <vector>

namespace driftwatch {
namespace {

// One pair of directories being merged: both sides' entries and how far the
// merge has got. A side is empty when that directory does not exist on it.
struct Frame {
  size_t prefix_len = 0;  // of the shared path: 0 for the root, else "/etc"
  Tree old_tree;
  Tree new_tree;
  size_t i = 0;
  size_t j = 0;
};

Result<Frame> OpenFrame(TreeSource& old_source, const std::optional<Hash128>& old_id,
                        TreeSource& new_source, const std::optional<Hash128>& new_id,
                        size_t prefix_len) {
  Frame f;
  f.prefix_len = prefix_len;
  if (old_id) {
    DW_ASSIGN_OR_RETURN(f.old_tree, old_source.Get(*old_id));
  }
  if (new_id) {
    DW_ASSIGN_OR_RETURN(f.new_tree, new_source.Get(*new_id));
  }
  return f;
}

// What to report for a pair of differing entries (either may be absent);
// nothing when only structural entries or unchecked attributes differ.
std::optional<Change> ChangeOf(const Entry* o, const Entry* n, const std::string& path) {
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
  if (!report) return std::nullopt;
  return c;
}

}  // namespace

// A stack of open directory pairs, one per level: a directory's children are
// merged (and reported) before its next sibling, which keeps the output in
// path order without recursion. The frames share one path buffer, so memory
// grows with the depth, not with its square.
Status DiffTrees(TreeSource& old_source, const Hash128& old_root, TreeSource& new_source,
                 const Hash128& new_root, const ChangeFn& emit) {
  if (old_root == new_root) return Status::Ok();
  std::vector<Frame> stack;
  std::string path;
  {
    DW_ASSIGN_OR_RETURN(Frame root, OpenFrame(old_source, old_root, new_source, new_root, 0));
    stack.push_back(std::move(root));
  }
  while (!stack.empty()) {
    Frame& f = stack.back();
    const auto& a = f.old_tree.entries;
    const auto& b = f.new_tree.entries;
    if (f.i >= a.size() && f.j >= b.size()) {
      stack.pop_back();
      continue;
    }
    const Entry* o = nullptr;
    const Entry* n = nullptr;
    if (f.j >= b.size() || (f.i < a.size() && a[f.i].name < b[f.j].name)) {
      o = &a[f.i++];
    } else if (f.i >= a.size() || b[f.j].name < a[f.i].name) {
      n = &b[f.j++];
    } else {
      o = &a[f.i++];
      n = &b[f.j++];
    }
    if (o && n && *o == *n) continue;  // identical, subtree included
    path.resize(f.prefix_len);
    path += '/';
    path += o ? o->name : n->name;
    if (auto c = ChangeOf(o, n, path)) DW_RETURN_IF_ERROR(emit(std::move(*c)));
    std::optional<Hash128> old_sub, new_sub;
    if (o && o->type == EntryType::kDir) old_sub = o->subtree;
    if (n && n->type == EntryType::kDir) new_sub = n->subtree;
    if (old_sub != new_sub) {
      // `f`, `o` and `n` are not used past this point: the push may move them.
      DW_ASSIGN_OR_RETURN(Frame child,
                          OpenFrame(old_source, old_sub, new_source, new_sub, path.size()));
      stack.push_back(std::move(child));
    }
  }
  return Status::Ok();
}

}  // namespace driftwatch
