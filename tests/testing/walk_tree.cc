#include "tests/testing/walk_tree.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <deque>

#include "container/layer_fs.h"
#include "container/upper_diff.h"

namespace driftwatch::testutil {

Result<std::map<std::string, Entry>> WalkTree(int root_fd,
                                              const std::vector<std::string>& excluded) {
  struct stat root_st;
  if (fstat(root_fd, &root_st) != 0) return ErrnoStatus("walk root", errno);
  std::map<std::string, Entry> out;
  std::deque<std::string> dirs = {"/"};
  while (!dirs.empty()) {
    std::string dir = std::move(dirs.front());
    dirs.pop_front();
    DW_ASSIGN_OR_RETURN(UniqueFd fd, container::OpenBeneath(root_fd, dir, O_RDONLY | O_DIRECTORY));
    DW_ASSIGN_OR_RETURN(std::vector<std::string> names, container::ListDirFd(fd.get(), dir));
    for (const std::string& name : names) {
      std::string path = JoinPath(dir == "/" ? "" : dir, name);
      if (container::IsUnder(path, excluded)) continue;
      struct stat st;
      if (fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        return ErrnoStatus(path, errno);
      }
      DW_ASSIGN_OR_RETURN(Entry e, container::StatEntry(DefaultHost(), fd.get(), name, true));
      if (e.type == EntryType::kDir && st.st_dev == root_st.st_dev) dirs.push_back(path);
      out.emplace(path, std::move(e));
    }
  }
  return out;
}

}  // namespace driftwatch::testutil
