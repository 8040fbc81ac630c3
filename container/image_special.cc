#include "container/image_special.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "container/layer_fs.h"

namespace driftwatch::container {
namespace {

constexpr char kCapabilityXattr[] = "security.capability";

}  // namespace

SpecialAction SpecialFileAction(mode_t mode) {
  if (S_ISCHR(mode) || S_ISBLK(mode)) return SpecialAction::kRemove;
  if (!S_ISDIR(mode) && !S_ISLNK(mode) && (mode & (S_ISUID | S_ISGID)) != 0)
    return SpecialAction::kClearBits;
  return SpecialAction::kKeep;
}

Result<SpecialFileCounts> NeutraliseSpecialFiles(const std::string& rootfs) {
  int raw = open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) return ErrnoStatus(rootfs, errno);
  UniqueFd root(raw);
  struct stat root_st;
  if (fstat(root.get(), &root_st) != 0) return ErrnoStatus(rootfs, errno);
  SpecialFileCounts counts;
  std::vector<std::string> pending = {"/"};  // directories still to visit
  while (!pending.empty()) {
    const std::string dir = std::move(pending.back());
    pending.pop_back();
    DW_ASSIGN_OR_RETURN(UniqueFd dfd, OpenBeneath(root.get(), dir, O_RDONLY | O_DIRECTORY));
    DW_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirFd(dfd.get(), rootfs + dir));
    const std::string base = dir == "/" ? "" : dir;
    for (const std::string& name : names) {
      const std::string path = base + "/" + name;
      struct stat st;
      if (fstatat(dfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return ErrnoStatus(rootfs + path, errno);
      if (S_ISDIR(st.st_mode)) {
        if (st.st_dev == root_st.st_dev) pending.push_back(path);
        continue;
      }
      switch (SpecialFileAction(st.st_mode)) {
        case SpecialAction::kRemove:
          if (unlinkat(dfd.get(), name.c_str(), 0) != 0) return ErrnoStatus(rootfs + path, errno);
          ++counts.devices_removed;
          continue;
        case SpecialAction::kClearBits:
          if (fchmodat(dfd.get(), name.c_str(), st.st_mode & 01777, 0) != 0)
            return ErrnoStatus("chmod " + rootfs + path, errno);
          ++counts.setid_cleared;
          break;
        case SpecialAction::kKeep:
          break;
      }
      if (!S_ISREG(st.st_mode)) continue;
      // Through the directory fd's /proc link: the last component is not
      // followed by the l*xattr calls.
      const std::string via = "/proc/self/fd/" + std::to_string(dfd.get()) + "/" + name;
      if (lgetxattr(via.c_str(), kCapabilityXattr, nullptr, 0) >= 0) {
        if (lremovexattr(via.c_str(), kCapabilityXattr) != 0)
          return ErrnoStatus("remove file capabilities of " + rootfs + path, errno);
        ++counts.capabilities_removed;
      }
    }
  }
  return counts;
}

}  // namespace driftwatch::container
