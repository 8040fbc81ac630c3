// The image of another runtime's container, baselined once per image in the
// agent store (docs/containers.md, "Other runtimes: drift against the
// image"): baseline "image:REF@DIGEST", DIGEST the registry digest where the
// runtime has one, else its image id. Every container of that image on the
// host shares it; its root is the container's `image_tree`.
//
// Overlay roots: the image's lower layers (the runtime's `image_layers`,
// else the lower dirs of the container's root mount) are scanned as
// overlayfs merges them: one layer directly, several through a read-only
// overlay mounted in a private mount namespace of a short-lived child
// process (the host's mount table never sees it) and scanned through
// /proc/CHILD/root. Roots the runtime keeps as full copies (vfs, btrfs,
// zfs: image_layers[0] is the whole image) are baselined from that copy,
// and the container's root is compared with it.
//
// Errors: the scan's and the store's; an image without reference, digest
// or id has no baseline (kNotFound); a layer path overlayfs cannot take (',',
// ':', '\') or too many layers for one mount is kInvalidArgument.
//
// Thread-safety: not thread-safe (one per check).
#ifndef DRIFTWATCH_CLI_IMAGE_TREE_H_
#define DRIFTWATCH_CLI_IMAGE_TREE_H_

#include <map>
#include <string>
#include <vector>

#include "cli/tree_baseline.h"
#include "container/discovery.h"
#include "container/runtime_state.h"
#include "core/status.h"

namespace driftwatch::cli {

// "image:REF@DIGEST"; "" when the runtime knows neither a reference nor an
// image id. REF is the image id when the reference is unknown.
std::string RuntimeImageBaselineName(const container::RuntimeContainer& rc);

// True when the runtime's storage driver keeps each image layer as a full
// tree (vfs, btrfs, zfs): image_layers[0] is the whole image.
bool KeepsFullCopies(const container::RuntimeContainer& rc);

class ImageTrees {
 public:
  explicit ImageTrees(TreeBaselineOptions options) : options_(std::move(options)) {}

  // The hex root of the image of an overlay container `c` (with identity),
  // recording its baseline on first sight. First sights are added to
  // `warnings`.
  Result<std::string> OverlayImageTree(const container::DiscoveredContainer& c,
                                       std::vector<std::string>* warnings);

  // For a container KeepsFullCopies(): the baseline recorded from
  // image_layers[0] (on first sight) and its hex root.
  struct Baseline {
    std::string name;
    std::string tree;
  };
  Result<Baseline> FullCopyBaseline(const container::DiscoveredContainer& c,
                                    std::vector<std::string>* warnings);

 private:
  // The root of `name`, recorded from `layers` when there is none.
  Result<std::string> Ensure(const std::string& name, const std::vector<std::string>& layers,
                             std::vector<std::string>* warnings);

  TreeBaselineOptions options_;
  std::map<std::string, std::string> trees_;  // baseline name -> hex root, this check
};

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_IMAGE_TREE_H_
