// FaultHost: a Host for tests that forwards to another Host and injects
// failures by file name: an errno for open/stat/read/xattrs, or a callback
// run just before an operation (to make a file vanish or grow mid-scan).
// Operations on an fd (Fstat, Read, ReadDir, XattrsOf) go by the last name
// component it was opened with. Records every
// injected fault so a test can assert on the whole list. Writes, spawns and
// the monotonic clock are forwarded as they are.
//
// Thread-safety: thread-safe; configure before use.
#ifndef DRIFTWATCH_TESTS_TESTING_FAULT_HOST_H_
#define DRIFTWATCH_TESTS_TESTING_FAULT_HOST_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/host.h"

namespace driftwatch::testutil {

class FaultHost final : public Host {
 public:
  enum class Op { kOpen, kStat, kRead, kReadDir, kXattrs };

  explicit FaultHost(Host& base) : base_(base) {}

  // Fails `op` on any file whose last path component is `name` with errno `err`.
  void FailOn(Op op, const std::string& name, int err);
  // Runs `fn` once before `op` on `name` (e.g. unlink it, append to it).
  void BeforeOnce(Op op, const std::string& name, std::function<void()> fn);
  // Makes NowNs() answer `now()` instead of the base host's clock (clock
  // jumps in tests).
  void SetClock(std::function<int64_t()> now);
  // "stat etc: errno 5" style lines, in the order faults fired.
  std::vector<std::string> fired() const;

  Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags) override;
  Status StatAt(int dir_fd, const std::string& name, struct stat* st) override;
  // kStat faults apply to an fd opened by a name too (the fstat of a file
  // opened before it is stat'ed is its stat).
  Status Fstat(int fd, struct stat* st) override;
  Result<size_t> Read(int fd, void* buf, size_t n) override;
  Result<std::vector<DirEntryName>> ReadDir(int dir_fd) override;
  Result<std::string> ReadLinkAt(int dir_fd, const std::string& name) override {
    return base_.ReadLinkAt(dir_fd, name);
  }
  Result<std::vector<Xattr>> XattrsAt(int dir_fd, const std::string& name) override;
  Result<std::vector<Xattr>> XattrsOf(int fd) override;
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override {
    return base_.ReadFile(path, max_bytes);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) override {
    return base_.WriteFileAtomic(path, data, mode);
  }
  Status MakeDir(const std::string& path, mode_t mode) override {
    return base_.MakeDir(path, mode);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status Remove(const std::string& path) override { return base_.Remove(path); }
  Status MakeDirAt(int dir_fd, const std::string& name, mode_t mode) override {
    return base_.MakeDirAt(dir_fd, name, mode);
  }
  Status SymlinkAt(const std::string& target, int dir_fd, const std::string& name) override {
    return base_.SymlinkAt(target, dir_fd, name);
  }
  Status UnlinkAt(int dir_fd, const std::string& name, bool dir) override {
    return base_.UnlinkAt(dir_fd, name, dir);
  }
  Status RenameAt(int from_dir, const std::string& from, int to_dir,
                  const std::string& to) override {
    return base_.RenameAt(from_dir, from, to_dir, to);
  }
  Status ChmodAt(int dir_fd, const std::string& name, mode_t mode) override {
    return base_.ChmodAt(dir_fd, name, mode);
  }
  Status ChownAt(int dir_fd, const std::string& name, uid_t uid, gid_t gid) override {
    return base_.ChownAt(dir_fd, name, uid, gid);
  }
  Status SetXattrAt(int dir_fd, const std::string& name, const Xattr& xattr) override {
    return base_.SetXattrAt(dir_fd, name, xattr);
  }
  Status RemoveXattrAt(int dir_fd, const std::string& name, const std::string& key) override {
    return base_.RemoveXattrAt(dir_fd, name, key);
  }
  Status Write(int fd, std::string_view data) override { return base_.Write(fd, data); }
  Status Fsync(int fd) override { return base_.Fsync(fd); }
  Result<SpawnResult> Spawn(const SpawnRequest& request) override { return base_.Spawn(request); }
  int64_t NowNs() override;
  int64_t MonotonicNs() override { return base_.MonotonicNs(); }
  std::string Hostname() override { return base_.Hostname(); }

 private:
  // Returns the errno to inject (0: none) after running any hook.
  int Check(Op op, const std::string& path);
  // The name an fd was opened with, empty when unknown.
  std::string FdName(int fd) const;

  Host& base_;
  mutable std::mutex mu_;  // guards the maps below
  std::map<std::pair<Op, std::string>, int> errors_;
  std::map<std::pair<Op, std::string>, std::function<void()>> hooks_;
  std::map<int, std::string> fd_names_;  // open fds -> name, for read faults
  std::vector<std::string> fired_;
  std::function<int64_t()> clock_;
};

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_FAULT_HOST_H_
