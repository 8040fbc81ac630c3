// MemHost's writes relative to a directory fd (core/host.h).
#include <fcntl.h>

#include <cerrno>
#include <cstdio>

#include "tests/testing/mem_host.h"

namespace driftwatch::testutil {
namespace {

std::string Octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Result<std::shared_ptr<MemHost::Node>> MemHost::NodeAt(int dir_fd, const std::string& name,
                                                       std::string* path) const {
  DW_ASSIGN_OR_RETURN(*path, PathAt(dir_fd, name));
  return Lookup(*path, false, nullptr);
}

Status MemHost::MakeDirAt(int dir_fd, const std::string& name, mode_t mode) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(path, PathAt(dir_fd, name));
  }
  return MakeDir(path, mode);
}

Status MemHost::SymlinkAt(const std::string& target, int dir_fd, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(std::string path, PathAt(dir_fd, name));
  if (nodes_.count(path)) return ErrnoStatus("symlink " + name, EEXIST);
  DW_RETURN_IF_ERROR(ParentIsDir(path));
  auto n = NewNode(S_IFLNK, 0777);
  n->data = target;
  nodes_[path] = n;
  TouchParent(path);
  log_.push_back("symlink " + path + " -> " + target);
  return Status::Ok();
}

Status MemHost::UnlinkAt(int dir_fd, const std::string& name, bool dir) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, NodeAt(dir_fd, name, &path));
    if (dir != (node->type == S_IFDIR)) return ErrnoStatus(name, dir ? ENOTDIR : EISDIR);
  }
  return Remove(path);
}

Status MemHost::RenameAt(int from_dir, const std::string& from, int to_dir, const std::string& to) {
  std::string from_path, to_path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(from_path, PathAt(from_dir, from));
    DW_ASSIGN_OR_RETURN(to_path, PathAt(to_dir, to));
  }
  return Rename(from_path, to_path);
}

Status MemHost::ChmodAt(int dir_fd, const std::string& name, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string path;
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, NodeAt(dir_fd, name, &path));
  if (node->type == S_IFLNK) return Status::InvalidArgument(name + ": a symlink has no mode");
  node->mode = mode & 07777;
  node->ctime_ns = now_ns_;
  log_.push_back("chmod " + path + " " + Octal(mode));
  return Status::Ok();
}

Status MemHost::ChownAt(int dir_fd, const std::string& name, uid_t uid, gid_t gid) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string path;
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, NodeAt(dir_fd, name, &path));
  node->uid = uid;
  node->gid = gid;
  node->ctime_ns = now_ns_;
  log_.push_back("chown " + path + " " + std::to_string(uid) + ":" + std::to_string(gid));
  return Status::Ok();
}

Status MemHost::SetXattrAt(int dir_fd, const std::string& name, const Xattr& xattr) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string path;
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, NodeAt(dir_fd, name, &path));
  node->xattrs[xattr.name] = xattr.value;
  node->ctime_ns = now_ns_;
  log_.push_back("setxattr " + path + " " + xattr.name);
  return Status::Ok();
}

Status MemHost::RemoveXattrAt(int dir_fd, const std::string& name, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string path;
  DW_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, NodeAt(dir_fd, name, &path));
  if (node->xattrs.erase(key) == 0) return ErrnoStatus(name + ": removexattr " + key, ENOENT);
  node->ctime_ns = now_ns_;
  log_.push_back("removexattr " + path + " " + key);
  return Status::Ok();
}

Status MemHost::Write(int fd, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end() || !it->second.writable) return ErrnoStatus("write", EBADF);
  OpenFile& f = it->second;
  f.node->data.replace(f.offset, data.size(), data);
  f.offset += data.size();
  Touch(*f.node);
  return Status::Ok();
}

Status MemHost::Fsync(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return ErrnoStatus("fsync", EBADF);
  log_.push_back("fsync " + it->second.path + " " + std::to_string(it->second.node->data.size()) +
                 " bytes");
  return Status::Ok();
}

}  // namespace driftwatch::testutil
