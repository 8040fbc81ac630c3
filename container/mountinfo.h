// The mounts of a process (core/mountinfo.h) as the container code reads
// them: the layers of an overlayfs mount, and the mount at a path.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CONTAINER_MOUNTINFO_H_
#define DRIFTWATCH_CONTAINER_MOUNTINFO_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mountinfo.h"

namespace driftwatch::container {

using ::driftwatch::kMaxMountInfoBytes;
using ::driftwatch::kMaxMountInfoLines;
using ::driftwatch::MountInfo;
using ::driftwatch::ParseMountInfo;
using ::driftwatch::UnescapeMountField;

// The layers of an overlayfs mount, parsed from its super options.
struct OverlayLayers {
  std::vector<std::string> lower;  // top-most first, as the kernel lists them
  std::string upper;               // empty for a read-only overlay
  std::string work;
};

// Splits "lowerdir=/a:/b,upperdir=/u,workdir=/w" (with "\:" and "\," escapes
// the kernel leaves in place). Returns nullopt when the mount is not overlay
// or names no lowerdir.
std::optional<OverlayLayers> OverlayLayersOf(const MountInfo& mount);

// The mount whose mount point is exactly `path` (the last one wins, as the
// top of a stack of mounts is what a path resolves to); nullptr if none.
const MountInfo* FindMount(const std::vector<MountInfo>& mounts, std::string_view path);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_MOUNTINFO_H_
