// Discovery of running containers of any runtime, from /proc.
//
// A process is a container's when its mount namespace differs from PID 1's
// and either its root directory differs from PID 1's or its cgroup names a
// known runtime (cgroup_ident.h). One entry per mount namespace (its lowest
// pid). The root mount is read from /proc/PID/mountinfo; when it is overlayfs
// the drift is the upper-layer diff against the stacked lower layers (several
// lowerdirs are merged as overlayfs does: whiteouts and opaque directories in
// upper lowers hide lower ones). Containers started by this launcher are
// matched to their records (name, image, image digest) through the cgroup id.
//
// Errors: only a /proc that cannot be listed is an error; a process that
// vanishes or cannot be read is skipped, a layer that cannot be diffed
// yields a note instead of events.
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
};

struct DiscoverOptions {
  // /proc, the state directory and the layers are read through it. Required
  // (kInvalidArgument without one); borrowed.
  Host* host = nullptr;
  std::string proc = "/proc";
  std::string state_dir;  // to match this launcher's containers; "" to skip
  bool diff = true;
};

Result<std::vector<DiscoveredContainer>> DiscoverContainers(const DiscoverOptions& options);

// How `driftwatch check` names a container in event paths
// ("container:LABEL:/path"): this launcher's container name, else
// RUNTIME:ID with runtime ids cut to 12 characters (as docker ps shows
// them); "mntns-<inode>" ids are kept whole.
std::string ContainerLabel(const DiscoveredContainer& c);

// A LowerView over several overlay lower layers, top-most first, read
// through `host` (borrowed; it must outlive the view).
Result<std::unique_ptr<LowerView>> OpenStackedLower(Host& host,
                                                    const std::vector<std::string>& layers);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_DISCOVERY_H_
