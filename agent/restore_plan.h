// What restore does to one drifted path (agent/restore.h): a pure function
// of the change between the baseline entry and the entry now, so that the
// decisions are table-tested apart from the filesystem.
//
// Thread-safety: plain functions of their arguments.
#ifndef DRIFTWATCH_AGENT_RESTORE_PLAN_H_
#define DRIFTWATCH_AGENT_RESTORE_PLAN_H_

#include <string>
#include <vector>

#include "core/diff.h"
#include "core/entry.h"

namespace driftwatch::agent {

enum class RestoreStep {
  kRemove,   // remove what is there now (a directory with its contents)
  kCreate,   // make the baseline's file, symlink or directory, with its attributes
  kWrite,    // replace a file's content (and attributes) atomically
  kSymlink,  // point a symlink at the baseline's target again
  kChown,
  kXattrs,
  kChmod,
};

struct RestorePlan {
  // In order. Empty with `refusal` set: the path is refused; empty without
  // it: nothing to do (`note` says why).
  std::vector<RestoreStep> steps;
  std::string refusal;
  std::string note;
};

// The steps that make the path equal to c.old_entry again. Added paths are
// removed only with remove_added; a directory is put where something else
// stands now (or replaced by something else) only with remove_added, since
// that removes what is there with all it holds. mtime, ctime, inode, nlink
// and device numbers are not restorable: a change of only those is refused.
RestorePlan PlanChange(const Change& c, bool remove_added);

// The action name of a step in RestoreAction::action ("write", "chmod",
// "chown", "xattrs", "symlink", "mkdir", "create", "remove"); kCreate is
// "mkdir" for a directory, "symlink" for a symlink.
std::string StepName(RestoreStep step, EntryType type);

// Whether `path` is selected by `selectors`: a rule glob that matches it,
// or a path it is equal to or beneath (a directory brings what is under it).
bool SelectedBy(const std::string& path, const std::vector<std::string>& selectors);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_RESTORE_PLAN_H_
