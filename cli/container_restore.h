// `driftwatch container restore NAME [PATH...]`: makes paths of a stopped
// container equal to its image again (docs/containers.md).
//
// A container's drift is its overlay upper layer against the image. While
// the overlay is mounted its upper directory must not be changed (overlayfs
// leaves that undefined), so a running container is refused: it is stopped
// first. Then, in the upper directory, through agent::RestoreFs (every
// write relative to a directory fd, no symlink followed): an added path's
// upper entry is removed (with what it holds); a changed file or symlink's
// upper copy is removed, so the image's shows again; a removed path's
// whiteout is removed; a changed directory gets the image's owner and mode
// back (it stays, with the changes beneath it that were not selected).
// Paths beneath an opaque or renamed (redirect) upper directory are
// refused: removing an upper entry there would not bring the image's back.
// Nothing is copied up, so `container diff` has nothing left to report.
#ifndef DRIFTWATCH_CLI_CONTAINER_RESTORE_H_
#define DRIFTWATCH_CLI_CONTAINER_RESTORE_H_

#include <string>
#include <vector>

#include "agent/restore.h"
#include "container/state.h"
#include "core/status.h"

namespace driftwatch::cli {

struct ContainerRestoreOptions {
  std::string name;
  std::vector<std::string> paths;  // paths or globs; empty: every drifted path
  bool dry_run = false;
  std::string db_path;  // the agent store, where the restore is recorded
  std::string author;
  std::string reason;
};

// kInvalidArgument for a running container; kNotFound for an unknown one.
// Per-path refusals are actions (RestoreResult::refused counts them). The
// result's baseline is "image:IMAGE".
Result<agent::RestoreResult> RestoreContainer(const container::StateDir& state,
                                              const ContainerRestoreOptions& options);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_CONTAINER_RESTORE_H_
