// Journal-driven scans: what a scan that reuses a previous snapshot needs to
// know about the paths that changed since, and how it keeps its counts equal
// to those of a full scan.
//
// A scan with ScanOptions::reuse lists only the directories that are dirty
// or lead to a dirty path; every other directory's entry (its subtree
// included) is taken from the base snapshot. Subtree hashes are content
// addresses, so the reused entries are exactly those a full scan would
// produce when the directory did not change, and the Merkle root is the
// same (docs/decisions.md, "Journal-driven checks").
//
// Thread-safety: ReuseState is used by the scan's worker threads; its
// counters are atomic and the base trees are read through a thread-safe
// TreeSource.
#ifndef DRIFTWATCH_AGENT_INCREMENTAL_H_
#define DRIFTWATCH_AGENT_INCREMENTAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/entry_counts.h"
#include "core/drift.h"
#include "core/entry.h"
#include "core/hash.h"
#include "core/status.h"
#include "core/tree_io.h"

namespace driftwatch::agent {

// A previous scan of the same tree with the same rules, and the logical
// paths that may differ from it.
struct ScanReuse {
  TreeSource* source = nullptr;                           // holds the base trees; not owned
  Hash128 root;                                           // Merkle root of the base scan
  ScanStats stats;                                        // its counts (files, dirs, others)
  std::vector<std::pair<std::string, Hash128>> subtrees;  // its top-level identities
  std::vector<std::string> dirty;  // sorted, unique logical paths (trees included)
  std::vector<std::string> trees;  // sorted, unique: scanned whole, without reuse
  // The base scan's warnings: those about paths this scan does not look at
  // again are still true and are kept (CarriedWarnings).
  std::vector<std::string> warnings;
};

// Whether `path` is a clean logical path: "/" or "/a/b" with no empty, "."
// or ".." component and no trailing slash.
bool IsCleanLogicalPath(std::string_view path);

// The reuse bookkeeping of one scan.
class ReuseState {
 public:
  explicit ReuseState(const ScanReuse& reuse);

  const ScanReuse& reuse() const { return reuse_; }
  // `path` is dirty, or a dirty path lies below it: it is examined.
  bool Leads(const std::string& path) const;
  // `path` was created or moved in: it and everything under it is scanned
  // without reuse.
  bool IsTree(const std::string& path) const;
  // The base snapshot's subtree identities at `dir` or below it (for a
  // reused directory, whose top-level watched directories are not walked).
  std::vector<std::pair<std::string, Hash128>> SubtreesUnder(const std::string& dir) const;

  // Counting. A journal-driven scan counts what it examines (and each reused
  // directory entry as one directory) and subtracts what it replaces in the
  // base: the direct entries of every listed base directory, and everything
  // below a base directory that is gone, replaced or rescanned whole. The
  // base counts plus the difference are the counts of a full scan.
  void SubtractEntries(const Tree& base_dir);
  // Subtracts everything below the base tree `id` (not `id`'s own entry).
  Status SubtractBelow(const Hash128& id);
  // The counts of a full scan, from those this scan saw.
  ScanStats Totals(const EntryCounts& seen) const;

  // Warnings. A directory with a base warning ("PATH: ...", an unreadable
  // directory say) is never reused, so the warning is made again when its
  // parent is listed. The base warnings about paths neither listed nor in a
  // listed directory are carried over.
  bool HasBaseWarning(const std::string& path) const;
  std::vector<std::string> CarriedWarnings(const std::vector<std::string>& listed_dirs) const;

 private:
  const ScanReuse& reuse_;
  std::vector<std::string> warned_;  // escaped paths of base warnings, sorted
  EntryCounts subtracted_;
};

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_INCREMENTAL_H_
