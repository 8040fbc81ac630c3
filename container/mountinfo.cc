#include "container/mountinfo.h"

#include <charconv>

namespace driftwatch::container {
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

// Splits overlay option values on unescaped `sep` and removes the escapes.
std::vector<std::string> SplitEscaped(std::string_view s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back().push_back(s[++i]);
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

// Splits super options on commas that are not escaped; escapes are kept for
// the per-option split.
std::vector<std::string> SplitOptions(std::string_view s) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back().push_back(s[i]);
      out.back().push_back(s[++i]);
    } else if (s[i] == ',') {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

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

std::optional<OverlayLayers> OverlayLayersOf(const MountInfo& mount) {
  if (mount.fstype != "overlay") return std::nullopt;
  OverlayLayers layers;
  bool have_lower = false;
  for (const std::string& opt : SplitOptions(mount.super_options)) {
    size_t eq = opt.find('=');
    if (eq == std::string::npos) continue;
    std::string key = opt.substr(0, eq);
    std::string_view value = std::string_view(opt).substr(eq + 1);
    if (key == "lowerdir") {
      layers.lower = SplitEscaped(value, ':');
      have_lower = true;
    } else if (key == "lowerdir+") {
      layers.lower.push_back(SplitEscaped(value, '\0')[0]);
      have_lower = true;
    } else if (key == "upperdir") {
      layers.upper = SplitEscaped(value, '\0')[0];
    } else if (key == "workdir") {
      layers.work = SplitEscaped(value, '\0')[0];
    }
  }
  return have_lower ? std::optional<OverlayLayers>(layers) : std::nullopt;
}

const MountInfo* FindMount(const std::vector<MountInfo>& mounts, std::string_view path) {
  const MountInfo* found = nullptr;
  for (const MountInfo& m : mounts) {
    if (m.mount_point == path) found = &m;
  }
  return found;
}

}  // namespace driftwatch::container
