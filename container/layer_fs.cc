#include "container/layer_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>

#include "container/userns.h"
namespace driftwatch::container {
namespace {

std::string Join(const std::string& dir, const std::string& name) {
  return JoinPath(dir == "/" ? "" : dir, name);
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<Digest> HashFile(int dir_fd, const std::string& name, const std::string& what) {
  int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(what, errno);
  UniqueFd owned(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(what, errno);
  if (!S_ISREG(st.st_mode)) return Status::IoError(what + ": changed type while hashing");
  Hasher h(HashAlgo::kXxh128);
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(what, errno);
    if (n == 0) break;
    h.Update(buf.data(), static_cast<size_t>(n));
  }
  return h.Finish();
}

Entry FromStat(const struct stat& st, const std::string& name) {
  Entry e;
  e.name = name;
  EntryTypeFromMode(st.st_mode, &e.type);
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.size = static_cast<uint64_t>(st.st_size);
  e.rdev = (e.type == EntryType::kCharDev || e.type == EntryType::kBlockDev) ? st.st_rdev : 0;
  e.mask = DiffMask(e.type);
  return e;
}

Result<std::vector<std::pair<std::string, std::string>>> OverlayXattrs(int dir_fd,
                                                                       const std::string& name,
                                                                       const std::string& what) {
  std::string p = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<char> names(4096);
  ssize_t n = llistxattr(p.c_str(), names.data(), names.size());
  if (n < 0 && errno == ERANGE) {
    names.resize(65536);
    n = llistxattr(p.c_str(), names.data(), names.size());
  }
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    return ErrnoStatus(what + ": listxattr", errno);
  }
  for (ssize_t i = 0; i < n;) {
    std::string key(names.data() + i);
    i += static_cast<ssize_t>(key.size()) + 1;
    if (key.find(".overlay.") == std::string::npos) continue;
    std::vector<char> value(4096);
    ssize_t vn = lgetxattr(p.c_str(), key.c_str(), value.data(), value.size());
    if (vn < 0) continue;  // removed meanwhile, or too large to be a marker we read
    out.emplace_back(key, std::string(value.data(), static_cast<size_t>(vn)));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::string& what) {
  int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return ErrnoStatus(what, errno);
  DIR* d = fdopendir(dup_fd);
  if (d == nullptr) {
    int err = errno;
    close(dup_fd);
    return ErrnoStatus(what, err);
  }
  rewinddir(d);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* de = readdir(d)) {
    std::string_view n = de->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int err = errno;
  closedir(d);
  if (err != 0) return ErrnoStatus(what, err);
  std::sort(names.begin(), names.end());
  return names;
}

Result<UniqueFd> OpenBeneath(int root_fd, const std::string& path, int flags) {
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
  if (fd < 0) return ErrnoStatus(path, errno);
  return UniqueFd(static_cast<int>(fd));
}

Result<Entry> StatEntry(int dir_fd, const std::string& name, bool hash) {
  struct stat st;
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return ErrnoStatus(name, errno);
  Entry e = FromStat(st, name);
  if (e.type == EntryType::kSymlink) {
    std::vector<char> buf(static_cast<size_t>(st.st_size) + 2);
    ssize_t n = readlinkat(dir_fd, name.c_str(), buf.data(), buf.size());
    if (n < 0) return ErrnoStatus(name, errno);
    e.link_target.assign(buf.data(), static_cast<size_t>(n));
  }
  if (e.type == EntryType::kFile && hash) {
    DW_ASSIGN_OR_RETURN(e.content, HashFile(dir_fd, name, name));
  }
  return e;
}

Result<UpperListing> ReadUpperLayer(const std::string& upper_dir, const IdRange& ids) {
  int raw = open(upper_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) return ErrnoStatus(upper_dir, errno);
  UniqueFd root(raw);
  UpperListing listing;
  std::deque<std::string> dirs = {"/"};
  while (!dirs.empty()) {
    std::string dir = std::move(dirs.front());
    dirs.pop_front();
    const std::string what = upper_dir + dir;
    DW_ASSIGN_OR_RETURN(UniqueFd fd, OpenBeneath(root.get(), dir, O_RDONLY | O_DIRECTORY));
    if (dir == "/") {
      DW_ASSIGN_OR_RETURN(auto x, OverlayXattrs(fd.get(), ".", what));
      OverlayMarkers m = DecodeOverlayXattrs(x);
      UpperNode node;
      node.entry.type = EntryType::kDir;
      node.opaque = m.opaque;
      listing.Add("/", std::move(node));
    }
    DW_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirFd(fd.get(), what));
    for (const std::string& name : names) {
      std::string path = Join(dir, name);
      DW_ASSIGN_OR_RETURN(Entry e, StatEntry(fd.get(), name, false));
      DW_ASSIGN_OR_RETURN(auto x, OverlayXattrs(fd.get(), name, upper_dir + path));
      OverlayMarkers m = DecodeOverlayXattrs(x);
      UpperNode node;
      node.whiteout =
          IsDeviceWhiteout(e) || (m.whiteout && e.type == EntryType::kFile && e.size == 0);
      node.opaque = m.opaque;
      node.metacopy = m.metacopy;
      node.redirect = m.redirect;
      if (e.type == EntryType::kFile && !node.whiteout && !node.metacopy) {
        DW_ASSIGN_OR_RETURN(e.content, HashFile(fd.get(), name, upper_dir + path));
      }
      if (e.type == EntryType::kDir) dirs.push_back(path);
      e.uid = ContainerViewId(e.uid, ids);
      e.gid = ContainerViewId(e.gid, ids);
      node.entry = std::move(e);
      listing.Add(path, std::move(node));
    }
  }
  return listing;
}

Result<std::unique_ptr<DiskLowerView>> DiskLowerView::Open(const std::string& dir) {
  int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(dir, errno);
  return std::unique_ptr<DiskLowerView>(new DiskLowerView(UniqueFd(fd)));
}

Result<std::optional<Entry>> DiskLowerView::Lookup(const std::string& path) {
  if (path == "/") {
    DW_ASSIGN_OR_RETURN(Entry e, StatEntry(root_.get(), ".", false));
    e.name = "";
    return std::optional<Entry>(e);
  }
  auto parent = OpenBeneath(root_.get(), Parent(path), O_PATH | O_DIRECTORY);
  // A missing parent, or one that is a symlink or a file: nothing there.
  if (!parent.ok()) return std::optional<Entry>();
  std::string name = path.substr(path.rfind('/') + 1);
  auto e = StatEntry(parent->get(), name, true);
  if (!e.ok()) {
    if (e.status().code() == StatusCode::kNotFound) return std::optional<Entry>();
    return e.status();
  }
  return std::optional<Entry>(std::move(e).value());
}

Result<std::vector<std::string>> DiskLowerView::List(const std::string& path) {
  auto fd = OpenBeneath(root_.get(), path, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return std::vector<std::string>();
  return ListDirFd(fd->get(), path);
}

Result<std::vector<DriftEvent>> DiffLayers(const std::string& lower_dir,
                                           const std::string& upper_dir,
                                           const std::vector<std::string>& excluded,
                                           const IdRange& ids) {
  DW_ASSIGN_OR_RETURN(UpperListing upper, ReadUpperLayer(upper_dir, ids));
  DW_ASSIGN_OR_RETURN(std::unique_ptr<DiskLowerView> lower, DiskLowerView::Open(lower_dir));
  return DiffUpperLayer(upper, *lower, excluded);
}

Status RemoveTree(const std::string& path) {
  if (path.empty() || path == "/")
    return Status::InvalidArgument("refusing to remove '" + path + "'");
  std::string parent_path = Parent(path);
  std::string top = path.substr(path.rfind('/') + 1);
  int pfd = open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) return errno == ENOENT ? Status::Ok() : ErrnoStatus(parent_path, errno);
  UniqueFd parent(pfd);
  struct stat st;
  if (fstatat(parent.get(), top.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : ErrnoStatus(path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(parent.get(), top.c_str(), 0) != 0) return ErrnoStatus(path, errno);
    return Status::Ok();
  }
  const dev_t dev = st.st_dev;
  int cfd = openat(parent.get(), top.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0) return ErrnoStatus(path, errno);
  UniqueFd cur(cfd);
  std::vector<std::string> stack;  // names below `path` leading to cur
  while (true) {
    std::string where = path;
    for (const std::string& s : stack) where += "/" + s;
    DW_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirFd(cur.get(), where));
    bool descended = false;
    for (const std::string& name : names) {
      if (fstatat(cur.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        return ErrnoStatus(where + "/" + name, errno);
      }
      if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev)
          return Status::IoError(where + "/" + name + ": is a mount point, not removed");
        int nfd = openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0) return ErrnoStatus(where + "/" + name, errno);
        cur.Reset(nfd);
        stack.push_back(name);
        descended = true;
        break;
      }
      if (unlinkat(cur.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        return ErrnoStatus(where + "/" + name, errno);
      }
    }
    if (descended) continue;
    if (stack.empty()) break;
    int up = openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (up < 0) return ErrnoStatus(where + "/..", errno);
    cur.Reset(up);
    if (unlinkat(cur.get(), stack.back().c_str(), AT_REMOVEDIR) != 0)
      return ErrnoStatus(where, errno);
    stack.pop_back();
  }
  cur.Reset();
  if (unlinkat(parent.get(), top.c_str(), AT_REMOVEDIR) != 0) return ErrnoStatus(path, errno);
  return Status::Ok();
}

}  // namespace driftwatch::container
