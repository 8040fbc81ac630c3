// Entry, Tree and Snapshot: the data model of driftwatch (see docs/store.md).
//
// An Entry is one filesystem object as seen by a scan. A Tree is one
// directory's entries sorted by name; it is content-addressed: its identity
// is the XXH3-128 of its serialization (SerializeTree), and a directory's
// Entry carries the identity of its Tree in `subtree`. Only the attributes in
// an entry's `mask` (what its rule checks) are serialized, so volatile
// attributes (inode, ctime, atime) never change a hash unless a rule asks for
// them, and the same files on two hosts produce the same hashes.
//
// Thread-safety: plain values.
#ifndef DRIFTWATCH_CORE_ENTRY_H_
#define DRIFTWATCH_CORE_ENTRY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/status.h"

namespace driftwatch {

enum class EntryType : uint8_t {
  kFile = 1,
  kDir = 2,
  kSymlink = 3,
  kFifo = 4,
  kSocket = 5,
  kCharDev = 6,
  kBlockDev = 7,
};

std::string_view EntryTypeName(EntryType t);  // "file", "dir", "symlink", ...
// From st_mode; returns false for an unknown type.
bool EntryTypeFromMode(uint32_t st_mode, EntryType* out);

// Attributes a rule can check. `type` is always checked.
enum Attr : uint32_t {
  kAttrType = 1u << 0,
  kAttrPerm = 1u << 1,    // permission bits incl. setuid/setgid/sticky
  kAttrUid = 1u << 2,
  kAttrGid = 1u << 3,
  kAttrSize = 1u << 4,
  kAttrMtime = 1u << 5,
  kAttrCtime = 1u << 6,
  kAttrInode = 1u << 7,
  kAttrNlink = 1u << 8,
  kAttrRdev = 1u << 9,    // device number of device nodes
  kAttrLink = 1u << 10,   // symlink target
  kAttrHash = 1u << 11,   // content digest of regular files
  kAttrXattrs = 1u << 12, // digest of the watched extended attributes
  kAttrGrowing = 1u << 13,  // modifier: size may only grow, old prefix must keep its hash
};

constexpr uint32_t kAllAttrs = (1u << 14) - 1;

// Attribute names as used in rules and JSON: "type", "perm", "uid", "gid",
// "size", "mtime", "ctime", "inode", "nlink", "rdev", "link", "hash",
// "xattrs", "growing".
std::string_view AttrName(Attr a);
// Returns 0 for an unknown name.
uint32_t AttrFromName(std::string_view name);
// Names of the bits set in mask, in bit order.
std::vector<std::string_view> AttrNames(uint32_t mask);

struct Entry {
  std::string name;  // one path component (bytes); "" for the root
  EntryType type = EntryType::kFile;
  uint32_t mask = kAttrType;  // attributes recorded (and compared) for this entry
  bool structural = false;    // on the way to a watched path, not watched itself
  uint32_t mode = 0;          // permission bits (st_mode & 07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t nlink = 0;
  uint64_t rdev = 0;
  std::string link_target;  // symlinks
  Digest content;           // regular files, when mask has kAttrHash
  Hash128 xattrs;           // zero when there are none
  Hash128 subtree;          // directories: identity of their Tree

  // Keeps only the attributes in `mask` (zeroes the rest) so that
  // serialization and comparison see exactly the policy attributes.
  void ApplyMask();
  friend bool operator==(const Entry&, const Entry&) = default;
};

// Attribute bits (among mask of both) whose values differ; kAttrType when
// the types differ. `subtree` is not an attribute.
uint32_t ChangedAttrs(const Entry& a, const Entry& b);

struct Tree {
  std::vector<Entry> entries;  // sorted by name, unique names
};

constexpr uint8_t kTreeFormatVersion = 1;

// Canonical bytes of a tree (entries must be sorted). Stable across builds:
// changing it needs a new kTreeFormatVersion.
std::string SerializeTree(const Tree& tree);
Result<Tree> ParseTree(std::string_view bytes);
inline Hash128 TreeHash(std::string_view serialized) { return HashBytes(serialized); }

// Joins a directory path and a name: ("", "etc") -> "/etc", ("/etc", "x") -> "/etc/x".
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_ENTRY_H_
