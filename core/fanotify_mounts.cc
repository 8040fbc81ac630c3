#include "core/fanotify_mounts.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/fanotify_dirs.h"

namespace driftwatch {

namespace {

std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

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
    size_t eol = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, eol);
    mountinfo.remove_prefix(eol == std::string_view::npos ? mountinfo.size() : eol + 1);
    // Fields: id parent major:minor root mount-point ...
    for (int skip = 0; skip < 4 && !line.empty(); ++skip) {
      size_t sp = line.find(' ');
      line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    std::string_view point = line.substr(0, line.find(' '));
    if (point.starts_with('/')) out.push_back(Unescape(point));
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
