#include "container/mountinfo.h"

namespace driftwatch::container {
namespace {

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
