// The overlayfs upper-layer diff: A/C/D events like `docker diff`, computed
// from the container's writable layer alone (docs/containers.md).
//
// The pure part: DiffUpperLayer() takes a listing of the upper layer and a
// read-only view of the image (the lower layer) and returns the events. It
// understands every form overlayfs writes:
//   - whiteouts: a char device 0/0, or a zero-size regular file carrying the
//     "overlay.whiteout" xattr (trusted.* or user.*);
//   - opaque directories: "overlay.opaque" = "y" hides the lower directory
//     ("x" only marks a directory holding xattr whiteouts);
//   - redirect_dir: "overlay.redirect" names the lower directory a renamed
//     directory came from (absolute from the layer root, or a sibling name);
//   - metacopy: "overlay.metacopy" marks a file whose data still lives in the
//     lower layer (an attribute-only change such as chmod).
// Events are those of a full comparison of the image with the merged tree:
//   A  path in the merged tree, not in the image (every descendant of an
//      added directory is added too);
//   D  path in the image, not in the merged tree, whose parent is still a
//      directory in the merged tree (descendants of a removed directory are
//      not listed);
//   C  in both with a different type, or different perm, uid, gid, size
//      (not for directories), symlink target, device number or content hash.
// Paths equal to or under an excluded path (declared volumes) never produce
// events. Events are sorted by path; `old_entry` is the image entry,
// `new_entry` the merged one (with its XXH3-128 content hash).
//
// Cost grows with the upper layer: image directories without a counterpart in
// the upper layer are never listed. Work is iterative (no recursion).
//
// Thread-safety: DiffUpperLayer is reentrant; views are used from one thread.
#ifndef DRIFTWATCH_CONTAINER_UPPER_DIFF_H_
#define DRIFTWATCH_CONTAINER_UPPER_DIFF_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/drift.h"
#include "core/entry.h"
#include "core/status.h"

namespace driftwatch::container {

// Attributes the diff compares: type, perm, uid, gid; plus size and hash
// for files, size and link for symlinks, rdev for devices.
uint32_t DiffMask(EntryType type);

// One object of the upper layer with the overlay markers decoded.
struct UpperNode {
  Entry entry;  // attributes as stored in the upper layer; content hash of
                // regular files unless metacopy (then it is ignored)
  bool whiteout = false;
  bool opaque = false;
  bool metacopy = false;
  std::optional<std::string> redirect;  // raw "overlay.redirect" value
};

// Overlay xattr names, in both the trusted.* and user.* (userxattr) forms.
struct OverlayMarkers {
  bool whiteout = false;
  bool opaque = false;
  bool metacopy = false;
  std::optional<std::string> redirect;
};
// Decodes the overlay xattrs of one upper object (pure).
OverlayMarkers DecodeOverlayXattrs(const std::vector<std::pair<std::string, std::string>>& xattrs);
// True for the char-device 0/0 whiteout form.
bool IsDeviceWhiteout(const Entry& e);

// The upper layer, keyed by absolute path ("/etc/passwd"). The root "/" may
// be present (its markers count) or absent.
class UpperListing {
 public:
  void Add(const std::string& path, UpperNode node);
  const UpperNode* Find(const std::string& path) const;
  // Names of the direct children of `dir`, sorted.
  std::vector<std::string> Children(const std::string& dir) const;
  size_t size() const { return nodes_.size(); }

 private:
  std::map<std::string, UpperNode> nodes_;
  std::map<std::string, std::vector<std::string>> children_;
};

// Read access to the image (lower layer). Paths are absolute within it.
class LowerView {
 public:
  virtual ~LowerView() = default;
  // The entry at `path` (never following a symlink) with its content hash
  // for regular files; nullopt when absent or when a parent is not a dir.
  virtual Result<std::optional<Entry>> Lookup(const std::string& path) = 0;
  // Names in the directory at `path`; empty when it is not a directory.
  virtual Result<std::vector<std::string>> List(const std::string& path) = 0;
};

// Computes the events. Errors: a view's error, or kCorruption for a
// redirect that is not a clean path (".." or empty components).
Result<std::vector<DriftEvent>> DiffUpperLayer(const UpperListing& upper, LowerView& lower,
                                               const std::vector<std::string>& excluded);

// True if `path` equals one of `prefixes` or lies under it.
bool IsUnder(const std::string& path, const std::vector<std::string>& prefixes);

// Single-letter code for display: "A", "C", "D".
std::string_view DiffLetter(DriftKind kind);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_UPPER_DIFF_H_
