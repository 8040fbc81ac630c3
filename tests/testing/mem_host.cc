#include "tests/testing/mem_host.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/normal_path.h"

namespace driftwatch::testutil {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string Child(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::deque<std::string> Components(const std::string& path) {
  std::vector<std::string> parts = PathComponents(path);
  return std::deque<std::string>(parts.begin(), parts.end());
}

std::string Octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

timespec Timespec(int64_t ns) {
  return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

}  // namespace

MemHost::MemHost() { nodes_["/"] = NewNode(S_IFDIR, 0755); }

MemHost::~MemHost() = default;

std::shared_ptr<MemHost::Node> MemHost::NewNode(mode_t type, mode_t mode) {
  auto n = std::make_shared<Node>();
  n->type = type;
  n->mode = mode & 07777;
  n->ino = next_ino_++;
  n->mtime_ns = n->ctime_ns = now_ns_;
  return n;
}

void MemHost::Touch(Node& n) const { n.mtime_ns = n.ctime_ns = now_ns_; }

void MemHost::TouchParent(const std::string& path) {
  if (auto it = nodes_.find(Parent(path)); it != nodes_.end()) Touch(*it->second);
}

Result<std::shared_ptr<MemHost::Node>> MemHost::Lookup(const std::string& path, bool follow_last,
                                                       std::string* resolved) const {
  std::deque<std::string> rest = Components(path);
  std::string cur = "/";
  int hops = 0;
  std::shared_ptr<Node> node = nodes_.at("/");
  while (!rest.empty()) {
    std::string c = std::move(rest.front());
    rest.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      cur = Parent(cur);
      node = nodes_.at(cur);
      continue;
    }
    if (node->type != S_IFDIR) return ErrnoStatus(path, ENOTDIR);
    const std::string next = Child(cur, c);
    auto it = nodes_.find(next);
    if (it == nodes_.end()) return ErrnoStatus(path, ENOENT);
    if (it->second->type == S_IFLNK && (!rest.empty() || follow_last)) {
      if (++hops > 40) return ErrnoStatus(path, ELOOP);
      const std::string& target = it->second->data;
      std::deque<std::string> more = Components(target);
      rest.insert(rest.begin(), more.begin(), more.end());
      if (!target.empty() && target[0] == '/') {
        cur = "/";
        node = nodes_.at("/");
      }
      continue;
    }
    cur = next;
    node = it->second;
  }
  if (resolved != nullptr) *resolved = cur;
  return node;
}

Result<std::string> MemHost::PathAt(int dir_fd, const std::string& name) const {
  if (dir_fd == AT_FDCWD) {
    if (name.empty() || name[0] != '/') return ErrnoStatus(name, EINVAL);
    return name;
  }
  auto it = fds_.find(dir_fd);
  if (it == fds_.end()) return ErrnoStatus(name, EBADF);
  if (it->second.node->type != S_IFDIR) return ErrnoStatus(name, ENOTDIR);
  if (name == ".") return it->second.path;
  return Child(it->second.path, name);
}

void MemHost::MakeParents(const std::string& path) {
  std::string cur = "/";
  std::deque<std::string> parts = Components(Parent(path));
  for (const std::string& c : parts) {
    cur = Child(cur, c);
    if (!nodes_.count(cur)) nodes_[cur] = NewNode(S_IFDIR, 0755);
  }
}

Status MemHost::ParentIsDir(const std::string& path) const {
  std::string resolved;
  auto parent = Lookup(Parent(path), true, &resolved);
  if (!parent.ok()) return ErrnoStatus(path, ENOENT);
  if ((*parent)->type != S_IFDIR) return ErrnoStatus(path, ENOTDIR);
  return Status::Ok();
}

void MemHost::PutFile(const std::string& path, std::string_view contents, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  MakeParents(path);
  auto& n = nodes_[path];
  if (!n || n->type != S_IFREG) {
    n = NewNode(S_IFREG, mode);
    TouchParent(path);
  }
  n->data = std::string(contents);
  n->mode = mode & 07777;
  Touch(*n);
}

void MemHost::PutDir(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  MakeParents(path);
  auto& n = nodes_[path];
  if (!n || n->type != S_IFDIR) {
    n = NewNode(S_IFDIR, mode);
    TouchParent(path);
  }
  n->mode = mode & 07777;
}

void MemHost::PutSymlink(const std::string& path, const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  MakeParents(path);
  auto n = NewNode(S_IFLNK, 0777);
  n->data = target;
  nodes_[path] = n;
  TouchParent(path);
}

void MemHost::PutXattr(const std::string& path, const std::string& name, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& n = nodes_.at(path);
  n->xattrs[name] = value;
  n->ctime_ns = now_ns_;
}

void MemHost::SetMode(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& n = nodes_.at(path);
  n->mode = mode & 07777;
  n->ctime_ns = now_ns_;
}

void MemHost::SetOwner(const std::string& path, uid_t uid, gid_t gid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& n = nodes_.at(path);
  n->uid = uid;
  n->gid = gid;
  n->ctime_ns = now_ns_;
}

void MemHost::Erase(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (nodes_.erase(path) > 0) TouchParent(path);
  const std::string prefix = path + "/";
  for (auto it = nodes_.lower_bound(prefix);
       it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    it = nodes_.erase(it);
  }
}

std::optional<std::string> MemHost::Contents(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  if (it == nodes_.end() || it->second->type != S_IFREG) return std::nullopt;
  return it->second->data;
}

std::optional<mode_t> MemHost::Mode(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return std::nullopt;
  return it->second->mode;
}

bool MemHost::Exists(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.count(path) > 0;
}

void MemHost::SetNowNs(int64_t ns) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ns_ = ns;
}

void MemHost::AdvanceNs(int64_t ns) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ns_ += ns;
  mono_ns_ += ns;
}

void MemHost::SetMonotonicNs(int64_t ns) {
  std::lock_guard<std::mutex> lock(mu_);
  mono_ns_ = ns;
}

void MemHost::SetHostname(std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  hostname_ = std::move(name);
}

void MemHost::ScriptSpawn(Result<SpawnResult> result) {
  std::lock_guard<std::mutex> lock(mu_);
  spawns_.push_back(std::move(result));
}

std::vector<std::string> MemHost::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

void MemHost::ClearLog() {
  std::lock_guard<std::mutex> lock(mu_);
  log_.clear();
}

Result<UniqueFd> MemHost::OpenAt(int dir_fd, const std::string& name, int flags) {
  std::lock_guard<std::mutex> lock(mu_);
  if ((flags & O_CREAT) && (flags & O_EXCL)) {
    // A new empty file (0600, as the POSIX host makes it); logged. Its fd
    // takes Write when opened for writing.
    DW_ASSIGN_OR_RETURN(std::string path, PathAt(dir_fd, name));
    if (nodes_.count(path)) return ErrnoStatus(name, EEXIST);
    DW_RETURN_IF_ERROR(ParentIsDir(path));
    auto node = NewNode(S_IFREG, 0600);
    nodes_[path] = node;
    TouchParent(path);
    log_.push_back("create " + path + " 0600");
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("/dev/null", errno);
    fds_[fd] = OpenFile{path, std::move(node), 0, (flags & O_ACCMODE) != O_RDONLY};
    return UniqueFd(fd);
  }
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)) {
    return ErrnoStatus(name, EROFS);  // writes go through WriteFileAtomic
  }
  DW_ASSIGN_OR_RETURN(std::string path, PathAt(dir_fd, name));
  std::string resolved;
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, Lookup(path, !(flags & O_NOFOLLOW), &resolved));
  if (node->type == S_IFLNK) return ErrnoStatus(name, ELOOP);
  if ((flags & O_DIRECTORY) && node->type != S_IFDIR) return ErrnoStatus(name, ENOTDIR);
  // A real fd, so that UniqueFd can close it; its number names the file.
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("/dev/null", errno);
  fds_[fd] = OpenFile{resolved, std::move(node), 0};
  return UniqueFd(fd);
}

Status MemHost::StatAt(int dir_fd, const std::string& name, struct stat* st) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(std::string path, PathAt(dir_fd, name));
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, Lookup(path, false, nullptr));
  std::memset(st, 0, sizeof *st);
  st->st_dev = 1;
  st->st_ino = node->ino;
  st->st_mode = node->type | node->mode;
  st->st_nlink = node->type == S_IFDIR ? 2 : 1;
  st->st_uid = node->uid;
  st->st_gid = node->gid;
  st->st_size = static_cast<off_t>(node->data.size());
  st->st_blksize = 4096;
  st->st_blocks = static_cast<blkcnt_t>((node->data.size() + 511) / 512);
  st->st_mtim = Timespec(node->mtime_ns);
  st->st_ctim = Timespec(node->ctime_ns);
  st->st_atim = st->st_mtim;
  return Status::Ok();
}

Status MemHost::Fstat(int fd, struct stat* st) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = fds_.find(fd);
    if (it == fds_.end()) return ErrnoStatus("fstat", EBADF);
    if (!nodes_.count(it->second.path) || nodes_.at(it->second.path) != it->second.node) {
      // Removed or replaced since it was opened: the open file is what counts.
      const Node& n = *it->second.node;
      std::memset(st, 0, sizeof *st);
      st->st_dev = 1;
      st->st_ino = n.ino;
      st->st_mode = n.type | n.mode;
      st->st_size = static_cast<off_t>(n.data.size());
      st->st_mtim = Timespec(n.mtime_ns);
      st->st_ctim = Timespec(n.ctime_ns);
      return Status::Ok();
    }
    path = it->second.path;
  }
  return StatAt(AT_FDCWD, path, st);
}

Result<size_t> MemHost::Read(int fd, void* buf, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return ErrnoStatus("read", EBADF);
  OpenFile& f = it->second;
  if (f.node->type == S_IFDIR) return ErrnoStatus("read", EISDIR);
  if (f.offset >= f.node->data.size()) return size_t{0};
  const size_t len = std::min(n, f.node->data.size() - f.offset);
  std::memcpy(buf, f.node->data.data() + f.offset, len);
  f.offset += len;
  return len;
}

Result<std::vector<DirEntryName>> MemHost::ReadDir(int dir_fd) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fds_.find(dir_fd);
  if (it == fds_.end()) return ErrnoStatus("readdir", EBADF);
  if (it->second.node->type != S_IFDIR) return ErrnoStatus("readdir", ENOTDIR);
  std::vector<DirEntryName> out;
  if (it->second.offset > 0) return out;  // listed already
  it->second.offset = 1;
  const std::string prefix = it->second.path == "/" ? "/" : it->second.path + "/";
  for (auto n = nodes_.lower_bound(prefix);
       n != nodes_.end() && n->first.compare(0, prefix.size(), prefix) == 0; ++n) {
    const std::string name = n->first.substr(prefix.size());
    if (name.empty() || name.find('/') != std::string::npos) continue;
    unsigned char type = n->second->type == S_IFDIR   ? DT_DIR
                         : n->second->type == S_IFLNK ? DT_LNK
                                                      : DT_REG;
    out.push_back({name, type});
  }
  return out;
}

Result<std::string> MemHost::ReadLinkAt(int dir_fd, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(std::string path, PathAt(dir_fd, name));
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, Lookup(path, false, nullptr));
  if (node->type != S_IFLNK) return ErrnoStatus(name, EINVAL);
  return node->data;
}

Result<std::vector<Xattr>> MemHost::XattrsAt(int dir_fd, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(std::string path, PathAt(dir_fd, name));
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, Lookup(path, false, nullptr));
  std::vector<Xattr> out;
  for (const auto& [k, v] : node->xattrs) out.push_back({k, v});
  return out;
}

Result<std::vector<Xattr>> MemHost::XattrsOf(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return ErrnoStatus("listxattr", EBADF);
  std::vector<Xattr> out;
  for (const auto& [k, v] : it->second.node->xattrs) out.push_back({k, v});
  return out;
}

Result<std::string> MemHost::ReadFile(const std::string& path, size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path.empty() || path[0] != '/') return ErrnoStatus(path, ENOENT);
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, Lookup(path, true, nullptr));
  if (node->type != S_IFREG) {
    return Status::InvalidArgument(path + ": not a regular file (a directory)");
  }
  if (node->data.size() > max_bytes) {
    return Status::ResourceExhausted(path + ": larger than " + std::to_string(max_bytes) +
                                     " bytes");
  }
  return node->data;
}

Status MemHost::WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_RETURN_IF_ERROR(ParentIsDir(path));
  if (auto it = nodes_.find(path); it != nodes_.end() && it->second->type == S_IFDIR) {
    return ErrnoStatus(path, EISDIR);
  }
  auto n = NewNode(S_IFREG, mode);
  n->data = std::string(data);
  nodes_[path] = n;
  TouchParent(path);
  log_.push_back("write " + path + " " + Octal(mode) + " " + std::to_string(data.size()) +
                 " bytes");
  return Status::Ok();
}

Status MemHost::MakeDir(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  if (nodes_.count(path)) return ErrnoStatus("mkdir " + path, EEXIST);
  DW_RETURN_IF_ERROR(ParentIsDir(path).WithContext("mkdir"));
  nodes_[path] = NewNode(S_IFDIR, mode);
  TouchParent(path);
  log_.push_back("mkdir " + path + " " + Octal(mode));
  return Status::Ok();
}

Status MemHost::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(from);
  if (it == nodes_.end()) return ErrnoStatus(from + " -> " + to, ENOENT);
  DW_RETURN_IF_ERROR(ParentIsDir(to));
  std::map<std::string, std::shared_ptr<Node>> moved;
  moved[to] = it->second;
  const std::string prefix = from + "/";
  for (auto n = nodes_.lower_bound(prefix);
       n != nodes_.end() && n->first.compare(0, prefix.size(), prefix) == 0; ++n) {
    moved[to + n->first.substr(from.size())] = n->second;
  }
  nodes_.erase(from);
  for (auto n = nodes_.lower_bound(prefix);
       n != nodes_.end() && n->first.compare(0, prefix.size(), prefix) == 0;) {
    n = nodes_.erase(n);
  }
  for (auto& [p, node] : moved) nodes_[p] = node;
  TouchParent(from);
  TouchParent(to);
  log_.push_back("rename " + from + " " + to);
  return Status::Ok();
}

Status MemHost::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ErrnoStatus(path, ENOENT);
  if (it->second->type == S_IFDIR) {
    const std::string prefix = path + "/";
    auto child = nodes_.lower_bound(prefix);
    if (child != nodes_.end() && child->first.compare(0, prefix.size(), prefix) == 0) {
      return ErrnoStatus(path, ENOTEMPTY);
    }
  }
  nodes_.erase(it);
  TouchParent(path);
  log_.push_back("remove " + path);
  return Status::Ok();
}

Result<SpawnResult> MemHost::Spawn(const SpawnRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string line = "spawn";
  for (const std::string& a : request.argv) line += " " + a;
  if (!request.stdin_path.empty()) line += " < " + request.stdin_path;
  log_.push_back(line);
  if (spawns_.empty()) {
    return ErrnoStatus(request.argv.empty() ? "spawn" : request.argv[0], ENOENT);
  }
  Result<SpawnResult> r = std::move(spawns_.front());
  spawns_.pop_front();
  return r;
}

int64_t MemHost::NowNs() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_ns_;
}

int64_t MemHost::MonotonicNs() {
  std::lock_guard<std::mutex> lock(mu_);
  return mono_ns_;
}

std::string MemHost::Hostname() {
  std::lock_guard<std::mutex> lock(mu_);
  return hostname_;
}

}  // namespace driftwatch::testutil
