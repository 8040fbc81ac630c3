// Host: the one seam between driftwatch and the operating system.
//
// Every file, directory, stat, xattr, clock and hostname access of the agent
// goes through a Host, as leveldb's code goes through Env. Production code uses
// DefaultHost() (POSIX, Linux); tests wrap it (see core/fault_host.h) to inject
// EIO, EACCES, ENOSPC, vanishing files and short reads.
//
// Paths are byte strings: no encoding is assumed. Directory-relative calls
// take a directory fd and a single name component and never follow a symlink
// in that component. All fds are opened O_CLOEXEC.
//
// Thread-safety: implementations must be safe to call from several threads.
#ifndef DRIFTWATCH_CORE_HOST_H_
#define DRIFTWATCH_CORE_HOST_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
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

class Host {
 public:
  virtual ~Host() = default;

  // openat(dir_fd, name, flags | O_CLOEXEC). `name` may be an absolute path
  // when dir_fd is AT_FDCWD.
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

  // Reads a whole regular file of at most max_bytes (larger is
  // kResourceExhausted). Anything else (a FIFO, socket, device, directory) is
  // kInvalidArgument "PATH: not a regular file (a FIFO)", found without
  // blocking and without reading from it. Follows symlinks in `path`.
  virtual Result<std::string> ReadFile(const std::string& path, size_t max_bytes) = 0;

  // Wall clock in nanoseconds since the epoch.
  virtual int64_t NowNs() = 0;
  virtual std::string Hostname() = 0;
};

// The process-wide POSIX host. Never null; lives for the whole program.
Host& DefaultHost();

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_HOST_H_
