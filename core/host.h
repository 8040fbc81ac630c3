// Host: the one seam between driftwatch and the operating system.
//
// Every file, directory, stat, xattr, write, process, clock and hostname
// access of driftwatch goes through a Host, as leveldb's code goes through
// Env. A Host is passed in (options structs and constructors take a Host&);
// only the executables' main functions call DefaultHost() (POSIX, Linux).
// Tests pass an in-memory host or a fault-injecting one (tests/testing/).
//
// Paths are byte strings: no encoding is assumed. Directory-relative calls
// take a directory fd and a single name component and never follow a symlink
// in that component. All fds are opened O_CLOEXEC.
//
// Whole-path calls (WriteFileAtomic, MakeDir, Rename, Remove) do not follow
// a symlink in the last component: a symlink there is replaced or removed,
// never written through.
//
// Thread-safety: implementations must be safe to call from several threads.
#ifndef DRIFTWATCH_CORE_HOST_H_
#define DRIFTWATCH_CORE_HOST_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace driftwatch {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct DirEntryName {
  std::string name;
  unsigned char d_type = 0;  // DT_* from readdir, DT_UNKNOWN when unknown
};

struct Xattr {
  std::string name;
  std::string value;
};

// A program to run (Host::Spawn). argv[0] is the program's path, or a name
// without '/' looked up in $PATH. The environment is the caller's.
struct SpawnRequest {
  std::vector<std::string> argv;
  std::string stdin_path;       // read as standard input; empty: /dev/null
  bool capture_stdout = false;  // else standard output goes to /dev/null
};

struct SpawnResult {
  int exit_code = 0;  // the exit status, or 128 + the signal that ended it
  std::string out;    // standard output when captured; at most kMaxSpawnOutput bytes are kept
  std::string err;    // standard error; at most kMaxSpawnOutput bytes are kept
};

inline constexpr size_t kMaxSpawnOutput = 1 << 20;

class Host {
 public:
  virtual ~Host() = default;

  // openat(dir_fd, name, flags | O_CLOEXEC). `name` may be an absolute path
  // when dir_fd is AT_FDCWD. A file it creates (O_CREAT) gets mode 0600
  // (less the umask); callers chmod the fd for another.
  virtual Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags) = 0;

  // fstatat(dir_fd, name, AT_SYMLINK_NOFOLLOW).
  virtual Status StatAt(int dir_fd, const std::string& name, struct stat* st) = 0;
  virtual Status Fstat(int fd, struct stat* st) = 0;

  // Reads up to n bytes at the current offset; retries EINTR; 0 means EOF.
  virtual Result<size_t> Read(int fd, void* buf, size_t n) = 0;

  // Lists a directory opened with OpenAt(..., O_DIRECTORY), from the fd's
  // current position (a fresh fd: the whole directory); "." and ".." are
  // left out. Order is the kernel's (callers sort).
  virtual Result<std::vector<DirEntryName>> ReadDir(int dir_fd) = 0;

  // readlinkat(dir_fd, name).
  virtual Result<std::string> ReadLinkAt(int dir_fd, const std::string& name) = 0;

  // Extended attributes of `name` in dir_fd, without following a symlink,
  // restricted to the namespaces driftwatch watches (security.capability,
  // security.selinux, system.posix_acl_*, user.*, trusted.* when readable).
  // A filesystem without xattr support yields an empty list.
  virtual Result<std::vector<Xattr>> XattrsAt(int dir_fd, const std::string& name) = 0;
  // The same, of the file open as `fd` (flistxattr/fgetxattr): no path is
  // looked up again, so it is the file that was opened, whatever has been
  // renamed over its name since.
  virtual Result<std::vector<Xattr>> XattrsOf(int fd) = 0;

  // Reads a whole regular file of at most max_bytes (larger is
  // kResourceExhausted). Anything else (a FIFO, socket, device, directory) is
  // kInvalidArgument "PATH: not a regular file (a FIFO)", found without
  // blocking and without reading from it. Follows symlinks in `path`.
  virtual Result<std::string> ReadFile(const std::string& path, size_t max_bytes) = 0;

  // Writes `data` to `path` as a new file of mode `mode`: a temporary file
  // beside it is written, synced and renamed over `path`, so that readers
  // see the old contents or the new, never a part. On failure the temporary
  // file is removed and `path` is left as it was.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) = 0;

  // mkdir(path, mode). An existing entry is kAlreadyExists (whatever it is).
  virtual Status MakeDir(const std::string& path, mode_t mode) = 0;

  // rename(from, to): replaces `to` when it exists (a file over a file, a
  // directory over an empty directory).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;

  // Removes a file, a symlink (not its target) or an empty directory. A
  // missing entry is kNotFound.
  virtual Status Remove(const std::string& path) = 0;

  // Writes relative to a directory fd (restore, agent/restore.h). `name` is
  // one component of dir_fd and a symlink there is never followed: it is
  // made, renamed or removed itself. Permission bits and owners are set as
  // given (no umask).
  // mkdirat(dir_fd, name, mode) then the exact mode; an existing entry is
  // kAlreadyExists.
  virtual Status MakeDirAt(int dir_fd, const std::string& name, mode_t mode) = 0;
  // symlinkat(target, dir_fd, name); an existing entry is kAlreadyExists.
  virtual Status SymlinkAt(const std::string& target, int dir_fd, const std::string& name) = 0;
  // unlinkat(dir_fd, name, dir ? AT_REMOVEDIR : 0): a file or symlink, or an
  // empty directory.
  virtual Status UnlinkAt(int dir_fd, const std::string& name, bool dir) = 0;
  // renameat(from_dir, from, to_dir, to): replaces `to` as Rename does.
  virtual Status RenameAt(int from_dir, const std::string& from, int to_dir,
                          const std::string& to) = 0;
  // The permission bits (07777) of a file or directory; a symlink (whose
  // mode Linux does not keep) is kInvalidArgument.
  virtual Status ChmodAt(int dir_fd, const std::string& name, mode_t mode) = 0;
  // Owner and group, of a symlink itself when `name` is one (lchown).
  virtual Status ChownAt(int dir_fd, const std::string& name, uid_t uid, gid_t gid) = 0;
  // Sets or removes one extended attribute of `name` (a symlink itself).
  // Removing one that is not there is kNotFound.
  virtual Status SetXattrAt(int dir_fd, const std::string& name, const Xattr& xattr) = 0;
  virtual Status RemoveXattrAt(int dir_fd, const std::string& name, const std::string& key) = 0;
  // Writes all of `data` at the current offset of an fd opened for writing
  // (OpenAt with O_WRONLY), retrying short writes and EINTR.
  virtual Status Write(int fd, std::string_view data) = 0;
  // fsync(fd): the file's data and metadata are on disk.
  virtual Status Fsync(int fd) = 0;

  // Runs a program and waits for it; argv[0] without a '/' is looked up in
  // $PATH. Fails only when it cannot be started (no such program:
  // kNotFound; no memory, no fds): its exit code, even 127, is in the
  // result. Every pipe and fd is closed on every path; the child gets no fd
  // of the caller but 0, 1 and 2.
  virtual Result<SpawnResult> Spawn(const SpawnRequest& request) = 0;

  // Wall clock in nanoseconds since the epoch; may jump (NTP, an admin).
  virtual int64_t NowNs() = 0;
  // A clock that never jumps, in nanoseconds from an arbitrary start; for
  // waits and retry delays.
  virtual int64_t MonotonicNs() = 0;
  virtual std::string Hostname() = 0;
};

// Creates `path` and its missing parents with `mode` (mkdir -p) through
// `host`. Existing directories are fine; an existing non-directory is
// kAlreadyExists.
Status MakeDirs(Host& host, const std::string& path, mode_t mode);

// The process-wide POSIX host. Never null; lives for the whole program.
// Called by the executables' main functions only; everything else is given a
// Host.
Host& DefaultHost();

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_HOST_H_
