#include "agent/restore_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "core/normal_path.h"
#include "core/private_file.h"

namespace driftwatch::agent {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

mode_t ModeOf(const Entry& e) {
  if (e.mask & kAttrPerm) return e.mode & 07777;
  return e.type == EntryType::kDir ? 0755 : 0644;
}

}  // namespace

Result<RestoreFs> RestoreFs::Open(Host& host, const std::string& root, bool dry_run) {
  auto fd = host.OpenAt(AT_FDCWD, root, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status().WithContext("restore root " + root);
  return RestoreFs(host, std::move(*fd), dry_run);
}

Result<UniqueFd> RestoreFs::OpenParent(const std::string& path, const BaselineLookup& lookup) {
  std::vector<std::string> parts = PathComponents(path);
  if (parts.empty()) return Status::InvalidArgument("the root itself is not restored");
  parts.pop_back();
  DW_ASSIGN_OR_RETURN(UniqueFd cur, host_->OpenAt(root_.get(), ".", O_RDONLY | O_DIRECTORY));
  std::string logical;
  for (const std::string& name : parts) {
    logical += "/" + name;
    if (!cur.valid()) return UniqueFd();  // beneath a directory a dry run would make
    if (dry_run_ && dry_made_.count(logical)) return UniqueFd();
    struct stat st;
    Status s = host_->StatAt(cur.get(), name, &st);
    if (s.ok() && S_ISLNK(st.st_mode)) {
      auto target = host_->ReadLinkAt(cur.get(), name);
      return Status::PermissionDenied(logical + " is a symlink now" +
                                      (target.ok() ? " (to " + *target + ")" : std::string()) +
                                      ", not a directory: not followed out of the tree");
    }
    if (s.ok() && !S_ISDIR(st.st_mode)) {
      return Status::PermissionDenied(logical + " is not a directory now (" +
                                      FileTypeName(st.st_mode) + ")");
    }
    if (!s.ok() && s.code() == StatusCode::kNotFound) {
      DW_ASSIGN_OR_RETURN(std::optional<Entry> e, lookup(logical));
      if (!e || e->type != EntryType::kDir) {
        return Status::NotFound(logical + ": missing, and not a directory in the baseline");
      }
      if (dry_run_) {
        dry_made_.insert(logical);
        return UniqueFd();
      }
      DW_RETURN_IF_ERROR(Create(cur.get(), name, *e, nullptr, nullptr).WithContext(logical));
    } else if (!s.ok()) {
      return s.WithContext(logical);
    }
    auto next = host_->OpenAt(cur.get(), name, kDirFlags);
    if (!next.ok()) return next.status().WithContext(logical);
    cur = std::move(*next);
  }
  return cur;
}

std::string RestoreFs::TempName(const std::string& name) {
  // Hidden, beside the target, unique per process and call; O_EXCL below
  // refuses anything already there.
  return "." + name.substr(0, 64) + ".restore." + std::to_string(::getpid()) + "." +
         std::to_string(++temp_seq_);
}

Status RestoreFs::ApplyAttrs(int dir_fd, const std::string& name, const Entry& e,
                             const std::vector<Xattr>* xattrs) {
  // chown first (it clears setuid bits and file capabilities), then xattrs
  // (an ACL sets the group bits), then the mode.
  DW_RETURN_IF_ERROR(Chown(dir_fd, name, e));
  if (xattrs != nullptr) DW_RETURN_IF_ERROR(SetXattrs(dir_fd, name, *xattrs));
  if (e.type != EntryType::kSymlink) DW_RETURN_IF_ERROR(Chmod(dir_fd, name, e));
  return Status::Ok();
}

Status RestoreFs::Create(int dir_fd, const std::string& name, const Entry& e,
                         const std::string* content, const std::vector<Xattr>* xattrs) {
  if (dry_run_ || dir_fd < 0) return Status::Ok();
  if (e.type == EntryType::kDir) {
    DW_RETURN_IF_ERROR(host_->MakeDirAt(dir_fd, name, ModeOf(e)));
    DW_RETURN_IF_ERROR(ApplyAttrs(dir_fd, name, e, xattrs));
    return host_->Fsync(dir_fd);
  }
  const std::string tmp = TempName(name);
  Status s = Status::Ok();
  if (e.type == EntryType::kSymlink) {
    s = host_->SymlinkAt(e.link_target, dir_fd, tmp);
    if (!s.ok()) return s;
    s = ApplyAttrs(dir_fd, tmp, e, xattrs);
  } else if (e.type == EntryType::kFile) {
    if (content == nullptr) return Status::InvalidArgument(name + ": no content to write");
    DW_ASSIGN_OR_RETURN(UniqueFd fd,
                        host_->OpenAt(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW));
    s = host_->Write(fd.get(), *content);
    if (s.ok()) s = ApplyAttrs(dir_fd, tmp, e, xattrs);
    if (s.ok()) s = host_->Fsync(fd.get());
  } else {
    return Status::InvalidArgument(name + ": a " + std::string(EntryTypeName(e.type)) +
                                   " is not restored");
  }
  if (s.ok()) s = host_->RenameAt(dir_fd, tmp, dir_fd, name);
  if (!s.ok()) {
    host_->UnlinkAt(dir_fd, tmp, false).IgnoreError();
    return s;
  }
  return host_->Fsync(dir_fd);
}

Status RestoreFs::Chown(int dir_fd, const std::string& name, const Entry& e) {
  if (!(e.mask & (kAttrUid | kAttrGid))) return Status::Ok();
  if (dry_run_ || dir_fd < 0) return Status::Ok();
  const uid_t uid = (e.mask & kAttrUid) ? static_cast<uid_t>(e.uid) : static_cast<uid_t>(-1);
  const gid_t gid = (e.mask & kAttrGid) ? static_cast<gid_t>(e.gid) : static_cast<gid_t>(-1);
  return host_->ChownAt(dir_fd, name, uid, gid);
}

Status RestoreFs::Chmod(int dir_fd, const std::string& name, const Entry& e) {
  if (dry_run_ || dir_fd < 0) return Status::Ok();
  return host_->ChmodAt(dir_fd, name, ModeOf(e));
}

Status RestoreFs::SetXattrs(int dir_fd, const std::string& name, const std::vector<Xattr>& want) {
  if (dry_run_ || dir_fd < 0) return Status::Ok();
  DW_ASSIGN_OR_RETURN(std::vector<Xattr> now, host_->XattrsAt(dir_fd, name));
  std::map<std::string, std::string> have;
  for (Xattr& x : now) have[x.name] = std::move(x.value);
  for (const auto& entry : have) {
    const std::string& key = entry.first;
    const bool kept =
        std::any_of(want.begin(), want.end(), [&key](const Xattr& w) { return w.name == key; });
    if (!kept) DW_RETURN_IF_ERROR(host_->RemoveXattrAt(dir_fd, name, key));
  }
  for (const Xattr& w : want) {
    auto it = have.find(w.name);
    if (it != have.end() && it->second == w.value) continue;
    DW_RETURN_IF_ERROR(host_->SetXattrAt(dir_fd, name, w));
  }
  return Status::Ok();
}

Status RestoreFs::RemoveTree(int dir_fd, const std::string& name, uint64_t* removed) {
  *removed = 0;
  if (dir_fd < 0) return Status::Ok();
  struct stat st;
  DW_RETURN_IF_ERROR(host_->StatAt(dir_fd, name, &st));
  if (!S_ISDIR(st.st_mode)) {
    *removed = 1;
    return dry_run_ ? Status::Ok() : host_->UnlinkAt(dir_fd, name, false);
  }
  // An explicit stack of open directories: the work is bounded by the caps,
  // not by the depth of what a user made.
  struct Frame {
    UniqueFd fd;
    std::string name;  // in the frame below (dir_fd for the first)
    std::vector<DirEntryName> left;
  };
  std::vector<Frame> stack;
  auto push = [&](int parent, const std::string& n) -> Status {
    if (stack.size() >= kMaxRemoveDepth) {
      return Status::ResourceExhausted(name + ": more than " + std::to_string(kMaxRemoveDepth) +
                                       " directory levels to remove; remove it by hand");
    }
    DW_ASSIGN_OR_RETURN(UniqueFd fd, host_->OpenAt(parent, n, kDirFlags));
    DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> names, host_->ReadDir(fd.get()));
    stack.push_back(Frame{std::move(fd), n, std::move(names)});
    return Status::Ok();
  };
  DW_RETURN_IF_ERROR(push(dir_fd, name));
  while (!stack.empty()) {
    if (*removed >= kMaxRemoveEntries) {
      return Status::ResourceExhausted(name + ": more than " + std::to_string(kMaxRemoveEntries) +
                                       " entries to remove; remove it by hand");
    }
    Frame& top = stack.back();
    if (top.left.empty()) {
      const std::string n = top.name;
      stack.pop_back();
      const int parent = stack.empty() ? dir_fd : stack.back().fd.get();
      if (!dry_run_) DW_RETURN_IF_ERROR(host_->UnlinkAt(parent, n, true));
      ++*removed;
      continue;
    }
    DirEntryName child = std::move(top.left.back());
    top.left.pop_back();
    struct stat cst;
    DW_RETURN_IF_ERROR(host_->StatAt(top.fd.get(), child.name, &cst));
    if (S_ISDIR(cst.st_mode)) {
      DW_RETURN_IF_ERROR(push(top.fd.get(), child.name));
      continue;
    }
    if (!dry_run_) DW_RETURN_IF_ERROR(host_->UnlinkAt(top.fd.get(), child.name, false));
    ++*removed;
  }
  return Status::Ok();
}

}  // namespace driftwatch::agent
