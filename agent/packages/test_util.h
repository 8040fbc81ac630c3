// Test helpers: a temporary directory tree that removes itself.
#ifndef DRIFTWATCH_AGENT_PACKAGES_TEST_UTIL_H_
#define DRIFTWATCH_AGENT_PACKAGES_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "agent/packages/digest.h"
#include "core/hash.h"

namespace driftwatch::packages::testing {

class TempRoot {
 public:
  TempRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dwpkg.XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made != nullptr) path_ = made;
  }
  ~TempRoot() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::string& path() const { return path_; }
  std::string Abs(std::string_view rel) const {
    while (rel.starts_with('/')) rel.remove_prefix(1);
    return path_ + "/" + std::string(rel);
  }

  // Writes root/rel, creating parent directories.
  void Write(std::string_view rel, std::string_view content) const {
    std::filesystem::path p = Abs(rel);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  void Mkdir(std::string_view rel) const { std::filesystem::create_directories(Abs(rel)); }
  void Symlink(std::string_view target, std::string_view rel) const {
    std::filesystem::path p = Abs(rel);
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(std::string(target), p);
  }
  void Remove(std::string_view rel) const { std::filesystem::remove(Abs(rel)); }

 private:
  std::string path_;
};

inline std::string Md5Hex(std::string_view data) {
  return HexEncode(DigestHasher::Of(DigestAlgo::kMd5, data).bytes);
}

}  // namespace driftwatch::packages::testing

#endif  // DRIFTWATCH_AGENT_PACKAGES_TEST_UTIL_H_
