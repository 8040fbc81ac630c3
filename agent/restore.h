// Restore: puts files back the way a baseline recorded them (docs/content.md).
//
// For each selected path the baseline's entry is compared with the file now
// (through `host`, under options.root), and what differs in the attributes
// the rule records is put back: content (from the kept blob), permission
// bits, owner and group, xattrs (ACLs and capabilities, from the kept
// xattr set), symlink targets; removed files, symlinks and directories are
// made again (parents first). Added paths are removed only with
// remove_added. Content is written to a temporary file in the same
// directory, fsynced, and renamed over the path; every operation is
// relative to a directory fd opened from the root with O_NOFOLLOW, so a
// symlink (in the tree or planted in a parent) never leads out of the
// root: such a path is refused. A path whose content was not kept (rule,
// size cap, redact) is refused, saying so, unless its content already
// matches. Refusals do not stop the other paths.
//
// Unless dry_run, the restore is recorded in the store's history (who,
// why, which paths, each action's outcome).
//
// Thread-safety: one call at a time per store.
#ifndef DRIFTWATCH_AGENT_RESTORE_H_
#define DRIFTWATCH_AGENT_RESTORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "agent/check.h"
#include "core/status.h"

namespace driftwatch::agent {

struct RestoreOptions {
  CheckOptions check;  // host, db, rules, root, baseline
  // Logical paths or globs (rule syntax) to restore; with `all` every drifted path.
  std::vector<std::string> paths;
  bool all = false;
  bool dry_run = false;       // say what would be done, change nothing
  bool remove_added = false;  // also remove paths the baseline does not have
  std::string author;         // who asked ("root", "collector")
  std::string reason;         // why (required by the CLI)
};

struct RestoreAction {
  std::string path;    // logical path
  std::string action;  // "write", "chmod", "chown", "xattrs", "symlink", "mkdir",
                       // "create", "remove", "refused", "unchanged"
  std::string detail;  // what was done, or why it was refused or failed
  bool ok = false;
};

struct RestoreResult {
  std::string baseline;
  int64_t revision = 0;
  std::vector<RestoreAction> actions;  // in the order they were done
  int64_t refused = 0;                 // paths refused or failed
  int64_t history_id = 0;              // the history entry; 0 for a dry run
};

// kNotFound: no such baseline, or no selected path in it or drifted.
// Errors of the store or of the root itself; per-path failures are actions.
Result<RestoreResult> Restore(const RestoreOptions& options);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_RESTORE_H_
