#include "core/fanotify_mounts.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/fanotify_dirs.h"
#include "core/mountinfo.h"

namespace driftwatch {

namespace {

bool Touches(const std::string& mount, const std::vector<std::string>& watched) {
  return std::any_of(watched.begin(), watched.end(), [&mount](const std::string& w) {
    return PathAtOrUnder(mount, w) || PathAtOrUnder(w, mount);
  });
}

// The first element of a (sorted) that b (sorted) has fewer of.
const std::string* FirstMissing(const std::vector<std::string>& a,
                                const std::vector<std::string>& b,
                                const std::vector<std::string>& watched) {
  std::vector<std::string> diff;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(diff));
  for (const std::string& m : diff) {
    if (Touches(m, watched)) return &*std::find(a.begin(), a.end(), m);
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> ParseMountPoints(std::string_view mountinfo) {
  std::vector<std::string> out;
  while (!mountinfo.empty()) {
    const size_t eol = mountinfo.find('\n');
    // Line by line, so that a malformed line costs only itself.
    auto mounts = ParseMountInfo(mountinfo.substr(0, eol));
    if (mounts.ok()) {
      for (MountInfo& m : *mounts) out.push_back(std::move(m.mount_point));
    }
    mountinfo.remove_prefix(eol == std::string_view::npos ? mountinfo.size() : eol + 1);
  }
  return out;
}

std::string MountChangeGap(const std::vector<std::string>& before,
                           const std::vector<std::string>& after,
                           const std::vector<std::string>& watched) {
  std::vector<std::string> a = before;
  std::vector<std::string> b = after;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  if (const std::string* m = FirstMissing(b, a, watched)) return "filesystem mounted at " + *m;
  if (const std::string* m = FirstMissing(a, b, watched)) return "filesystem unmounted from " + *m;
  return "";
}

std::string ReadMountinfo(int fd) {
  constexpr size_t kMaxMountinfo = 16 << 20;
  std::string out;
  char buf[16384];
  off_t off = 0;
  while (out.size() < kMaxMountinfo) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

}  // namespace driftwatch
