// Test helpers: a temporary directory tree that removes itself.
#ifndef DRIFTWATCH_PACKAGES_TEST_UTIL_H_
#define DRIFTWATCH_PACKAGES_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "packages/digest.h"

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

// A small Debian root: two packages, one multiarch, with conffiles.
inline void BuildDpkgRoot(const TempRoot& root) {
  const std::string tool_bin = "#!/bin/sh\necho tool\n";
  const std::string tool_conf = "setting = 1\n";
  const std::string readme = "read me\n";
  const std::string old_conf = "old\n";
  const std::string libz =
      "\x7f"
      "ELF libz";
  root.Write("usr/bin/tool", tool_bin);
  root.Write("etc/tool.conf", tool_conf);
  root.Write("etc/tool-old.conf", old_conf);
  root.Write("usr/share/doc/tool/README", readme);
  root.Write("usr/lib/libz.so.1.3", libz);
  root.Symlink("libz.so.1.3", "usr/lib/libz.so.1");
  root.Write("var/lib/dpkg/status",
             "Package: libz\nStatus: install ok installed\nMulti-Arch: same\n"
             "Architecture: amd64\nVersion: 1:1.3-1\n\n"
             "Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2\n"
             "Conffiles:\n /etc/tool.conf " +
                 Md5Hex(tool_conf) + "\n /etc/tool-old.conf " + Md5Hex(old_conf) +
                 " obsolete\n"
                 "Description: a tool\n multi-line\n");
  root.Write("var/lib/dpkg/info/tool.list",
             "/.\n/etc\n/etc/tool.conf\n/etc/tool-old.conf\n/usr\n/usr/bin\n/usr/bin/tool\n"
             "/usr/share\n/usr/share/doc\n/usr/share/doc/tool\n/usr/share/doc/tool/README\n");
  root.Write(
      "var/lib/dpkg/info/tool.md5sums",
      Md5Hex(tool_bin) + "  usr/bin/tool\n" + Md5Hex(readme) + "  usr/share/doc/tool/README\n");
  root.Write("var/lib/dpkg/info/libz:amd64.list",
             "/.\n/usr\n/usr/lib\n/usr/lib/libz.so.1.3\n/usr/lib/libz.so.1\n");
  root.Write("var/lib/dpkg/info/libz:amd64.md5sums", Md5Hex(libz) + "  usr/lib/libz.so.1.3\n");
}

}  // namespace driftwatch::packages::testing

#endif  // DRIFTWATCH_PACKAGES_TEST_UTIL_H_
