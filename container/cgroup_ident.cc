#include "container/cgroup_ident.h"

#include "core/normal_path.h"

namespace driftwatch::container {
namespace {

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool StripPrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

bool StripSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() < suffix.size() || s->substr(s->size() - suffix.size()) != suffix) return false;
  s->remove_suffix(suffix.size());
  return true;
}

// "<prefix><64hex>[.scope]" -> the hex id.
std::optional<std::string> ScopeId(std::string_view comp, std::string_view prefix) {
  if (!StripPrefix(&comp, prefix)) return std::nullopt;
  StripSuffix(&comp, ".scope");
  if (!IsHex64(comp)) return std::nullopt;
  return std::string(comp);
}

}  // namespace

Result<std::vector<CgroupLine>> ParseProcCgroup(std::string_view text) {
  if (text.size() > (1 << 20)) return Status::ResourceExhausted("cgroup file larger than 1 MiB");
  std::vector<CgroupLine> out;
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (out.size() >= 4096)
      return Status::ResourceExhausted("cgroup file has more than 4096 lines");
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) {
      return Status::Corruption("cgroup:" + std::to_string(line_no) +
                                ": expected ID:CONTROLLERS:PATH");
    }
    out.push_back(CgroupLine{std::string(line.substr(0, a)),
                             std::string(line.substr(a + 1, b - a - 1)),
                             std::string(line.substr(b + 1))});
  }
  return out;
}

std::optional<ContainerIdentity> IdentifyCgroupPath(std::string_view path) {
  const std::vector<std::string> c = PathComponents(path);
  for (size_t i = 0; i < c.size(); ++i) {
    std::string_view comp = c[i];
    if (comp.starts_with("libpod-conmon-") || comp.starts_with("crio-conmon-")) return std::nullopt;
    if (auto id = ScopeId(comp, "docker-")) return ContainerIdentity{"docker", *id};
    if (auto id = ScopeId(comp, "libpod-")) return ContainerIdentity{"podman", *id};
    if (auto id = ScopeId(comp, "cri-containerd-")) return ContainerIdentity{"containerd", *id};
    if (auto id = ScopeId(comp, "crio-")) return ContainerIdentity{"cri-o", *id};
    if (comp == "docker" && i + 1 < c.size() && IsHex64(c[i + 1])) {
      return ContainerIdentity{"docker", std::string(c[i + 1])};
    }
    if ((comp == "lxc" || comp == "lxc.payload") && i + 1 < c.size()) {
      return ContainerIdentity{"lxc", std::string(c[i + 1])};
    }
    std::string_view rest = comp;
    if (StripPrefix(&rest, "lxc.payload.") && !rest.empty()) {
      return ContainerIdentity{"lxc", std::string(rest)};
    }
    rest = comp;
    if (StripPrefix(&rest, "systemd-nspawn@") && StripSuffix(&rest, ".service") && !rest.empty()) {
      return ContainerIdentity{"nspawn", std::string(rest)};
    }
    rest = comp;
    if (i > 0 && c[i - 1] == "machine.slice" && StripPrefix(&rest, "machine-") &&
        StripSuffix(&rest, ".scope") && !rest.empty()) {
      return ContainerIdentity{"nspawn", std::string(rest)};
    }
    if (comp == "driftwatch" && i + 1 < c.size()) {
      return ContainerIdentity{"driftwatch", std::string(c[i + 1])};
    }
    // Kubernetes without systemd scopes: /kubepods/<qos>/pod<uid>/<64hex>.
    if (comp.starts_with("pod") && i + 1 < c.size() && IsHex64(c[i + 1]) && i > 0) {
      bool kube = false;
      for (size_t k = 0; k < i; ++k) kube = kube || c[k].starts_with("kubepods");
      if (kube) return ContainerIdentity{"containerd", std::string(c[i + 1])};
    }
  }
  return std::nullopt;
}

std::optional<ContainerIdentity> IdentifyContainer(const std::vector<CgroupLine>& lines) {
  for (const CgroupLine& l : lines) {
    if (l.hierarchy == "0" && l.controllers.empty()) {
      if (auto id = IdentifyCgroupPath(l.path)) return id;
    }
  }
  for (const CgroupLine& l : lines) {
    if (auto id = IdentifyCgroupPath(l.path)) return id;
  }
  return std::nullopt;
}

}  // namespace driftwatch::container
