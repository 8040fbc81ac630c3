// Private files (private_file.h).
#include "core/private_file.h"

#include <cstdio>

namespace driftwatch {

bool OpenToOthers(mode_t mode) { return (mode & 077) != 0; }

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

const char* FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISREG(mode)) return "a regular file";
  return "not a file";
}

Status CheckPrivate(const struct stat& st, const std::string& path, std::string_view what,
                    std::string_view verb) {
  if (!OpenToOthers(st.st_mode)) return Status::Ok();
  std::string m = path + ": mode " + OctalMode(st.st_mode) + " lets other users read ";
  m += what;
  m += "; refusing to ";
  m += verb;
  m += " it. Fix: chmod ";
  m += S_ISDIR(st.st_mode) ? "700 " : "600 ";
  m += path;
  return Status::PermissionDenied(std::move(m));
}

}  // namespace driftwatch
