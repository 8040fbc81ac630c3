// Podman's and CRI-O's containers from containers/storage and libpod's
// database (docs/containers.md "Other runtimes: identity"):
//
//   STORAGE/DRIVER-containers/containers.json  id, names, image, layer,
//                                              metadata (image-name, name)
//   STORAGE/DRIVER-images/images.json          id, digest, names, layer
//   STORAGE/DRIVER-layers/layers.json          id, parent -> STORAGE/overlay/
//                                              LAYER/diff (vfs: vfs/dir/LAYER)
//   STORAGE/libpod/bolt_state.db               bbolt (core/bolt.h): ctr/ID/
//                                              config (name, image, labels,
//                                              volumes, OCI spec) and state
//                                              (running, pid, started, bind
//                                              mounts) of podman's containers
//   STORAGE/libpod/db.sql                      the same as SQLite (podman 4.8
//                                              and later): ContainerConfig,
//                                              ContainerState (read-only)
//   STORAGE/DRIVER-containers/ID/userdata/config.json  the OCI spec; CRI-O's
//                                              annotations (io.kubernetes.cri-o.*)
//   RUNROOT/DRIVER-containers/ID/userdata/pidfile  CRI-O's running process
//
// Storages: /var/lib/containers/storage, graphroot of ETC/containers/
// storage.conf, each user's ~/.local/share/containers/storage (homes from
// ETC/passwd: rootless podman), and the --root a running conmon passes on
// to podman's exit command.
//
// The parsers are pure and table-tested; ReadStorageRoot is the I/O.
//
// Thread-safety: pure functions; ReadStorageRoot reads through its Host.
#ifndef DRIFTWATCH_CONTAINER_PODMAN_STATE_H_
#define DRIFTWATCH_CONTAINER_PODMAN_STATE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "container/runtime_state.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

struct StorageContainer {
  std::string id;
  std::vector<std::string> names;
  std::string image;       // the image's id (64 hex)
  std::string layer;       // the container's own layer
  std::string image_name;  // from metadata, "" when none
  friend bool operator==(const StorageContainer&, const StorageContainer&) = default;
};
// containers.json. kCorruption when it is not a JSON array; entries without
// an id are skipped.
Result<std::vector<StorageContainer>> ParseStorageContainers(std::string_view text);

struct StorageImage {
  std::string id;
  std::string digest;  // "sha256:..." (the manifest's), "" when none
  std::vector<std::string> names;
  std::string layer;  // the image's top layer
  friend bool operator==(const StorageImage&, const StorageImage&) = default;
};
Result<std::vector<StorageImage>> ParseStorageImages(std::string_view text);

// layers.json: layer id -> parent id ("" for a base layer).
Result<std::map<std::string, std::string>> ParseStorageLayers(std::string_view text);

// libpod's ctr/ID/config: name, image (rootfsImageName), image_id,
// labels, named volumes and the spec's bind and tmpfs mounts.
Status ApplyLibpodConfig(std::string_view json, RuntimeContainer* c);
// libpod's ctr/ID/state: running (state running or paused), pid,
// started_ns and the files libpod bind-mounts (/etc/hosts, ...).
Status ApplyLibpodState(std::string_view json, RuntimeContainer* c);

// containers/storage roots on this host (see above), each once.
std::vector<std::string> StorageRoots(Host& host, const std::string& etc,
                                      const std::vector<std::vector<std::string>>& conmons);

// Reads the containers of the storage at `root`; podman's when libpod's
// database has them, CRI-O's when their spec carries CRI-O's annotations;
// others (buildah's working containers) are left out. An absent storage
// adds nothing; unreadable or unknown files add notes.
void ReadStorageRoot(Host& host, const std::string& root, const std::string& proc,
                     bool only_running, RuntimeInventory* out);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_PODMAN_STATE_H_
