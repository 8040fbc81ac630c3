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

// `s` (a Host error naming `name`) naming `what` instead: "what: reason".
Status ErrnoStatusOf(const Status& s, const std::string& name, const std::string& what) {
  const std::string& m = s.message();
  if (m.rfind(name + ": ", 0) == 0) return Status(s.code(), what + m.substr(name.size()));
  return s.WithContext(what);
}

Result<Digest> HashFile(Host& host, int dir_fd, const std::string& name, const std::string& what) {
  auto fd = host.OpenAt(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (!fd.ok()) return ErrnoStatusOf(fd.status(), name, what);
  struct stat st;
  DW_RETURN_IF_ERROR(host.Fstat(fd->get(), &st).WithContext(what));
  if (!S_ISREG(st.st_mode)) return Status::IoError(what + ": changed type while hashing");
  Hasher h(HashAlgo::kXxh128);
  std::vector<char> buf(1 << 20);
  while (true) {
    auto n = host.Read(fd->get(), buf.data(), buf.size());
    if (!n.ok()) return n.status().WithContext(what);
    if (*n == 0) break;
    h.Update(buf.data(), *n);
  }
  return h.Finish();
}

// Names in a directory opened through `host`, sorted.
Result<std::vector<std::string>> ListDir(Host& host, int dir_fd, const std::string& what) {
  auto entries = host.ReadDir(dir_fd);
  if (!entries.ok()) return entries.status().WithContext(what);
  std::vector<std::string> names;
  for (DirEntryName& de : *entries) names.push_back(std::move(de.name));
  std::sort(names.begin(), names.end());
  return names;
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

// The overlay markers (trusted.overlay.*, user.overlay.*) of `name`.
Result<std::vector<std::pair<std::string, std::string>>> OverlayXattrs(Host& host, int dir_fd,
                                                                       const std::string& name,
                                                                       const std::string& what) {
  auto xattrs = host.XattrsAt(dir_fd, name);
  if (!xattrs.ok()) return xattrs.status().WithContext(what);
  std::vector<std::pair<std::string, std::string>> out;
  for (Xattr& x : *xattrs) {
    if (x.name.find(".overlay.") != std::string::npos) out.emplace_back(x.name, std::move(x.value));
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

Result<UniqueFd> OpenBeneath(Host& host, int root_fd, const std::string& path, int flags) {
  // One component at a time, none of them a symlink, "." or "..": what
  // openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) gives, through the host.
  std::vector<std::string> parts;
  for (size_t i = 0; i < path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  if (parts.empty()) return host.OpenAt(root_fd, ".", flags);
  UniqueFd cur;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "." || parts[i] == "..") {
      return Status::PermissionDenied(path + ": '" + parts[i] + "' in a path beneath a root");
    }
    const bool last = i + 1 == parts.size();
    auto next = host.OpenAt(cur.valid() ? cur.get() : root_fd, parts[i],
                            last ? flags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (!next.ok()) return ErrnoStatusOf(next.status(), parts[i], path);
    cur = std::move(*next);
  }
  return cur;
}

Result<Entry> StatEntry(Host& host, int dir_fd, const std::string& name, bool hash) {
  struct stat st;
  DW_RETURN_IF_ERROR(host.StatAt(dir_fd, name, &st));
  Entry e = FromStat(st, name);
  if (e.type == EntryType::kSymlink) {
    DW_ASSIGN_OR_RETURN(e.link_target, host.ReadLinkAt(dir_fd, name));
  }
  if (e.type == EntryType::kFile && hash) {
    DW_ASSIGN_OR_RETURN(e.content, HashFile(host, dir_fd, name, name));
  }
  return e;
}

Result<UpperListing> ReadUpperLayer(Host& host, const std::string& upper_dir, const IdRange& ids) {
  DW_ASSIGN_OR_RETURN(UniqueFd root, host.OpenAt(AT_FDCWD, upper_dir, O_PATH | O_DIRECTORY));
  UpperListing listing;
  std::deque<std::string> dirs = {"/"};
  while (!dirs.empty()) {
    std::string dir = std::move(dirs.front());
    dirs.pop_front();
    const std::string what = upper_dir + dir;
    DW_ASSIGN_OR_RETURN(UniqueFd fd, OpenBeneath(host, root.get(), dir, O_RDONLY | O_DIRECTORY));
    if (dir == "/") {
      DW_ASSIGN_OR_RETURN(auto x, OverlayXattrs(host, fd.get(), ".", what));
      OverlayMarkers m = DecodeOverlayXattrs(x);
      UpperNode node;
      node.entry.type = EntryType::kDir;
      node.opaque = m.opaque;
      listing.Add("/", std::move(node));
    }
    DW_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(host, fd.get(), what));
    for (const std::string& name : names) {
      std::string path = Join(dir, name);
      DW_ASSIGN_OR_RETURN(Entry e, StatEntry(host, fd.get(), name, false));
      DW_ASSIGN_OR_RETURN(auto x, OverlayXattrs(host, fd.get(), name, upper_dir + path));
      OverlayMarkers m = DecodeOverlayXattrs(x);
      UpperNode node;
      node.whiteout =
          IsDeviceWhiteout(e) || (m.whiteout && e.type == EntryType::kFile && e.size == 0);
      node.opaque = m.opaque;
      node.metacopy = m.metacopy;
      node.redirect = m.redirect;
      if (e.type == EntryType::kFile && !node.whiteout && !node.metacopy) {
        DW_ASSIGN_OR_RETURN(e.content, HashFile(host, fd.get(), name, upper_dir + path));
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

Result<std::unique_ptr<DiskLowerView>> DiskLowerView::Open(Host& host, const std::string& dir) {
  DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, dir, O_PATH | O_DIRECTORY));
  return std::unique_ptr<DiskLowerView>(new DiskLowerView(host, std::move(fd)));
}

Result<std::optional<Entry>> DiskLowerView::Lookup(const std::string& path) {
  if (path == "/") {
    DW_ASSIGN_OR_RETURN(Entry e, StatEntry(host_, root_.get(), ".", false));
    e.name = "";
    return std::optional<Entry>(e);
  }
  auto parent = OpenBeneath(host_, root_.get(), Parent(path), O_PATH | O_DIRECTORY);
  // A missing parent, or one that is a symlink or a file: nothing there.
  if (!parent.ok()) return std::optional<Entry>();
  std::string name = path.substr(path.rfind('/') + 1);
  auto e = StatEntry(host_, parent->get(), name, true);
  if (!e.ok()) {
    if (e.status().code() == StatusCode::kNotFound) return std::optional<Entry>();
    return e.status();
  }
  return std::optional<Entry>(std::move(e).value());
}

Result<std::vector<std::string>> DiskLowerView::List(const std::string& path) {
  auto fd = OpenBeneath(host_, root_.get(), path, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return std::vector<std::string>();
  return ListDir(host_, fd->get(), path);
}

Result<std::vector<DriftEvent>> DiffLayers(Host& host, const std::string& lower_dir,
                                           const std::string& upper_dir,
                                           const std::vector<std::string>& excluded,
                                           const IdRange& ids) {
  DW_ASSIGN_OR_RETURN(UpperListing upper, ReadUpperLayer(host, upper_dir, ids));
  DW_ASSIGN_OR_RETURN(std::unique_ptr<DiskLowerView> lower, DiskLowerView::Open(host, lower_dir));
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
