// Filesystem side of layers: reading an overlay upper layer, a lower layer
// view on disk, and removing a container's directories.
//
// Every walk is iterative (no recursion on the tree's depth), resolves paths
// beneath a root fd with no symlink, magic link or ".." in any component
// (through a Host for what a check reads; openat2 for the launcher's own
// trees), never follows symlinks and never opens FIFOs,
// sockets or devices. Content hashes are XXH3-128 of regular files.
//
// Errors: kNotFound for a missing root; other OS errors name the path.
// Thread-safety: free functions, safe to call concurrently on distinct trees.
#ifndef DRIFTWATCH_CONTAINER_LAYER_FS_H_
#define DRIFTWATCH_CONTAINER_LAYER_FS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "container/state.h"
#include "container/upper_diff.h"
#include "core/drift.h"
#include "core/entry.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

// Names in an open directory ("." and ".." left out), sorted; `what` names
// it in errors. The fd stays open and is not moved.
Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::string& what);

// Opens `path` ("/" or "/a/b") beneath root_fd as an O_PATH directory fd,
// refusing symlinks in any component and ".." escapes (openat2). For the
// launcher's own trees (init.h, image_special.h).
Result<UniqueFd> OpenBeneath(int root_fd, const std::string& path, int flags);
// The same through `host`, one component at a time (O_NOFOLLOW), for the
// layers a check reads.
Result<UniqueFd> OpenBeneath(Host& host, int root_fd, const std::string& path, int flags);

// The entry named `name` in dir_fd, read through `host` (lstat; content hash
// of regular files when `hash` is true). Masked with DiffMask().
Result<Entry> StatEntry(Host& host, int dir_fd, const std::string& name, bool hash);

// Reads the whole upper layer at `upper_dir`, decoding whiteouts, opaque,
// redirect and metacopy markers from trusted.overlay.* / user.overlay.*.
// With a user namespace's range, owners inside it are read back as the
// container sees them (host uid range.host+N -> N; container/userns.h).
// Everything is read through `host`.
Result<UpperListing> ReadUpperLayer(Host& host, const std::string& upper_dir,
                                    const IdRange& ids = {});

// The image directory as a LowerView, read through `host` (borrowed; it must
// outlive the view).
class DiskLowerView final : public LowerView {
 public:
  static Result<std::unique_ptr<DiskLowerView>> Open(Host& host, const std::string& dir);
  Result<std::optional<Entry>> Lookup(const std::string& path) override;
  Result<std::vector<std::string>> List(const std::string& path) override;

 private:
  DiskLowerView(Host& host, UniqueFd root) : host_(host), root_(std::move(root)) {}
  Host& host_;
  UniqueFd root_;
};

// A container's drift: DiffUpperLayer over the layers on disk; `ids` as for
// ReadUpperLayer.
Result<std::vector<DriftEvent>> DiffLayers(Host& host, const std::string& lower_dir,
                                           const std::string& upper_dir,
                                           const std::vector<std::string>& excluded,
                                           const IdRange& ids = {});

// Removes `path` and everything under it without following symlinks or
// crossing into other mounts; iterative, constant fds. Missing is ok.
Status RemoveTree(const std::string& path);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_LAYER_FS_H_
