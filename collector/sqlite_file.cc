// The fleet store's file kept private (sqlite_file.h).
#include "collector/sqlite_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/private_file.h"

namespace driftwatch::collector {

Status PrepareSqliteFile(const std::string& path) {
  if (path.empty() || path == ":memory:") return Status::Ok();
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    struct stat d {};
    if (stat(dir.c_str(), &d) != 0 && errno == ENOENT && mkdir(dir.c_str(), 0700) != 0 &&
        errno != EEXIST) {
      return ErrnoStatus("create directory " + dir, errno);
    }
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus(path, errno);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST) return ErrnoStatus("create " + path, errno);
    if (fd >= 0) close(fd);
  }
  // The first file open to others is named with its mode; the fix names
  // them all.
  Status refused = Status::Ok();
  std::string more;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string f = path + suffix;
    struct stat s {};
    if (stat(f.c_str(), &s) != 0 || !S_ISREG(s.st_mode) || !OpenToOthers(s.st_mode)) continue;
    if (refused.ok()) {
      refused = CheckPrivate(
          s, f, "the collector's database (its tokens' hashes and the fleet's data)", "open");
    } else {
      more += " " + f;
    }
  }
  if (refused.ok()) return refused;
  return Status(refused.code(), refused.message() + more);
}

}  // namespace driftwatch::collector
