#include "agent/store_file.h"

#include <fcntl.h>

#include <cerrno>

#include "core/private_file.h"

namespace driftwatch::agent {
namespace {

// Whether `s` was made by ErrnoStatus for `err`: its message ends with the
// errno's text, which comes from that one helper.
bool HasErrno(const Status& s, int err) {
  const std::string text = ErrnoStatus("", err).message().substr(2);
  const std::string& m = s.message();
  return m.size() >= text.size() && m.compare(m.size() - text.size(), text.size(), text) == 0;
}

// The first leading component of `path` that exists and is not a
// directory, or "".
std::string FileInTheWay(Host& host, const std::string& path) {
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    const std::string p = path.substr(0, i);
    auto fd = host.OpenAt(AT_FDCWD, p, O_RDONLY | O_DIRECTORY);
    if (fd.ok()) continue;
    return HasErrno(fd.status(), ENOTDIR) ? p : std::string();
  }
  return std::string();
}

// `s` (a failed call on `path` or its directory) in an operator's words,
// or `s` itself when its errno is none of these.
Status Reason(Host& host, const std::string& path, const Status& s) {
  if (HasErrno(s, EROFS)) {
    return Status::PermissionDenied(path +
                                    ": read-only file system (the store is written by every "
                                    "check: pass --db FILE on a writable one)");
  }
  if (HasErrno(s, EACCES) || HasErrno(s, EPERM)) {
    return Status::PermissionDenied(path + ": permission denied: run as root or pass --db FILE");
  }
  if (HasErrno(s, EISDIR)) {
    return Status::InvalidArgument(path + ": is a directory (--db names the store's file, e.g. " +
                                   path + "/agent.db)");
  }
  if (HasErrno(s, ENOTDIR)) {
    const std::string file = FileInTheWay(host, path);
    return Status::InvalidArgument(path + ": not a directory" +
                                   (file.empty() ? std::string() : ": " + file + " is a file"));
  }
  if (s.code() == StatusCode::kAlreadyExists) {  // MakeDirs: a file where a directory goes
    const std::string file = FileInTheWay(host, path);
    if (!file.empty())
      return Status::InvalidArgument(path + ": not a directory: " + file + " is a file");
  }
  return s;
}

Status RefusePrivate(const std::string& what, const std::string& file, mode_t mode, bool dir) {
  return Status::PermissionDenied(
      file + ": " + what + " is open to group or others (mode " + OctalMode(mode) +
      ") and the agent store holds the agent's token: " +
      (dir ? "chmod 700 " + file + " (or pass --db FILE in a directory of its own)"
           : "chmod 600 " + file));
}

// The checks of PrepareStoreFile; `create` makes what is missing.
Status Inspect(Host& host, const std::string& path, bool create) {
  if (path.empty()) return Status::InvalidArgument("the agent store's path is empty (--db FILE)");
  const std::string dir = StoreDir(path);
  auto dir_fd = host.OpenAt(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
  if (!dir_fd.ok()) {
    const Status& s = dir_fd.status();
    if (s.code() != StatusCode::kNotFound || HasErrno(s, ENOTDIR)) return Reason(host, path, s);
    if (!FileInTheWay(host, dir + "/").empty())
      return Reason(host, path, ErrnoStatus(dir, ENOTDIR));
    if (!create) return Status::NotFound(path + ": no agent store here (no directory " + dir + ")");
    DW_RETURN_IF_ERROR(Reason(host, path, MakeDirs(host, dir, 0700)));
    dir_fd = host.OpenAt(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
    if (!dir_fd.ok()) return Reason(host, path, dir_fd.status());
  }
  struct stat st;
  // A directory given for the file is the likelier mistake: said first.
  if (auto f = host.OpenAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY); f.ok()) {
    return Reason(host, path, ErrnoStatus(path, EISDIR));
  }
  DW_RETURN_IF_ERROR(Reason(host, path, host.Fstat(dir_fd->get(), &st)));
  if (OpenToOthers(st.st_mode))
    return RefusePrivate("the store's directory", dir, st.st_mode, true);

  // O_PATH: closing a descriptor opened for reading would drop the POSIX
  // locks SQLite connections of this process hold on the store (fcntl locks
  // belong to the process and go with any close), and another process could
  // then checkpoint and delete the WAL under them. An O_PATH close does not.
  auto fd = host.OpenAt(AT_FDCWD, path, O_PATH | O_NOCTTY);
  if (!fd.ok() && fd.status().code() == StatusCode::kNotFound && !HasErrno(fd.status(), ENOTDIR)) {
    if (!create) return Status::NotFound(path + ": no agent store here");
    fd = host.OpenAt(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY);
    // Made at the same moment by another driftwatch: it is checked below.
    if (!fd.ok() && fd.status().code() == StatusCode::kAlreadyExists) {
      fd = host.OpenAt(AT_FDCWD, path, O_PATH | O_NOCTTY);
    }
  }
  if (!fd.ok()) return Reason(host, path, fd.status());
  DW_RETURN_IF_ERROR(Reason(host, path, host.Fstat(fd->get(), &st)));
  if (S_ISDIR(st.st_mode)) return Reason(host, path, ErrnoStatus(path, EISDIR));
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + ": not a regular file (the agent store is a file)");
  }
  if (OpenToOthers(st.st_mode)) return RefusePrivate("the store", path, st.st_mode, false);
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string side = path + suffix;
    if (host.StatAt(AT_FDCWD, side, &st).ok() && S_ISREG(st.st_mode) && OpenToOthers(st.st_mode)) {
      return RefusePrivate("the store's " + std::string(suffix + 1) + " file", side, st.st_mode,
                           false);
    }
  }
  return Status::Ok();
}

}  // namespace

std::string StoreDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status PrepareStoreFile(Host& host, const std::string& path) {
  return Inspect(host, path, /*create=*/true);
}

Status CheckStoreFile(Host& host, const std::string& path) {
  return Inspect(host, path, /*create=*/false);
}

Status ExplainStoreOpenError(Host& host, const std::string& path, const Status& failed) {
  Status why = Inspect(host, path, /*create=*/false);
  if (!why.ok()) return why;
  // The file is there and private: can it be written?
  auto fd = host.OpenAt(AT_FDCWD, path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (!fd.ok()) {
    Status reason = Reason(host, path, fd.status());
    if (reason.message() != fd.status().message()) return reason;
  }
  return failed;
}

}  // namespace driftwatch::agent
