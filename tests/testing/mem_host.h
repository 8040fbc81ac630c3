// MemHost: an in-memory Host for tests (as leveldb's helpers/memenv and
// ninja's VirtualFileSystem). It holds files, directories and symlinks with
// their modes, owners and xattrs, a wall clock and a monotonic clock that only
// move when the test moves them, and a hostname. Every write, mkdir, rename,
// remove and spawn is recorded in log() ("write /etc/a 0644 3 bytes"), as
// are the directory-relative writes ("chmod /etc/a 0600", "symlink /etc/l
// -> t", "fsync /etc/a"), so a test can assert on the whole list; spawns
// answer with results the test scripted, in order. Write works on an fd
// that OpenAt created (O_CREAT|O_EXCL), and is logged at its fsync.
//
// Paths are absolute ("/etc/hosts"); "/" always exists. Directory-relative
// calls take an fd from OpenAt and one name component; symlinks in earlier
// components are followed, the last one only by OpenAt without O_NOFOLLOW
// and by ReadFile. The fds it hands out are real (each an fd of /dev/null),
// so that UniqueFd may close them; the Host calls look them up.
// Modifying a file through Put* keeps its inode and sets its mtime and ctime
// to the wall clock; SetMode, SetOwner and PutXattr set its ctime; adding or
// removing an entry sets its directory's mtime and ctime.
//
// Thread-safety: thread-safe (one mutex).
#ifndef DRIFTWATCH_TESTS_TESTING_MEM_HOST_H_
#define DRIFTWATCH_TESTS_TESTING_MEM_HOST_H_

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/host.h"

namespace driftwatch::testutil {

class MemHost final : public Host {
 public:
  MemHost();
  ~MemHost() override;
  MemHost(const MemHost&) = delete;
  MemHost& operator=(const MemHost&) = delete;

  // Set-up: creates missing parent directories (0755), is not logged.
  void PutFile(const std::string& path, std::string_view contents, mode_t mode = 0644);
  void PutDir(const std::string& path, mode_t mode = 0755);
  void PutSymlink(const std::string& path, const std::string& target);
  void PutXattr(const std::string& path, const std::string& name, const std::string& value);
  void SetMode(const std::string& path, mode_t mode);
  void SetOwner(const std::string& path, uid_t uid, gid_t gid);
  // Removes `path` and everything under it (set-up; not logged).
  void Erase(const std::string& path);

  // The contents of a regular file, nullopt when there is none at `path`.
  std::optional<std::string> Contents(const std::string& path) const;
  // The mode bits (07777) of what is at `path`, nullopt when nothing is.
  std::optional<mode_t> Mode(const std::string& path) const;
  bool Exists(const std::string& path) const;

  void SetNowNs(int64_t ns);
  void AdvanceNs(int64_t ns);  // both clocks
  void SetMonotonicNs(int64_t ns);
  void SetHostname(std::string name);

  // Spawn answers with these, first in first out; with none left it fails
  // as a missing program does (ENOENT).
  void ScriptSpawn(Result<SpawnResult> result);

  // Writes, directories made, renames, removes and spawns, in order.
  std::vector<std::string> log() const;
  void ClearLog();

  Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags) override;
  Status StatAt(int dir_fd, const std::string& name, struct stat* st) override;
  Status Fstat(int fd, struct stat* st) override;
  Result<size_t> Read(int fd, void* buf, size_t n) override;
  Result<std::vector<DirEntryName>> ReadDir(int dir_fd) override;
  Result<std::string> ReadLinkAt(int dir_fd, const std::string& name) override;
  Result<std::vector<Xattr>> XattrsAt(int dir_fd, const std::string& name) override;
  Result<std::vector<Xattr>> XattrsOf(int fd) override;
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override;
  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) override;
  Status MakeDir(const std::string& path, mode_t mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status MakeDirAt(int dir_fd, const std::string& name, mode_t mode) override;
  Status SymlinkAt(const std::string& target, int dir_fd, const std::string& name) override;
  Status UnlinkAt(int dir_fd, const std::string& name, bool dir) override;
  Status RenameAt(int from_dir, const std::string& from, int to_dir,
                  const std::string& to) override;
  Status ChmodAt(int dir_fd, const std::string& name, mode_t mode) override;
  Status ChownAt(int dir_fd, const std::string& name, uid_t uid, gid_t gid) override;
  Status SetXattrAt(int dir_fd, const std::string& name, const Xattr& xattr) override;
  Status RemoveXattrAt(int dir_fd, const std::string& name, const std::string& key) override;
  Status Write(int fd, std::string_view data) override;
  Status Fsync(int fd) override;
  Result<SpawnResult> Spawn(const SpawnRequest& request) override;
  int64_t NowNs() override;
  int64_t MonotonicNs() override;
  std::string Hostname() override;

 private:
  struct Node {
    mode_t type = S_IFREG;  // S_IFREG, S_IFDIR or S_IFLNK
    mode_t mode = 0644;
    uid_t uid = 0;
    gid_t gid = 0;
    ino_t ino = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    std::string data;  // file contents, or a symlink's target
    std::map<std::string, std::string> xattrs;
  };
  struct OpenFile {
    std::string path;
    std::shared_ptr<Node> node;
    size_t offset = 0;
    bool writable = false;  // created by OpenAt(O_CREAT|O_EXCL)
  };

  // All below: mu_ held.
  // The node at `path` after following symlinks in every component but the
  // last (and the last too when follow_last); its path is in *resolved.
  Result<std::shared_ptr<Node>> Lookup(const std::string& path, bool follow_last,
                                       std::string* resolved) const;
  Result<std::string> PathAt(int dir_fd, const std::string& name) const;
  std::shared_ptr<Node> NewNode(mode_t type, mode_t mode);
  void MakeParents(const std::string& path);
  Status ParentIsDir(const std::string& path) const;
  void Touch(Node& n) const;
  // A directory's mtime and ctime move when an entry is added or removed.
  void TouchParent(const std::string& path);
  // The node at PathAt(dir_fd, name), the last component not followed.
  Result<std::shared_ptr<Node>> NodeAt(int dir_fd, const std::string& name,
                                       std::string* path) const;

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, std::shared_ptr<Node>> nodes_;
  std::map<int, OpenFile> fds_;
  std::vector<std::string> log_;
  std::deque<Result<SpawnResult>> spawns_;
  ino_t next_ino_ = 2;
  int64_t now_ns_ = 1793491200LL * 1000000000;  // 2026-11-01T00:00:00Z
  int64_t mono_ns_ = 1000000000;
  std::string hostname_ = "memhost";
};

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_MEM_HOST_H_
