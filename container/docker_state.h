// Docker's containers from its data root (docs/containers.md "Other
// runtimes: identity"):
//
//   ROOT/containers/ID/config.v2.json   ID, Name, Config.Image, Config.Labels,
//                                       Image (the image id), State (Running,
//                                       Pid, StartedAt), MountPoints, Driver,
//                                       HostnamePath/HostsPath/ResolvConfPath
//   ROOT/containers/ID/hostconfig.json  Binds, Mounts, Tmpfs
//   ROOT/image/DRIVER/repositories.json reference -> image id, including the
//                                       "name@sha256:..." registry digests
//   ROOT/image/DRIVER/layerdb/mounts/ID/parent and layerdb/sha256/CHAIN/
//                                       {cache-id,parent}: the image's layers,
//                                       ROOT/overlay2/CACHE-ID/diff
//
// The parsers are pure and table-tested; ReadDockerRoot is the thin I/O.
//
// Thread-safety: pure functions; ReadDockerRoot reads through its Host.
#ifndef DRIFTWATCH_CONTAINER_DOCKER_STATE_H_
#define DRIFTWATCH_CONTAINER_DOCKER_STATE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "container/runtime_state.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

// config.v2.json: runtime "docker", id, name (without the leading '/'),
// image, image_id, labels, pid, running, started_ns, storage_driver and the
// MountPoints plus the files Docker bind-mounts over /etc/hostname,
// /etc/hosts and /etc/resolv.conf. A file that is not a JSON object or has
// no 64-hex "ID" is kCorruption (a format this reader does not know).
Result<RuntimeContainer> ParseDockerConfig(std::string_view text);

// hostconfig.json: the Binds ("SRC:DST[:OPTS]"), Mounts and Tmpfs entries,
// appended to *mounts. kCorruption when it is not a JSON object.
Status ParseDockerHostConfig(std::string_view text, std::vector<RuntimeMount>* mounts);

// repositories.json: every (reference, image id) pair, references as Docker
// writes them ("busybox:latest", "busybox@sha256:..."), sorted.
using DockerRefs = std::vector<std::pair<std::string, std::string>>;
Result<DockerRefs> ParseDockerRepositories(std::string_view text);

// The registry digest ("sha256:...") of `image_id` from its "NAME@sha256:"
// references, preferring the repository `image_ref` names; "" when the
// image has none (built or imported locally).
std::string DockerRepoDigest(const DockerRefs& refs, std::string_view image_ref,
                             std::string_view image_id);

// Docker's data roots on this host: `data-root` (or the older `graph`) of
// ETC/docker/daemon.json, of a running dockerd's --config-file, and its
// --data-root/-g/--graph flags, then /var/lib/docker.
std::vector<std::string> DockerDataRoots(Host& host, const std::string& etc,
                                         const std::vector<std::vector<std::string>>& dockerds);

// Reads every container of the data root `root` into out->containers (only
// running ones when only_running). An absent root adds nothing; an
// unreadable or unknown container adds a line to out->notes; what of a
// container could not be read (its image's layers, hostconfig.json) is in
// its note.
void ReadDockerRoot(Host& host, const std::string& root, bool only_running, RuntimeInventory* out);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_DOCKER_STATE_H_
