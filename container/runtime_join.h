// Joins the containers found in /proc (container/discovery.h) with the
// runtimes' own records (container/runtime_state.h), and names them.
//
// A discovered container is the runtime container with the same (runtime,
// id) as its cgroup says; else the one whose pid is the container's lowest
// pid; else the one whose pid lives in the container's mount namespace (the
// runtime's pid need not be the lowest: a runtime may start a helper first).
// cgroup paths that name no runtime (containerd's `ctr run` puts tasks in
// /NAMESPACE/ID) are therefore joined by pid. Runtime containers that match
// no process are not running and are left out by the caller.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CONTAINER_RUNTIME_JOIN_H_
#define DRIFTWATCH_CONTAINER_RUNTIME_JOIN_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "container/runtime_state.h"
#include "core/drift.h"

namespace driftwatch::container {

// The runtime container of a discovered one, or nullptr. `mnt_ns_of` maps
// the runtime containers' pids to their mount namespace inodes (pids whose
// namespace could not be read are absent).
const RuntimeContainer* MatchRuntimeContainer(const RuntimeInventory& inventory,
                                              const std::string& runtime, const std::string& id,
                                              pid_t pid, uint64_t mnt_ns,
                                              const std::map<pid_t, uint64_t>& mnt_ns_of);

// The destinations of the runtime's volumes, binds and tmpfs mounts: clean
// absolute paths, sorted and unique ("/" and relative ones are dropped: a
// mount on the root is the root itself, never declared state).
std::vector<std::string> ExcludedDestinations(const std::vector<RuntimeMount>& mounts);

// Whether an upper-layer event is the runtime's own doing at container
// start rather than drift:
//  - an added directory above a mount's destination in `excluded` (sorted):
//    the runtime made it to hold the mount point (podman's /run for
//    /run/.containerenv), as `podman diff` and `docker diff` know;
//  - for libpod (podman) and CRI-O, the symlink /etc/mtab -> /proc/mounts
//    they create when the image has none, left out of `podman diff`. Only
//    that exact addition: an /etc/mtab pointing elsewhere, or one changed
//    from the image's, is drift.
bool IsRuntimeMadeEvent(const std::string& runtime, const std::vector<std::string>& excluded,
                        const DriftEvent& e);

// The NAME of "container:RUNTIME:NAME:/path" for a container the runtime
// names: docker's and podman's name; for containerd the Kubernetes
// "POD/CONTAINER" from the CRI labels when present, else its id (chosen by
// the user with `ctr run`). "" when the runtime gives no name, or one an
// event path cannot carry (empty, over 253 bytes, a ':', a '/' inside a name,
// control characters).
std::string RuntimeName(const RuntimeContainer& c);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_RUNTIME_JOIN_H_
