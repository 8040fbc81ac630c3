// What image import does with the special files of an image
// (docs/containers.md, "Images"): device nodes are removed, setuid and
// setgid bits cleared from everything but directories, and file
// capabilities (security.capability) removed, so an imported image puts no
// device or privilege-granting file on the host's disk (the store's 0700
// directory is then not the only thing between them and a host user).
// `image import --keep-special` keeps them as they are.
//
// SpecialFileAction() is pure and table-tested; NeutraliseSpecialFiles()
// walks the tree iteratively (no recursion on depth), never follows a
// symlink, stays on the root's file system and opens nothing but
// directories.
//
// Errors: the failing path with the kernel's error.
// Thread-safety: reentrant (one call per tree).
#ifndef DRIFTWATCH_CONTAINER_IMAGE_SPECIAL_H_
#define DRIFTWATCH_CONTAINER_IMAGE_SPECIAL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "core/status.h"

namespace driftwatch::container {

enum class SpecialAction {
  kKeep,
  kRemove,     // a block or character device node
  kClearBits,  // setuid/setgid on a non-directory: mode & ~06000
};

SpecialAction SpecialFileAction(mode_t mode);

struct SpecialFileCounts {
  uint64_t devices_removed = 0;
  uint64_t setid_cleared = 0;
  uint64_t capabilities_removed = 0;
  friend bool operator==(const SpecialFileCounts&, const SpecialFileCounts&) = default;
};

Result<SpecialFileCounts> NeutraliseSpecialFiles(const std::string& rootfs);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_IMAGE_SPECIAL_H_
