// A small tmpfs mounted for the length of a test, and a filler that uses up
// its last block: the full-disk cases of the collector's stores
// (docs/reliability.md, "Faults"). Mounting needs root.
#ifndef DRIFTWATCH_TESTS_TESTING_FULL_DISK_H_
#define DRIFTWATCH_TESTS_TESTING_FULL_DISK_H_

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace driftwatch::testutil {

// A tmpfs mounted over `dir` with `options` ("size=16m,mode=0700"); the
// destructor unmounts it (lazily, so files a server still holds open do not
// keep it busy).
class Tmpfs {
 public:
  Tmpfs(const std::string& dir, const std::string& options) : dir_(dir) {
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  std::string error_;
  bool mounted_ = false;
};

// Writes zeros to `path` until the file system is full; returns the bytes
// written, -1 when the file cannot be created.
inline int64_t FillDisk(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  static const std::string kBlock(4096, '\0');
  int64_t total = 0;
  for (int i = 0; i < (1 << 20); ++i) {  // bounded: 4 GiB at most
    ssize_t n = ::write(fd, kBlock.data(), kBlock.size());
    if (n <= 0) break;
    total += n;
  }
  ::close(fd);
  return total;
}

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_FULL_DISK_H_
