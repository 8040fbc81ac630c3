// The fleet store's file kept private (sqlite_file.h).
#include "collector/sqlite_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

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
  std::vector<std::string> open_to_others;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string f = path + suffix;
    struct stat s {};
    if (stat(f.c_str(), &s) == 0 && S_ISREG(s.st_mode) && (s.st_mode & 077) != 0) {
      open_to_others.push_back(f);
    }
  }
  if (open_to_others.empty()) return Status::Ok();
  struct stat s {};
  stat(open_to_others[0].c_str(), &s);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(s.st_mode & 07777));
  std::string fix = "chmod 600";
  for (const std::string& f : open_to_others) fix += " " + f;
  return Status::PermissionDenied(
      open_to_others[0] + ": mode " + mode +
      " lets other users read the collector's database (its tokens' hashes and the fleet's "
      "data); refusing to open it. Fix: " +
      fix);
}

}  // namespace driftwatch::collector
