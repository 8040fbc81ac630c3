#include "agent/restore_plan.h"

#include "rules/glob.h"

namespace driftwatch::agent {
namespace {

constexpr uint32_t kNotRestorable =
    kAttrMtime | kAttrCtime | kAttrInode | kAttrNlink | kAttrRdev | kAttrGrowing;

bool Creatable(EntryType t) {
  return t == EntryType::kFile || t == EntryType::kDir || t == EntryType::kSymlink;
}

std::string TypeWithArticle(EntryType t) {
  const std::string name(EntryTypeName(t));
  return (name[0] == 'a' || name[0] == 'e' || name[0] == 'i' || name[0] == 'o' || name[0] == 'u'
              ? "an "
              : "a ") +
         name;
}

std::string AttrList(uint32_t mask) {
  std::string out;
  for (std::string_view n : AttrNames(mask)) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace

RestorePlan PlanChange(const Change& c, bool remove_added) {
  RestorePlan plan;
  if (!c.old_entry) {
    if (remove_added) {
      plan.steps = {RestoreStep::kRemove};
    } else {
      plan.note = "not in the baseline: left in place (--remove-added removes it)";
    }
    return plan;
  }
  const Entry& old = *c.old_entry;
  if (!Creatable(old.type)) {
    plan.refusal = TypeWithArticle(old.type) +
                   " is not restored (only files, directories and "
                   "symlinks are)";
    return plan;
  }
  if (!c.new_entry) {
    plan.steps = {RestoreStep::kCreate};
    return plan;
  }
  const Entry& now = *c.new_entry;
  if (old.type != now.type) {
    if (old.type == EntryType::kDir || now.type == EntryType::kDir) {
      if (!remove_added) {
        plan.refusal = TypeWithArticle(now.type) + " stands where the baseline has " +
                       TypeWithArticle(old.type) + " (--remove-added replaces it)";
        return plan;
      }
      plan.steps = {RestoreStep::kRemove, RestoreStep::kCreate};
      return plan;
    }
    // A file and a symlink replace each other by a rename, atomically.
    plan.steps = {RestoreStep::kCreate};
    return plan;
  }
  uint32_t changed = c.changed;
  if (old.type == EntryType::kFile && (changed & (kAttrHash | kAttrSize))) {
    plan.steps = {RestoreStep::kWrite};
    return plan;
  }
  if (old.type == EntryType::kSymlink && (changed & kAttrLink)) {
    plan.steps = {RestoreStep::kSymlink};
    return plan;
  }
  if (changed & (kAttrUid | kAttrGid)) plan.steps.push_back(RestoreStep::kChown);
  if (changed & kAttrXattrs) plan.steps.push_back(RestoreStep::kXattrs);
  // Linux keeps no mode for a symlink.
  if ((changed & kAttrPerm) && old.type != EntryType::kSymlink) {
    plan.steps.push_back(RestoreStep::kChmod);
  }
  if (plan.steps.empty()) {
    if (changed & kNotRestorable) {
      plan.refusal = AttrList(changed & kNotRestorable) + " cannot be restored";
    } else {
      plan.note = "already as in the baseline";
    }
  }
  return plan;
}

std::string StepName(RestoreStep step, EntryType type) {
  switch (step) {
    case RestoreStep::kRemove:
      return "remove";
    case RestoreStep::kCreate:
      return type == EntryType::kDir ? "mkdir" : type == EntryType::kSymlink ? "symlink" : "create";
    case RestoreStep::kWrite:
      return "write";
    case RestoreStep::kSymlink:
      return "symlink";
    case RestoreStep::kChown:
      return "chown";
    case RestoreStep::kXattrs:
      return "xattrs";
    case RestoreStep::kChmod:
      return "chmod";
  }
  return "unchanged";
}

bool SelectedBy(const std::string& path, const std::vector<std::string>& selectors) {
  for (const std::string& s : selectors) {
    if (s.empty()) continue;
    std::string dir = s;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                        (dir == "/" || path[dir.size()] == '/'))) {
      return true;
    }
    auto glob = rules::Glob::Compile(s);
    if (glob.ok() && glob->Matches(path)) return true;
  }
  return false;
}

}  // namespace driftwatch::agent
