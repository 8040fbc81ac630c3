// The image store: images are directory trees copied into the state dir and
// identified by a content digest, the Merkle root of their tree as the
// agent's scanner builds it with the container rules (core/entry.h
// SerializeTree over type, perm, uid, gid, size, symlink target, device
// number, xattrs and XXH3-128 content; paths the container rules ignore, such
// as /proc/** or /tmp/**, are not part of it). The tree is recorded as
// baseline "image:NAME@DIGEST" in the agent store at the same time.
//
// Import copies a directory (cp -a: owners, modes, xattrs, devices and hard
// links kept) or extracts a tar archive (tar --xattrs --numeric-owner) into
// the store's 0700 image directory, then, unless keep_special, removes device
// nodes and clears setuid/setgid bits and file capabilities
// (image_special.h) before anything else sees the tree; adds the empty mount
// points /proc, /sys and /dev when the tree lacks them, and records name,
// digest and source in image.json. Two imports of the same
// tree get the same digest, so `ps`/`containers` can tell how many distinct
// images run (image sprawl). Files, cp and tar (Host::Spawn) and the clock
// go through the StateDir's Host; the special-file pass and the clean-up of
// a failed import work on the tree directly (layer_fs.h, image_special.h).
//
// Errors: kAlreadyExists for a name in use, kInvalidArgument for a source
// that is neither a directory nor a regular file, kIoError with cp/tar's
// message; the digester's errors pass through. A failed import leaves
// nothing behind in the state dir.
//
// Thread-safety: one import per name at a time.
#ifndef DRIFTWATCH_CONTAINER_IMAGE_STORE_H_
#define DRIFTWATCH_CONTAINER_IMAGE_STORE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "container/image_special.h"
#include "container/state.h"
#include "core/hash.h"

namespace driftwatch::container {

// Computes the digest of the imported tree at `rootfs` and its number of
// entries. The CLI's digester scans the tree into the agent store and
// records it as the image's baseline (cli/tree_baseline.h).
using ImageDigester =
    std::function<Result<std::pair<Hash128, uint64_t>>(const std::string& rootfs)>;

struct ImportOptions {
  bool keep_special = false;  // --keep-special: devices and setuid/setgid bits as they are
  SpecialFileCounts* counts = nullptr;  // what was neutralised, when not null
};

Result<ImageRecord> ImportImage(const StateDir& state, const std::string& name,
                                const std::string& source, const ImageDigester& digester,
                                const ImportOptions& options = {});

Result<std::vector<ImageRecord>> ListImages(const StateDir& state);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_IMAGE_STORE_H_
