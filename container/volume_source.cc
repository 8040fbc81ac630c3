#include "container/volume_source.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace driftwatch::container {
namespace {

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = 1; i < path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Status SymlinkRefused(const std::string& path, const std::string& component) {
  if (component == path) {
    return Status::PermissionDenied("volume source " + path +
                                    " is a symlink; give the real path (refused)");
  }
  return Status::PermissionDenied("volume source " + path + ": " + component +
                                  " is a symlink; give the real path (refused)");
}

// The checks made on the opened source: not a symlink, not the host root.
Status CheckOpened(int fd, const std::string& path) {
  struct stat st, root;
  if (fstat(fd, &st) != 0) return ErrnoStatus("volume source " + path, errno);
  if (S_ISLNK(st.st_mode)) return SymlinkRefused(path, path);
  if (stat("/", &root) == 0 && st.st_dev == root.st_dev && st.st_ino == root.st_ino) {
    return Status::PermissionDenied("volume source " + path + " is the host root; refused");
  }
  return Status::Ok();
}

Result<UniqueFd> OpenRoot(const std::string& path) {
  if (path == "/") {
    return Status::PermissionDenied("volume source / is the host root; refused");
  }
  DW_RETURN_IF_ERROR(CheckVolumeSourcePath(path));
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open /", errno);
  return UniqueFd(fd);
}

}  // namespace

Status CheckVolumeSourcePath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status::InvalidArgument("volume source '" + path + "': must be an absolute path");
  }
  if (path.size() > 1 && path.back() == '/') {
    return Status::InvalidArgument("volume source " + path +
                                   ": trailing '/' (it resolves a symlink in the last component); "
                                   "give the path without it (refused)");
  }
  for (const std::string& c : Components(path)) {
    if (c.empty() || c == "." || c == "..") {
      return Status::InvalidArgument("volume source " + path +
                                     ": empty, '.' or '..' component; give a clean path (refused)");
    }
  }
  return Status::Ok();
}

Result<UniqueFd> OpenVolumeSourceByComponent(const std::string& path) {
  DW_ASSIGN_OR_RETURN(UniqueFd cur, OpenRoot(path));
  std::string so_far;
  const std::vector<std::string> comps = Components(path);
  for (size_t k = 0; k < comps.size(); ++k) {
    so_far += "/" + comps[k];
    int fd = openat(cur.get(), comps[k].c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("volume source " + path, errno);
    UniqueFd next(fd);
    struct stat st;
    if (fstat(fd, &st) != 0) return ErrnoStatus("volume source " + so_far, errno);
    if (S_ISLNK(st.st_mode)) return SymlinkRefused(path, so_far);
    if (k + 1 < comps.size() && !S_ISDIR(st.st_mode)) {
      return ErrnoStatus("volume source " + path + ": " + so_far, ENOTDIR);
    }
    cur = std::move(next);
  }
  DW_RETURN_IF_ERROR(CheckOpened(cur.get(), path));
  return cur;
}

Result<UniqueFd> OpenVolumeSource(const std::string& path) {
  DW_ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(path));
  struct open_how how = {};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const std::string rel = path.substr(1);
  long fd = syscall(SYS_openat2, root.get(), rel.c_str(), &how, sizeof how);
  if (fd < 0) {
    // No openat2 (before Linux 5.6), or a symlink on the way (ELOOP): the
    // walk by component resolves it the same way and names the symlink.
    if (errno == ENOSYS || errno == ELOOP || errno == EXDEV) {
      return OpenVolumeSourceByComponent(path);
    }
    return ErrnoStatus("volume source " + path, errno);
  }
  UniqueFd owned(static_cast<int>(fd));
  DW_RETURN_IF_ERROR(CheckOpened(owned.get(), path));
  return owned;
}

Result<UniqueFd> DetachedVolumeMount(int source_fd, const std::string& path, bool read_only) {
  int tree =
      open_tree(source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0) return ErrnoStatus("open_tree " + path, errno);
  UniqueFd tree_fd(tree);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0);
  if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
    return ErrnoStatus("mount_setattr " + path, errno);
  }
  return tree_fd;
}

}  // namespace driftwatch::container
