// Test helpers: a temporary directory removed at the end of a test, and
// small file-writing shortcuts.
#ifndef DRIFTWATCH_TESTS_TESTING_TEMP_TREE_H_
#define DRIFTWATCH_TESTS_TESTING_TEMP_TREE_H_

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace driftwatch::testutil {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "driftwatch-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    // Make everything writable first so an unreadable test dir can be removed.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

inline void AppendFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << data;
}

// Sets atime and mtime to `secs` since the epoch (like touch -d).
inline void SetMtime(const std::string& path, time_t secs) {
  struct timeval tv[2] = {{secs, 0}, {secs, 0}};
  ::lutimes(path.c_str(), tv);
}

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_TEMP_TREE_H_
