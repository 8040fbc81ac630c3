#include "tests/testing/fault_host.h"

#include <unistd.h>

namespace driftwatch::testutil {
namespace {

std::string LastComponent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const char* OpName(FaultHost::Op op) {
  switch (op) {
    case FaultHost::Op::kOpen:
      return "open";
    case FaultHost::Op::kStat:
      return "stat";
    case FaultHost::Op::kRead:
      return "read";
    case FaultHost::Op::kReadDir:
      return "readdir";
    case FaultHost::Op::kXattrs:
      return "xattrs";
  }
  return "?";
}

}  // namespace

void FaultHost::FailOn(Op op, const std::string& name, int err) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_[{op, name}] = err;
}

void FaultHost::BeforeOnce(Op op, const std::string& name, std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_[{op, name}] = std::move(fn);
}

std::vector<std::string> FaultHost::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

void FaultHost::SetClock(std::function<int64_t()> now) {
  std::lock_guard<std::mutex> lock(mu_);
  clock_ = std::move(now);
}

int64_t FaultHost::NowNs() {
  std::function<int64_t()> clock;
  {
    std::lock_guard<std::mutex> lock(mu_);
    clock = clock_;
  }
  return clock ? clock() : base_.NowNs();
}

int FaultHost::Check(Op op, const std::string& path) {
  const std::string name = LastComponent(path);
  std::function<void()> hook;
  int err = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = hooks_.find({op, name}); it != hooks_.end()) {
      hook = std::move(it->second);
      hooks_.erase(it);
      fired_.push_back(std::string("hook ") + OpName(op) + " " + name);
    }
    if (auto it = errors_.find({op, name}); it != errors_.end()) {
      err = it->second;
      fired_.push_back(std::string(OpName(op)) + " " + name + ": errno " + std::to_string(err));
    }
  }
  if (hook) hook();
  return err;
}

Result<UniqueFd> FaultHost::OpenAt(int dir_fd, const std::string& name, int flags) {
  if (int err = Check(Op::kOpen, name)) return ErrnoStatus(name, err);
  auto fd = base_.OpenAt(dir_fd, name, flags);
  if (fd.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    fd_names_[fd->get()] = LastComponent(name);
  }
  return fd;
}

Status FaultHost::StatAt(int dir_fd, const std::string& name, struct stat* st) {
  if (int err = Check(Op::kStat, name)) return ErrnoStatus(name, err);
  return base_.StatAt(dir_fd, name, st);
}

std::string FaultHost::FdName(int fd) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fd_names_.find(fd);
  return it != fd_names_.end() ? it->second : std::string();
}

Status FaultHost::Fstat(int fd, struct stat* st) {
  if (std::string name = FdName(fd); !name.empty()) {
    if (int err = Check(Op::kStat, name)) return ErrnoStatus(name, err);
  }
  return base_.Fstat(fd, st);
}

Result<size_t> FaultHost::Read(int fd, void* buf, size_t n) {
  std::string name = FdName(fd);
  if (!name.empty()) {
    if (int err = Check(Op::kRead, name)) return ErrnoStatus("read " + name, err);
  }
  return base_.Read(fd, buf, n);
}

Result<std::vector<DirEntryName>> FaultHost::ReadDir(int dir_fd) {
  std::string name = FdName(dir_fd);
  if (!name.empty()) {
    if (int err = Check(Op::kReadDir, name)) return ErrnoStatus("readdir " + name, err);
  }
  return base_.ReadDir(dir_fd);
}

Result<std::vector<Xattr>> FaultHost::XattrsAt(int dir_fd, const std::string& name) {
  if (int err = Check(Op::kXattrs, name)) return ErrnoStatus(name, err);
  return base_.XattrsAt(dir_fd, name);
}

Result<std::vector<Xattr>> FaultHost::XattrsOf(int fd) {
  if (std::string name = FdName(fd); !name.empty()) {
    if (int err = Check(Op::kXattrs, name)) return ErrnoStatus(name, err);
  }
  return base_.XattrsOf(fd);
}

}  // namespace driftwatch::testutil
