#include "container/runtime_join.h"

#include <algorithm>

namespace driftwatch::container {
namespace {

std::string Label(const RuntimeContainer& c, const std::string& key) {
  auto it = std::lower_bound(c.labels.begin(), c.labels.end(), key,
                             [](const auto& kv, const std::string& k) { return kv.first < k; });
  // Labels are sorted by key, but a runtime's file is untrusted: fall back
  // to a scan when the sorted lookup misses.
  if (it != c.labels.end() && it->first == key) return it->second;
  for (const auto& [k, v] : c.labels) {
    if (k == key) return v;
  }
  return "";
}

// "/data/" -> "/data", "/a//b/./c" -> "/a/b/c"; "" for relative paths,
// "/" and paths with "..".
std::string CleanDestination(const std::string& path) {
  if (path.empty() || path[0] != '/') return "";
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return "";
    out += "/" + part;
  }
  return out;
}

// A name that event paths can carry: "container:RUNTIME:NAME:/path" is
// split at the first ":/", so no ':' and no control characters; '/' only
// where the caller joins two names.
bool UsableName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch == 0x7f || ch == ':' || ch == '/') return false;
  }
  return true;
}

}  // namespace

const RuntimeContainer* MatchRuntimeContainer(const RuntimeInventory& inventory,
                                              const std::string& runtime, const std::string& id,
                                              pid_t pid, uint64_t mnt_ns,
                                              const std::map<pid_t, uint64_t>& mnt_ns_of) {
  for (const RuntimeContainer& c : inventory.containers) {
    if (!id.empty() && c.runtime == runtime && c.id == id) return &c;
  }
  if (pid > 0) {
    for (const RuntimeContainer& c : inventory.containers) {
      if (c.pid == pid) return &c;
    }
  }
  if (mnt_ns != 0) {
    for (const RuntimeContainer& c : inventory.containers) {
      if (c.pid <= 0) continue;
      auto it = mnt_ns_of.find(c.pid);
      if (it != mnt_ns_of.end() && it->second == mnt_ns) return &c;
    }
  }
  return nullptr;
}

std::vector<std::string> ExcludedDestinations(const std::vector<RuntimeMount>& mounts) {
  std::vector<std::string> out;
  for (const RuntimeMount& m : mounts) {
    std::string d = CleanDestination(m.destination);
    if (!d.empty()) out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool IsRuntimeMadeEvent(const std::string& runtime, const std::vector<std::string>& excluded,
                        const DriftEvent& e) {
  if (e.kind != DriftKind::kAdded || !e.new_entry) return false;
  if (e.new_entry->type == EntryType::kDir) {
    const std::string below = e.path == "/" ? e.path : e.path + "/";
    auto it = std::lower_bound(excluded.begin(), excluded.end(), below);
    return it != excluded.end() && it->starts_with(below);
  }
  return (runtime == "podman" || runtime == "cri-o") && e.path == "/etc/mtab" &&
         e.new_entry->type == EntryType::kSymlink && e.new_entry->link_target == "/proc/mounts";
}

std::string RuntimeName(const RuntimeContainer& c) {
  if (c.runtime == "containerd") {
    const std::string pod = Label(c, "io.kubernetes.pod.name");
    const std::string ctr = Label(c, "io.kubernetes.container.name");
    if (UsableName(pod) && UsableName(ctr)) return pod + "/" + ctr;
    return UsableName(c.id) ? c.id : "";
  }
  return UsableName(c.name) ? c.name : "";
}

}  // namespace driftwatch::container
