// Several hosts' trees read side by side from the TreeStore: the walk that
// /fleet/compare, /fleet/outliers and majority baselines share
// (docs/collector.md "Fleet trees").
//
// Hosts are indices into the caller's list of roots. At each directory the
// hosts that hold it are grouped by the directory's tree id (TreeGroup), and
// each distinct object is loaded once (Level), so the cost of a walk follows
// the distinct subtrees where the hosts disagree, never hosts x paths. A
// directory whose holders all share one id is never read. Below a path that
// is a directory on some hosts only, the walk goes on among those hosts: a
// subtree only some hosts have is one disagreement at its top, not one per
// path beneath.
//
// Entries are compared without their `subtree` (that a directory's content
// differs is found beneath it, not at the directory). Walks keep an explicit
// stack, one Level per depth: no recursion on tree depth.
//
// Errors: an object missing from the store or failing to parse is
// kCorruption naming its id; store errors are passed through.
// Thread-safety: functions use only their arguments.
#ifndef DRIFTWATCH_COLLECTOR_TREE_WALK_H_
#define DRIFTWATCH_COLLECTOR_TREE_WALK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collector/tree_cache.h"
#include "collector/tree_store.h"
#include "core/entry.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::collector {

// The hosts (ascending indices) whose directory at one path is the object `id`.
struct TreeGroup {
  Hash128 id;
  std::vector<uint32_t> hosts;
};

// Groups roots[i] by id: one TreeGroup per distinct root, in id order.
std::vector<TreeGroup> GroupRoots(const std::vector<Hash128>& roots);

// One of the values a path has across hosts.
struct PathSide {
  std::optional<Entry> entry;   // nullopt: absent on these hosts
  std::vector<uint32_t> hosts;  // ascending
  // Directories: each host's subtree, parallel to `hosts`; entry->subtree is
  // theirs when they share one, else zero.
  std::vector<Hash128> subtrees;
  // The entry's canonical bytes without its subtree ("" when absent): what
  // sides are told apart by, and how ties are broken.
  std::string key;
};

// One directory of several hosts: the distinct trees of the TreeGroups,
// their names merged in byte order.
class Level {
 public:
  // Loads each group's object: from `cache` when it holds it (may be null),
  // the others with one GetTrees call (then kept in `cache`).
  static Result<Level> Load(TreeStore& store, std::vector<TreeGroup> groups,
                            TreeCache* cache = nullptr);

  size_t size() const { return names_.size(); }
  std::string_view name(size_t i) const { return names_[i]; }
  // The index of `name`, or nullopt.
  std::optional<size_t> Find(std::string_view name) const;
  // True when every host of the level holds name i with the same entry
  // (subtree aside).
  bool Agree(size_t i) const;
  // True when the hosts where name i is a directory hold more than one tree
  // id for it (Children(i) has more than one group).
  bool Splits(size_t i) const { return split_[i] != 0; }
  // The values name i has, hosts of the level without it as one absent
  // side; in the order of their keys.
  std::vector<PathSide> Sides(size_t i) const;
  // The hosts where name i is a directory, grouped by its tree id.
  std::vector<TreeGroup> Children(size_t i) const;
  // The entry of name i in the first group that has it (never null).
  const Entry& First(size_t i) const;
  // Hosts of the level without this directory at all (on the way to a
  // walk's prefix): absent at every name, never descended into.
  void SetAbsent(std::vector<uint32_t> hosts) { absent_ = std::move(hosts); }

 private:
  const Entry* At(size_t i, size_t g) const { return table_[i * groups_.size() + g]; }
  std::vector<TreeGroup> groups_;
  std::vector<std::shared_ptr<const Tree>> trees_;  // parallel to groups_
  std::vector<std::string_view> names_;             // into trees_, sorted, unique
  std::vector<const Entry*> table_;                 // names_ x groups_, null where absent
  std::vector<uint32_t> absent_;                    // ascending
  // Per name, found in one pass over each tree against the first entry of
  // the name (sequential in both trees, where comparing a name across every
  // tree would touch one entry per tree).
  std::vector<uint32_t> holders_;  // groups holding the name
  std::vector<uint8_t> differ_;    // some entry differs from the first
  std::vector<uint8_t> split_;     // directories with different subtrees
};

// The union of the host-specific paths (`peer: ignore`) of a group's hosts:
// each path and everything beneath it is left out of peer comparisons.
class HostSpecificPaths {
 public:
  HostSpecificPaths() = default;
  explicit HostSpecificPaths(const std::vector<HostTree>& hosts);
  // `path` or one of its ancestors is listed.
  bool Covers(std::string_view path) const;
  // A listed path lies strictly beneath `dir` ("" or "/" is the root).
  bool AnyBeneath(std::string_view dir) const;
  bool empty() const { return paths_.empty(); }

 private:
  std::set<std::string, std::less<>> paths_;
};

// A path where the hosts of a walk disagree: two sides or more.
struct Disagreement {
  std::string path;  // raw bytes
  std::vector<PathSide> sides;
};

struct WalkOptions {
  // A normal path (core/normal_path.h): only it and what lies beneath it are
  // walked. "/" walks everything.
  std::string prefix = "/";
  // Paths left out with everything beneath them (may be null).
  const HostSpecificPaths* skip = nullptr;
  // Parsed objects shared across walks (may be null: every object is read
  // from the store).
  TreeCache* cache = nullptr;
};

struct WalkStats {
  int64_t objects_loaded = 0;  // tree objects read from the store
  int64_t ignored = 0;         // disagreeing paths left out by options.skip
  bool stopped = false;        // the visitor asked to stop
};

// Returns false to stop the walk.
using DisagreementFn = std::function<bool(Disagreement)>;

// Calls `visit` for every path where the hosts of `roots` disagree, in path
// order (depth first, names in byte order, a directory before what is
// beneath it). At the prefix itself every host takes part (one without the
// prefix's directory lacks the prefix); beneath it, the holders of each
// directory. kInvalidArgument when the prefix is not a normal path.
Result<WalkStats> WalkDisagreements(TreeStore& store, const std::vector<Hash128>& roots,
                                    const WalkOptions& options, const DisagreementFn& visit);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_TREE_WALK_H_
