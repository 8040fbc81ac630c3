// ApplyEdits: a new tree made from a stored tree with some paths replaced,
// added or removed — how `baseline accept --path GLOB` builds the next
// baseline revision without taking unaccepted drift along.
//
// Only the directories on the way to an edit are rebuilt; everything else is
// shared with the old tree. No recursion on tree depth.
//
// Thread-safety: uses only its arguments.
#ifndef DRIFTWATCH_AGENT_ACCEPT_H_
#define DRIFTWATCH_AGENT_ACCEPT_H_

#include <map>
#include <optional>
#include <string>

#include "core/diff.h"
#include "core/tree_io.h"

namespace driftwatch::agent {

struct Edit {
  // The entry to put at the path; absent removes the path (and its subtree).
  std::optional<Entry> entry;
  // For directories: take entry.subtree as well (an added directory), instead
  // of keeping the old directory's contents and changing only its attributes.
  bool whole = false;
};

// Edit that accepts one Change as found by DiffTrees.
Edit EditFor(const Change& change);

// Errors: an edit whose parent directory exists in neither the old tree nor
// the edits is kInvalidArgument naming both paths.
Result<Hash128> ApplyEdits(TreeSource& source, TreeSink& sink, const Hash128& root,
                           const std::map<std::string, Edit>& edits);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_ACCEPT_H_
