// Opening a volume's host source once, from "/", without following any
// symlink (docs/containers.md, "Volumes").
//
// OpenVolumeSource() resolves the source path from the host's root with
// openat2(RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where the kernel has
// it, else one component at a time with O_NOFOLLOW, and returns an O_PATH fd
// of what it found. A symlink in any component (the last one too), a
// trailing '/', '.' and '..' components and the host's root directory are
// refused. Every later check (type, host root) is made on that fd, and the
// launcher hands the same fd to the container's init, which bind-mounts it
// by fd (open_tree on the fd): the path is never resolved a second time, so
// nothing can swap a component between check and mount.
//
// DetachedVolumeMount() clones the mount at that fd (open_tree
// OPEN_TREE_CLONE, submounts included) into a detached mount with nosuid,
// nodev and, when asked, ro set: in the caller's mount namespace, since the
// kernel clones only mounts of the caller's namespace. The container's init
// attaches it with move_mount onto its destination.
//
// Errors: kInvalidArgument for a malformed path, kPermissionDenied for a
// symlink or the host root (the message names the component), the kernel's
// error (kNotFound, ...) with the path otherwise.
// Thread-safety: reentrant.
#ifndef DRIFTWATCH_CONTAINER_VOLUME_SOURCE_H_
#define DRIFTWATCH_CONTAINER_VOLUME_SOURCE_H_

#include <string>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

// Checks the text of a source path: absolute, no trailing '/', no empty,
// "." or ".." components. Pure.
Status CheckVolumeSourcePath(const std::string& path);

Result<UniqueFd> OpenVolumeSource(const std::string& path);

Result<UniqueFd> DetachedVolumeMount(int source_fd, const std::string& path, bool read_only);

// The component-by-component resolution, also used where openat2 is
// missing; exposed for the tests.
Result<UniqueFd> OpenVolumeSourceByComponent(const std::string& path);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_VOLUME_SOURCE_H_
