// The Linux implementation of Host.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/host.h"
#include "core/private_file.h"

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

std::string ProcPath(int dir_fd, const std::string& name) {
  if (dir_fd == AT_FDCWD) return name;
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(path, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads the child's stdout and stderr pipes (either may be invalid) until
// both are at EOF, keeping at most kMaxSpawnOutput bytes of each; the rest is
// read and dropped so that the child never blocks on a full pipe.
Status DrainPipes(UniqueFd out_fd, UniqueFd err_fd, std::string* out, std::string* err) {
  char buf[16384];
  while (out_fd.valid() || err_fd.valid()) {
    struct pollfd fds[2] = {{out_fd.get(), POLLIN, 0}, {err_fd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll", errno);
    }
    for (int i = 0; i < 2; ++i) {
      UniqueFd& fd = i == 0 ? out_fd : err_fd;
      std::string* text = i == 0 ? out : err;
      if (!fd.valid() || fds[i].revents == 0) continue;
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fd.Reset();
        continue;
      }
      const size_t keep = std::min(static_cast<size_t>(n), kMaxSpawnOutput - text->size());
      text->append(buf, keep);
    }
  }
  return Status::Ok();
}

// posix_spawn's file actions and attributes, destroyed on every path.
struct SpawnActions {
  posix_spawn_file_actions_t actions;
  SpawnActions() { posix_spawn_file_actions_init(&actions); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
};

// The watched extended attributes, from `list` (llistxattr/flistxattr) and
// `get` (lgetxattr/fgetxattr); `what` names the file in errors (empty for
// a descriptor).
template <typename List, typename Get>
Result<std::vector<Xattr>> WatchedXattrs(const std::string& what, List list, Get get) {
  std::vector<Xattr> out;
  std::string names(1024, '\0');
  ssize_t len;
  for (;;) {
    len = list(names.data(), names.size());
    if (len >= 0) break;
    if (errno == ERANGE && names.size() < (1u << 20)) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return out;
    return ErrnoStatus(what.empty() ? "listxattr" : what + ": listxattr", errno);
  }
  names.resize(static_cast<size_t>(len));
  size_t pos = 0;
  while (pos < names.size()) {
    std::string key(names.c_str() + pos);
    pos += key.size() + 1;
    if (!WatchedXattr(key)) continue;
    std::string value(256, '\0');
    for (;;) {
      ssize_t vlen = get(key.c_str(), value.data(), value.size());
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
      return ErrnoStatus((what.empty() ? "" : what + ": ") + "getxattr " + key, errno);
    }
  }
  return out;
}

class PosixHost final : public Host {
 public:
  Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags) override {
    int fd;
    do {
      fd = ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC, mode_t{0600});
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
    const std::string path = ProcPath(dir_fd, name);
    return WatchedXattrs(
        name, [&](char* list, size_t size) { return ::llistxattr(path.c_str(), list, size); },
        [&](const char* key, void* value, size_t size) {
          return ::lgetxattr(path.c_str(), key, value, size);
        });
  }

  Result<std::vector<Xattr>> XattrsOf(int fd) override {
    // On the descriptor: no path to resolve (XattrsAt goes through
    // /proc/self/fd), one system call when there are none.
    return WatchedXattrs(
        "", [&](char* list, size_t size) { return ::flistxattr(fd, list, size); },
        [&](const char* key, void* value, size_t size) {
          return ::fgetxattr(fd, key, value, size);
        });
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

  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) override {
    const std::string tmp =
        path + ".tmp." + std::to_string(::getpid()) + "." +
        std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
    Status s = Status::Ok();
    {
      DW_ASSIGN_OR_RETURN(UniqueFd fd,
                          OpenAt(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW));
      s = WriteAll(fd.get(), data, tmp);
      // The mode is set on the fd, not at creation, so that the umask does
      // not narrow it.
      if (s.ok() && ::fchmod(fd.get(), mode) != 0) s = ErrnoStatus(tmp, errno);
      if (s.ok() && ::fsync(fd.get()) != 0) s = ErrnoStatus(tmp, errno);
      if (s.ok() && ::close(fd.release()) != 0) s = ErrnoStatus(tmp, errno);
    }
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoStatus(path, errno);
    if (!s.ok()) ::unlink(tmp.c_str());
    return s;
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0) return ErrnoStatus("mkdir " + path, errno);
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus(from + " -> " + to, errno);
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) == 0) return Status::Ok();
    if (errno != EISDIR) return ErrnoStatus(path, errno);
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus(path, errno);
    return Status::Ok();
  }

  Status MakeDirAt(int dir_fd, const std::string& name, mode_t mode) override {
    if (::mkdirat(dir_fd, name.c_str(), mode & 07777) != 0) {
      return ErrnoStatus("mkdir " + name, errno);
    }
    // mkdirat narrows the mode by the umask: set it exactly.
    return ChmodAt(dir_fd, name, mode);
  }

  Status SymlinkAt(const std::string& target, int dir_fd, const std::string& name) override {
    if (::symlinkat(target.c_str(), dir_fd, name.c_str()) != 0) {
      return ErrnoStatus("symlink " + name, errno);
    }
    return Status::Ok();
  }

  Status UnlinkAt(int dir_fd, const std::string& name, bool dir) override {
    if (::unlinkat(dir_fd, name.c_str(), dir ? AT_REMOVEDIR : 0) != 0) {
      return ErrnoStatus("remove " + name, errno);
    }
    return Status::Ok();
  }

  Status RenameAt(int from_dir, const std::string& from, int to_dir,
                  const std::string& to) override {
    if (::renameat(from_dir, from.c_str(), to_dir, to.c_str()) != 0) {
      return ErrnoStatus(from + " -> " + to, errno);
    }
    return Status::Ok();
  }

  Status ChmodAt(int dir_fd, const std::string& name, mode_t mode) override {
    // fchmodat cannot refuse a symlink in the last component (glibc has no
    // AT_SYMLINK_NOFOLLOW for it): pin the entry with O_PATH|O_NOFOLLOW,
    // check what it is, and change it through its /proc/self/fd link.
    DW_ASSIGN_OR_RETURN(UniqueFd fd, OpenAt(dir_fd, name, O_PATH | O_NOFOLLOW));
    struct stat st;
    DW_RETURN_IF_ERROR(Fstat(fd.get(), &st).WithContext(name));
    if (S_ISLNK(st.st_mode)) return Status::InvalidArgument(name + ": a symlink has no mode");
    const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    if (::chmod(proc.c_str(), mode & 07777) != 0) return ErrnoStatus("chmod " + name, errno);
    return Status::Ok();
  }

  Status ChownAt(int dir_fd, const std::string& name, uid_t uid, gid_t gid) override {
    if (::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus("chown " + name, errno);
    }
    return Status::Ok();
  }

  Status SetXattrAt(int dir_fd, const std::string& name, const Xattr& xattr) override {
    const std::string path = ProcPath(dir_fd, name);
    if (::lsetxattr(path.c_str(), xattr.name.c_str(), xattr.value.data(), xattr.value.size(), 0) !=
        0) {
      return ErrnoStatus(name + ": setxattr " + xattr.name, errno);
    }
    return Status::Ok();
  }

  Status RemoveXattrAt(int dir_fd, const std::string& name, const std::string& key) override {
    const std::string path = ProcPath(dir_fd, name);
    if (::lremovexattr(path.c_str(), key.c_str()) != 0) {
      return ErrnoStatus(name + ": removexattr " + key, errno == ENODATA ? ENOENT : errno);
    }
    return Status::Ok();
  }

  Status Write(int fd, std::string_view data) override { return WriteAll(fd, data, "write"); }

  Status Fsync(int fd) override {
    if (::fsync(fd) != 0) return ErrnoStatus("fsync", errno);
    return Status::Ok();
  }

  Result<SpawnResult> Spawn(const SpawnRequest& request) override {
    if (request.argv.empty()) return Status::InvalidArgument("spawn: no program");
    const std::string& program = request.argv[0];
    // Every fd is O_CLOEXEC and owned here: the child gets only what the
    // file actions dup2 onto 0, 1 and 2, and every return closes the rest.
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    UniqueFd err_read(p[0]), err_write(p[1]);
    UniqueFd out_read, out_write;
    if (request.capture_stdout) {
      if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
      out_read.Reset(p[0]);
      out_write.Reset(p[1]);
    }
    const std::string in_path = request.stdin_path.empty() ? "/dev/null" : request.stdin_path;
    DW_ASSIGN_OR_RETURN(UniqueFd in, OpenAt(AT_FDCWD, in_path, O_RDONLY | O_NOCTTY));
    DW_ASSIGN_OR_RETURN(UniqueFd null_out, OpenAt(AT_FDCWD, "/dev/null", O_WRONLY));
    SpawnActions fa;
    posix_spawn_file_actions_adddup2(&fa.actions, in.get(), 0);
    posix_spawn_file_actions_adddup2(&fa.actions,
                                     out_write.valid() ? out_write.get() : null_out.get(), 1);
    posix_spawn_file_actions_adddup2(&fa.actions, err_write.get(), 2);
    std::vector<char*> argv;
    for (const std::string& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const bool search = program.find('/') == std::string::npos;
    int rc = search
                 ? ::posix_spawnp(&pid, program.c_str(), &fa.actions, nullptr, argv.data(), environ)
                 : ::posix_spawn(&pid, program.c_str(), &fa.actions, nullptr, argv.data(), environ);
    if (rc != 0) return ErrnoStatus(program, rc);
    // The parent's copies of the write ends go, so that EOF comes when the
    // child exits.
    err_write.Reset();
    out_write.Reset();
    in.Reset();
    null_out.Reset();
    SpawnResult result;
    Status drained = DrainPipes(std::move(out_read), std::move(err_read), &result.out, &result.err);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return ErrnoStatus("waitpid " + program, errno);
    }
    DW_RETURN_IF_ERROR(drained.WithContext(program));
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
  }

  int64_t MonotonicNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
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

Status MakeDirs(Host& host, const std::string& path, mode_t mode) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    if (path[i - 1] == '/') continue;  // "a//b", a trailing slash
    const std::string p = path.substr(0, i);
    Status s = host.MakeDir(p, mode);
    if (s.ok()) continue;
    if (s.code() != StatusCode::kAlreadyExists) return s;
    struct stat st;
    // An existing directory, or a symlink to one (as /var/run is), is fine.
    if (!host.StatAt(AT_FDCWD, p, &st).ok()) return s;
    if (S_ISLNK(st.st_mode)) {
      auto fd = host.OpenAt(AT_FDCWD, p, O_RDONLY | O_DIRECTORY);
      if (!fd.ok()) return s;
    } else if (!S_ISDIR(st.st_mode)) {
      return Status::AlreadyExists("mkdir " + p + ": not a directory");
    }
  }
  return Status::Ok();
}

Host& DefaultHost() {
  static PosixHost* host = new PosixHost();  // never destroyed: used until exit
  return *host;
}

}  // namespace driftwatch
