#include "container/runtime_state.h"

#include <algorithm>
#include <string_view>
#include <tuple>

#include "container/containerd_state.h"
#include "container/docker_state.h"
#include "container/podman_state.h"
#include "container/runtime_files.h"

namespace driftwatch::container {

namespace {

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::vector<std::vector<std::string>> Named(const std::vector<std::vector<std::string>>& all,
                                            std::string_view program) {
  std::vector<std::vector<std::string>> out;
  for (const auto& argv : all) {
    if (BaseName(argv[0]) == program) out.push_back(argv);
  }
  return out;
}

}  // namespace

Result<RuntimeInventory> ReadRuntimes(const RuntimeReadOptions& options) {
  if (options.host == nullptr) return Status::InvalidArgument("ReadRuntimes: no host");
  Host& host = *options.host;
  RuntimeInventory inv;
  // One pass over /proc for every daemon whose command line names a root.
  const std::vector<std::vector<std::string>> daemons =
      CommandLinesOf(host, options.proc, {"dockerd", "containerd", "conmon"});

  std::vector<std::string> docker_roots;
  for (const std::string& r : options.docker_roots) AddUnique(&docker_roots, r);
  for (std::string& r : DockerDataRoots(host, options.etc, Named(daemons, "dockerd"))) {
    AddUnique(&docker_roots, std::move(r));
  }
  for (const std::string& root : docker_roots) {
    ReadDockerRoot(host, root, options.only_running, &inv);
  }

  // containerd: each root with the state directory it was found with, then
  // every other state directory known (a task is looked up by namespace
  // and id, which a root's containers do not share with another's).
  std::vector<ContainerdDirs> ctrds;
  for (const std::string& r : options.containerd_roots) ctrds.push_back({r, ""});
  for (ContainerdDirs& d : ContainerdDirsOf(host, options.etc, Named(daemons, "containerd"))) {
    ctrds.push_back(std::move(d));
  }
  std::vector<std::string> roots_done;
  for (const ContainerdDirs& d : ctrds) {
    if (std::find(roots_done.begin(), roots_done.end(), d.root) != roots_done.end()) continue;
    roots_done.push_back(d.root);
    std::vector<std::string> states;
    AddUnique(&states, d.state);
    for (const std::string& s : options.containerd_states) AddUnique(&states, s);
    for (const ContainerdDirs& other : ctrds) AddUnique(&states, other.state);
    ReadContainerdRoot(host, d.root, states, options.proc, options.only_running, &inv);
  }

  std::vector<std::string> storages;
  for (const std::string& r : options.storage_roots) AddUnique(&storages, r);
  for (std::string& r : StorageRoots(host, options.etc, Named(daemons, "conmon"))) {
    AddUnique(&storages, std::move(r));
  }
  for (const std::string& root : storages) {
    ReadStorageRoot(host, root, options.proc, options.only_running, &inv);
  }

  // The same root reached twice (a symlink, a flag naming the default)
  // lists its containers once.
  std::stable_sort(inv.containers.begin(), inv.containers.end(),
                   [](const RuntimeContainer& a, const RuntimeContainer& b) {
                     return std::tie(a.runtime, a.id) < std::tie(b.runtime, b.id);
                   });
  inv.containers.erase(std::unique(inv.containers.begin(), inv.containers.end(),
                                   [](const RuntimeContainer& a, const RuntimeContainer& b) {
                                     return a.runtime == b.runtime && a.id == b.id;
                                   }),
                       inv.containers.end());
  inv.notes.erase(std::unique(inv.notes.begin(), inv.notes.end()), inv.notes.end());
  return inv;
}

}  // namespace driftwatch::container
