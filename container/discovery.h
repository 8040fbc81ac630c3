// Discovery of running containers of any runtime, from /proc.
//
// A process is a container's when its mount namespace differs from PID 1's
// and either its root directory differs from PID 1's or its cgroup names a
// known runtime (cgroup_ident.h). One entry per mount namespace (its lowest
// pid). The root mount is read from /proc/PID/mountinfo; when it is overlayfs
// the drift is the upper-layer diff against the stacked lower layers (several
// lowerdirs are merged as overlayfs does: whiteouts and opaque directories in
// upper lowers hide lower ones). Containers started by this launcher are
// matched to their records (name, image, image digest) through the cgroup id;
// those of Docker, containerd and Podman to the runtimes' own state files
// (container/runtime_state.h, joined as container/runtime_join.h says): name,
// image, digests, labels, start, mounts. The runtime's volumes, binds and
// tmpfs mounts are left out of the diff as declared state, like this
// launcher's volumes.
//
// Errors: only a /proc that cannot be listed is an error; a process that
// vanishes or cannot be read is skipped, a layer that cannot be diffed
// yields a note instead of events; runtimes whose files cannot be read add
// to `notes`.
//
// Thread-safety: reentrant.
#ifndef DRIFTWATCH_CONTAINER_DISCOVERY_H_
#define DRIFTWATCH_CONTAINER_DISCOVERY_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "container/mountinfo.h"
#include "container/runtime_state.h"
#include "container/state.h"
#include "container/upper_diff.h"
#include "core/drift.h"
#include "core/host.h"

namespace driftwatch::container {

struct DiscoveredContainer {
  pid_t pid = 0;
  std::string runtime;  // from the cgroup, or "unknown"
  std::string id;       // runtime id, or "mntns-<inode>"
  uint64_t mnt_ns = 0;
  std::string root_fstype;
  std::optional<OverlayLayers> layers;
  bool drift_known = false;
  std::vector<DriftEvent> events;  // when drift_known
  std::string note;                // why drift is unknown
  // Containers of this launcher.
  std::string name;
  std::string image;
  Hash128 image_digest;
  // Containers of other runtimes: what the runtime's state files say
  // (runtime and id above then are the runtime's own).
  std::optional<RuntimeContainer> identity;
  // Container paths left out of the diff as declared state: the runtime's
  // volumes, binds and tmpfs mounts (sorted).
  std::vector<std::string> excluded;
  // Hex Merkle root of the image as baselined (filled by the caller that
  // holds the agent store); "" when not.
  std::string image_tree;
};

struct DiscoverOptions {
  // /proc, the state directory and the layers are read through it. Required
  // (kInvalidArgument without one); borrowed.
  Host* host = nullptr;
  std::string proc = "/proc";
  std::string state_dir;  // to match this launcher's containers; "" to skip
  bool diff = true;
  // Read the runtimes' state files (host and proc are taken from above);
  // the roots given there are added to those found on the host.
  bool read_runtimes = true;
  RuntimeReadOptions runtimes;
  std::vector<std::string>* notes = nullptr;  // the runtimes' notes; may be null
};

Result<std::vector<DiscoveredContainer>> DiscoverContainers(const DiscoverOptions& options);

// How `driftwatch check` names a container in event paths
// ("container:LABEL:/path"): this launcher's container name; RUNTIME:NAME
// when the runtime names it ("docker:web-1", "podman:db", containerd's
// "containerd:POD/CONTAINER" or "containerd:ID"; runtime_join.h RuntimeName);
// else RUNTIME:ID with runtime ids cut to 12 characters (as docker ps shows
// them); "mntns-<inode>" ids are kept whole. The one place labels are made.
std::string ContainerLabel(const DiscoveredContainer& c);

// The container's name as reports carry it (ContainerInfo.name): this
// launcher's name, the runtime's NAME, else the label.
std::string ContainerName(const DiscoveredContainer& c);

// The container as reports carry it (docs/wire.md "Inventory"): every
// ContainerInfo field; `events` counts c.events when drift is known.
ContainerInfo ContainerInfoOf(const DiscoveredContainer& c);

// A LowerView over several overlay lower layers, top-most first, read
// through `host` (borrowed; it must outlive the view).
Result<std::unique_ptr<LowerView>> OpenStackedLower(Host& host,
                                                    const std::vector<std::string>& layers);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_DISCOVERY_H_
