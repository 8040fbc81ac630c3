#include "core/mountinfo.h"

#include <charconv>

namespace driftwatch {
namespace {

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string UnescapeMountField(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && IsOctal(field[i + 1]) &&
        IsOctal(field[i + 2]) && IsOctal(field[i + 3])) {
      int v = (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0');
      out.push_back(static_cast<char>(v & 0xff));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

Result<std::vector<MountInfo>> ParseMountInfo(std::string_view text) {
  if (text.size() > kMaxMountInfoBytes) {
    return Status::ResourceExhausted("mountinfo: larger than " +
                                     std::to_string(kMaxMountInfoBytes) + " bytes");
  }
  std::vector<MountInfo> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (out.size() >= kMaxMountInfoLines) {
      return Status::ResourceExhausted("mountinfo: more than " +
                                       std::to_string(kMaxMountInfoLines) + " mounts");
    }
    auto bad = [&](std::string_view why) {
      return Status::Corruption("mountinfo:" + std::to_string(line_no) + ": " + std::string(why));
    };
    std::vector<std::string_view> f = SplitSpaces(line);
    if (f.size() < 10) return bad("too few fields");
    MountInfo m;
    if (!ParseNumber(f[0], &m.id) || !ParseNumber(f[1], &m.parent_id)) return bad("bad mount id");
    size_t colon = f[2].find(':');
    if (colon == std::string_view::npos || !ParseNumber(f[2].substr(0, colon), &m.major) ||
        !ParseNumber(f[2].substr(colon + 1), &m.minor)) {
      return bad("bad device number");
    }
    m.root = UnescapeMountField(f[3]);
    m.mount_point = UnescapeMountField(f[4]);
    // The kernel prints mount points as absolute paths; anything else is not
    // a mount table, and would match no path or the wrong one.
    if (!m.mount_point.starts_with('/')) return bad("mount point is not an absolute path");
    m.options = std::string(f[5]);
    size_t i = 6;
    while (i < f.size() && f[i] != "-") m.optional_fields.emplace_back(f[i++]);
    if (i >= f.size()) return bad("missing '-' separator");
    ++i;
    if (f.size() - i != 3) return bad("expected FSTYPE SOURCE OPTIONS after '-'");
    m.fstype = UnescapeMountField(f[i]);
    m.source = UnescapeMountField(f[i + 1]);
    m.super_options = UnescapeMountField(f[i + 2]);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace driftwatch
