// Resolving package paths inside a root without escaping it.
//
// A package database under a container rootfs names paths as the container
// sees them; resolving "/lib/x" from the host must not follow an absolute
// symlink "/lib -> /usr/lib" to the host's /usr/lib, nor ".." out of the
// root. OpenDirInRoot resolves like openat2(RESOLVE_IN_ROOT): absolute link
// targets restart at the root and ".." at the root stays there. The final
// component of a file is never resolved here: callers use it with
// StatAt/OpenAt(O_NOFOLLOW) on the returned directory.
//
// Thread-safety: reentrant; uses only the Host.
#ifndef DRIFTWATCH_PACKAGES_ROOT_DIR_H_
#define DRIFTWATCH_PACKAGES_ROOT_DIR_H_

#include <string>
#include <string_view>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::packages {

// Symlinks followed while resolving one directory, like the kernel's MAXSYMLINKS.
constexpr int kMaxSymlinkHops = 40;

struct PathInRoot {
  std::string dir;   // "/" or "/a/b", lexically normalized
  std::string name;  // last component; "" for the root itself
};

// Lexically normalizes an absolute path ("//", ".", ".." collapse, ".."
// stops at the root) and splits off the last component.
PathInRoot SplitInRoot(std::string_view path);

// Opens `dir` (as returned by SplitInRoot) below root_fd as an O_PATH
// directory fd. kNotFound when a component is missing or not a directory;
// kInvalidArgument after kMaxSymlinkHops symlinks.
Result<UniqueFd> OpenDirInRoot(Host& host, int root_fd, std::string_view dir);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_ROOT_DIR_H_
