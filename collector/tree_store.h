// TreeStore: the fleet's snapshot trees at the collector (docs/collector.md
// "Fleet trees"), content-addressed and stored once per distinct content
// across the whole fleet.
//
// A tree object is the canonical serialization of one directory
// (SerializeTree in core/entry.h): names, attributes and digests of its
// entries, never file content. Its id is TreeHash(bytes).
//
// Contract shared by every backend:
//  - Closure: an object is only stored once every directory entry's subtree
//    it names is stored (the caller, Api, checks this with HasTrees before
//    PutTrees; objects of one PutTrees call may name each other when children
//    come first). So a stored root stands for a whole stored tree.
//  - PutTrees stores all its objects in one transaction or none; an object
//    already held is left as it is (same id = same bytes).
//  - A host's tree (SetHostTree) is its latest root with the paths its rules
//    mark host-specific (`peer: ignore`); every earlier root stays in the
//    host's tree history until PruneTrees drops it by retention.
//  - A group baseline is a revision: never changed, numbered from 1 per group.
//  - PruneTrees(cutoff) forgets tree history older than cutoff (each host's
//    current tree is always kept), then removes every object no kept root
//    (host trees, their history, every group baseline revision) reaches.
//  - Unknown hosts are kNotFound.
//
// Thread-safety: implementations are safe to call from several threads.
#ifndef DRIFTWATCH_COLLECTOR_TREE_STORE_H_
#define DRIFTWATCH_COLLECTOR_TREE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::collector {

// One serialized tree object and its id.
struct TreeObject {
  Hash128 id;
  std::string data;
};

struct HostTree {
  std::string host_id;
  Hash128 root;
  int64_t set_ns = 0;
  // Raw byte paths ("/etc/hostname") the host's rules mark `peer: ignore`:
  // left out of peer comparisons and group baselines.
  std::vector<std::string> host_specific;
};

struct GroupBaseline {
  std::string group;
  int64_t revision = 0;  // set by AddGroupBaseline
  Hash128 root;
  std::string source;  // "host:ID" or "majority"
  std::string by;      // who made it
  std::string why;
  int64_t created_ns = 0;
};

struct TreeStoreCounts {
  int64_t objects = 0;  // distinct tree objects held
  int64_t bytes = 0;    // their serialized size
  int64_t host_trees = 0;
};

class TreeStore {
 public:
  virtual ~TreeStore() = default;

  // For each id, whether the object is held.
  virtual Result<std::vector<bool>> HasTrees(const std::vector<Hash128>& ids) = 0;
  // Stores the objects (ids already checked against their bytes) in one
  // transaction; returns how many were new.
  virtual Result<int64_t> PutTrees(const std::vector<TreeObject>& objects, int64_t now_ns) = 0;
  // The objects' bytes, nullopt for each one not held.
  virtual Result<std::vector<std::optional<std::string>>> GetTrees(
      const std::vector<Hash128>& ids) = 0;

  // Sets the host's current tree (its root must be held: the caller checks).
  virtual Status SetHostTree(const HostTree& tree) = 0;
  // nullopt when the host never sent a tree; kNotFound for an unknown host.
  virtual Result<std::optional<HostTree>> GetHostTree(const std::string& host_id) = 0;
  // The current trees of the hosts of `group` that have one, by host id.
  virtual Result<std::vector<HostTree>> GroupTrees(const std::string& group) = 0;

  // Adds a revision of the group's baseline; returns its number.
  virtual Result<int64_t> AddGroupBaseline(const GroupBaseline& baseline) = 0;
  // The given revision, or the latest when revision is 0; nullopt when none.
  virtual Result<std::optional<GroupBaseline>> GetGroupBaseline(const std::string& group,
                                                                int64_t revision) = 0;
  // Every revision of the group, newest first.
  virtual Result<std::vector<GroupBaseline>> ListGroupBaselines(const std::string& group) = 0;

  // Retention (see the contract above); returns the objects removed.
  virtual Result<int64_t> PruneTrees(int64_t cutoff_ns) = 0;
  virtual Result<TreeStoreCounts> CountTrees() = 0;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_TREE_STORE_H_
