// Containers of other runtimes, named and tied to their images, read from
// the runtimes' own state files: no socket, no API call, so a hung daemon
// does not hang the agent (docs/containers.md "Other runtimes").
//
//   docker      DATA-ROOT/containers/ID/config.v2.json and hostconfig.json,
//               DATA-ROOT/image/overlay2/{imagedb,layerdb,repositories.json},
//               the data root from /etc/docker/daemon.json, a running
//               dockerd's --data-root, else /var/lib/docker
//   containerd  ROOT/io.containerd.metadata.v1.bolt/meta.db (bbolt, read
//               only) and STATE/io.containerd.runtime.v2.task/NS/ID/
//               (config.json, init.pid); Kubernetes' CRI labels
//   podman      STORAGE/overlay-containers/containers.json, overlay-images,
//               overlay-layers, libpod's database, and each container's
//               userdata/config.json; root and rootless storages
//   cri-o       the same containers/storage format, its annotations
//
// Errors: a runtime whose files are absent is not an error and adds nothing;
// one whose files are unreadable, corrupt or of an unknown version adds a
// note naming the runtime, the file and why, and the runtimes' other
// containers are still read. Only a missing Host is kInvalidArgument.
//
// Thread-safety: reentrant; reads through the Host it is given.
#ifndef DRIFTWATCH_CONTAINER_RUNTIME_STATE_H_
#define DRIFTWATCH_CONTAINER_RUNTIME_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

// A volume, bind mount or tmpfs of the runtime's config: declared state,
// left out of the drift.
struct RuntimeMount {
  std::string destination;  // absolute path inside the container
  std::string source;       // host path, or the volume's name
  std::string type;         // "volume", "bind", "tmpfs"
  friend bool operator==(const RuntimeMount&, const RuntimeMount&) = default;
};

struct RuntimeContainer {
  std::string runtime;       // "docker", "containerd", "podman", "cri-o"
  std::string id;            // the runtime's full id
  std::string name;          // docker without the leading '/'; "" when none
  std::string nspace;        // containerd's namespace ("default", "k8s.io"); else ""
  std::string image;         // the reference it was started from ("busybox:latest")
  std::string image_id;      // "sha256:<64 hex>"; "" when unknown
  std::string image_digest;  // the registry digest "sha256:<64 hex>"; "" when none
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
  int64_t started_ns = 0;                                   // 0 when unknown
  pid_t pid = 0;  // its init process on the host; 0 when not running
  bool running = false;
  std::vector<RuntimeMount> mounts;  // sorted by destination
  // Host paths of the image's layers, top-most first, when the runtime
  // keeps them as directories (overlay lower dirs; vfs: one full copy).
  std::vector<std::string> image_layers;
  std::string storage_driver;  // "overlay2", "overlayfs", "overlay", "vfs", "btrfs", ...
  std::string note;            // what of this container could not be read, "" when all
  friend bool operator==(const RuntimeContainer&, const RuntimeContainer&) = default;
};

struct RuntimeInventory {
  std::vector<RuntimeContainer> containers;  // sorted by (runtime, id)
  // One line per runtime whose files were unreadable or of an unknown
  // version: "podman: /var/lib/containers/storage/libpod/bolt_state.db:
  // unknown bbolt version 3".
  std::vector<std::string> notes;
};

struct RuntimeReadOptions {
  Host* host = nullptr;  // required; borrowed
  std::string proc = "/proc";
  std::string etc = "/etc";
  // Where to look besides what is found on the host (the defaults, the
  // daemons' command lines, daemon.json, rootless users' storages). Each
  // may be given several times; tests point these at private daemons.
  std::vector<std::string> docker_roots;
  std::vector<std::string> containerd_roots;   // ROOT of containerd
  std::vector<std::string> containerd_states;  // STATE of containerd
  std::vector<std::string> storage_roots;      // containers/storage roots
  bool only_running = true;                    // leave out containers that are not running
};

Result<RuntimeInventory> ReadRuntimes(const RuntimeReadOptions& options);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_RUNTIME_STATE_H_
