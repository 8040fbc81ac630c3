// DiffTrees: the changes between two Merkle trees.
//
// Walks both trees from their roots and only descends where directory
// identities differ, so the cost grows with the change, not with the tree.
// An added or removed directory is reported together with everything under
// it. Structural entries (directories on the way to watched paths) are never
// reported themselves, only what is watched beneath them. No recursion: an
// explicit stack bounds the work on deep trees.
//
// Errors: a tree missing from a source is passed through (kCorruption).
// Thread-safety: uses only its arguments.
#ifndef DRIFTWATCH_CORE_DIFF_H_
#define DRIFTWATCH_CORE_DIFF_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/entry.h"
#include "core/tree_io.h"

namespace driftwatch {

struct Change {
  std::string path;                // absolute logical path
  std::optional<Entry> old_entry;  // absent: added
  std::optional<Entry> new_entry;  // absent: removed
  uint32_t changed = 0;            // Attr bits that differ (both present)
};

using ChangeFn = std::function<Status(Change)>;

// Emits changes in path order: depth first, names in byte order, a directory
// before what is beneath it and all of that before its next sibling.
Status DiffTrees(TreeSource& old_source, const Hash128& old_root, TreeSource& new_source,
                 const Hash128& new_root, const ChangeFn& emit);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_DIFF_H_
