// The Linux implementation of Host.
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/host.h"

namespace driftwatch {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {

// The kernel's record for getdents64 (glibc exposes no declaration of it).
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];  // NUL-terminated, extends to d_reclen
};

bool WatchedXattr(std::string_view name) {
  return name == "security.capability" || name == "security.selinux" ||
         name.starts_with("system.posix_acl_") || name.starts_with("user.") ||
         name.starts_with("trusted.") || name.starts_with("security.ima") ||
         name.starts_with("security.evm");
}

const char* FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a file";
}

std::string ProcPath(int dir_fd, const std::string& name) {
  if (dir_fd == AT_FDCWD) return name;
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

class PosixHost final : public Host {
 public:
  Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags) override {
    int fd;
    do {
      fd = ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus(name, errno);
    return UniqueFd(fd);
  }

  Status StatAt(int dir_fd, const std::string& name, struct stat* st) override {
    if (::fstatat(dir_fd, name.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(name, errno);
    }
    return Status::Ok();
  }

  Status Fstat(int fd, struct stat* st) override {
    if (::fstat(fd, st) != 0) return ErrnoStatus("fstat", errno);
    return Status::Ok();
  }

  Result<size_t> Read(int fd, void* buf, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return ErrnoStatus("read", errno);
    }
  }

  Result<std::vector<DirEntryName>> ReadDir(int dir_fd) override {
    // getdents64 straight on the caller's fd: no dup, fdopendir or closedir,
    // which would cost five more system calls per directory.
    std::vector<DirEntryName> out;
    alignas(8) char buf[32768];
    for (;;) {
      long n = ::syscall(SYS_getdents64, dir_fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("readdir", errno);
      }
      if (n == 0) return out;
      for (long pos = 0; pos < n;) {
        const auto* de = reinterpret_cast<const struct Dirent64*>(buf + pos);
        pos += de->d_reclen;
        const char* name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        out.push_back({name, de->d_type});
      }
    }
  }

  Result<std::string> ReadLinkAt(int dir_fd, const std::string& name) override {
    std::string buf(256, '\0');
    for (;;) {
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf.data(), buf.size());
      if (n < 0) return ErrnoStatus(name, errno);
      if (static_cast<size_t>(n) < buf.size()) {
        buf.resize(static_cast<size_t>(n));
        return buf;
      }
      if (buf.size() >= 65536) return Status::ResourceExhausted(name + ": symlink target too long");
      buf.resize(buf.size() * 4);
    }
  }

  Result<std::vector<Xattr>> XattrsAt(int dir_fd, const std::string& name) override {
    std::string path = ProcPath(dir_fd, name);
    std::vector<Xattr> out;
    std::string names(1024, '\0');
    ssize_t len;
    for (;;) {
      len = ::llistxattr(path.c_str(), names.data(), names.size());
      if (len >= 0) break;
      if (errno == ERANGE && names.size() < (1u << 20)) {
        names.resize(names.size() * 4);
        continue;
      }
      if (errno == ENOTSUP || errno == EOPNOTSUPP) return out;
      return ErrnoStatus(name + ": listxattr", errno);
    }
    names.resize(static_cast<size_t>(len));
    size_t pos = 0;
    while (pos < names.size()) {
      std::string key(names.c_str() + pos);
      pos += key.size() + 1;
      if (!WatchedXattr(key)) continue;
      std::string value(256, '\0');
      for (;;) {
        ssize_t vlen = ::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
        if (vlen >= 0) {
          value.resize(static_cast<size_t>(vlen));
          out.push_back({key, value});
          break;
        }
        if (errno == ERANGE && value.size() < (1u << 20)) {
          value.resize(value.size() * 4);
          continue;
        }
        if (errno == ENODATA || errno == EPERM || errno == EACCES) break;  // vanished or hidden
        return ErrnoStatus(name + ": getxattr " + key, errno);
      }
    }
    return out;
  }

  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
    // writer, and a device may block in open; the type is checked on the fd
    // before any read, and regular files ignore the flag.
    DW_ASSIGN_OR_RETURN(UniqueFd fd, OpenAt(AT_FDCWD, path, O_RDONLY | O_NOCTTY | O_NONBLOCK));
    struct stat st;
    DW_RETURN_IF_ERROR(Fstat(fd.get(), &st).WithContext(path));
    if (!S_ISREG(st.st_mode)) {
      return Status::InvalidArgument(path + ": not a regular file (" + FileTypeName(st.st_mode) +
                                     ")");
    }
    std::string out;
    char buf[65536];
    for (;;) {
      auto n = Read(fd.get(), buf, sizeof buf);
      if (!n.ok()) return n.status().WithContext(path);
      if (*n == 0) return out;
      if (out.size() + *n > max_bytes) {
        return Status::ResourceExhausted(path + ": larger than " + std::to_string(max_bytes) +
                                         " bytes");
      }
      out.append(buf, *n);
    }
  }

  int64_t NowNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::string Hostname() override {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
  }
};

}  // namespace

Host& DefaultHost() {
  static PosixHost* host = new PosixHost();  // never destroyed: used until exit
  return *host;
}

}  // namespace driftwatch
