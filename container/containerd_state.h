// containerd's containers (and so Kubernetes' through the CRI) from its
// root and state directories (docs/containers.md "Other runtimes:
// identity"):
//
//   ROOT/io.containerd.metadata.v1.bolt/meta.db   bbolt (core/bolt.h):
//       v1/NS/containers/ID: image, labels, snapshotter, snapshotKey,
//           createdat, spec (the OCI spec as a protobuf Any)
//       v1/NS/images/REF/target/digest: the image's manifest (or index)
//       v1/NS/snapshots/SNAPSHOTTER/KEY/name: the snapshotter's own key
//   ROOT/io.containerd.snapshotter.v1.SNAPSHOTTER/metadata.db
//       v1/snapshots/KEY: id, parent -> snapshots/ID/fs (overlayfs),
//           snapshots/ID (native)
//   ROOT/io.containerd.content.v1.content/blobs/sha256/HEX: the manifest,
//       whose config digest is the image id
//   STATE/io.containerd.runtime.v2.task/NS/ID/init.pid: running, its pid
//
// The "moby" namespace is Docker's own containerd: those containers are
// read from Docker's data root (docker_state.h) and left out here.
//
// The parsers are pure and table-tested; ReadContainerdRoot is the I/O.
//
// Thread-safety: pure functions; ReadContainerdRoot reads through its Host.
#ifndef DRIFTWATCH_CONTAINER_CONTAINERD_STATE_H_
#define DRIFTWATCH_CONTAINER_CONTAINERD_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "container/runtime_state.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

// Go's time.Time.MarshalBinary (containerd's createdat/updatedat) as
// nanoseconds since the epoch. kCorruption when it is not one.
Result<int64_t> ParseGoBinaryTime(std::string_view bytes);

// The value of a protobuf google.protobuf.Any whose type URL ends with
// `type_suffix` (containerd keeps the OCI spec as one). kCorruption when the
// bytes are not an Any, kNotFound when it holds another type.
Result<std::string_view> AnyValue(std::string_view any, std::string_view type_suffix);

// From an OCI runtime spec (config.json): the bind and tmpfs mounts (the
// kernel's own filesystems, proc, sysfs, devpts, mqueue, cgroup, left out)
// appended to c->mounts, and the Kubernetes labels the CRI's annotations
// name (io.kubernetes.cri.sandbox-name, -namespace, container-name) added
// where c->labels lacks them. kCorruption when it is not a JSON object.
Status ApplyOciSpec(std::string_view json, RuntimeContainer* c);

// The image id (the config digest) from a manifest, or the manifest digest
// of linux/amd64 (else the first) from an index: `next` tells which.
struct ManifestStep {
  std::string config;  // the image id, when `text` is a manifest
  std::string next;    // the manifest to read next, when it is an index
};
Result<ManifestStep> ParseImageManifest(std::string_view text);

// A containerd's root and state directories.
struct ContainerdDirs {
  std::string root;
  std::string state;
  friend bool operator==(const ContainerdDirs&, const ContainerdDirs&) = default;
};

// The `root` and `state` of a containerd config.toml (top-level keys only).
ContainerdDirs ParseContainerdConfig(std::string_view toml);

// containerd's directories on this host: each running containerd's --root,
// --state and --config (-c) file, ETC/containerd/config.toml, then
// /var/lib/containerd and /run/containerd. Empty fields stay "" when not
// known.
std::vector<ContainerdDirs> ContainerdDirsOf(
    Host& host, const std::string& etc, const std::vector<std::vector<std::string>>& containerds);

// Reads every container of every namespace of the containerd whose root is
// `root`; `states` are the state directories to look for its tasks in
// (the first one holding a task wins). A container counts as running when
// its task's init.pid names a process under `proc`. An absent meta.db adds
// nothing; an unreadable or corrupt one adds a note.
void ReadContainerdRoot(Host& host, const std::string& root, const std::vector<std::string>& states,
                        const std::string& proc, bool only_running, RuntimeInventory* out);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_CONTAINERD_STATE_H_
