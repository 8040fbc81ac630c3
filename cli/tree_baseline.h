// Container trees in the agent store (docs/containers.md, "Baselines in the
// agent store"): an image's tree recorded as baseline "image:NAME@DIGEST" at
// import, and the root of a container whose root is not overlayfs (another
// runtime's plain directory or bind mount) scanned through /proc/PID/root and
// compared with baseline "container:RUNTIME:ID".
//
// Trees are scanned with the agent's scanner (agent::ScanTree) and the
// container rules (rules/default/container.yaml, or $DRIFTWATCH_CONTAINER_RULES)
// into the agent's SQLite store, so `driftwatch baseline list/show` list
// them like any other baseline and drift is classified by the same rules.
// Every open below the scanned root is confined to it: one name at a time
// through openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS), so no symlink inside a container's tree can lead
// the scan to the host's files.
//
// Errors: the store's and the rules' errors pass through; a root that cannot
// be opened is kNotFound/kPermissionDenied. Files that vanish during a scan
// are warnings.
//
// Thread-safety: each call opens its own store handle.
#ifndef DRIFTWATCH_CLI_TREE_BASELINE_H_
#define DRIFTWATCH_CLI_TREE_BASELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "container/discovery.h"
#include "core/drift.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::cli {

// $DRIFTWATCH_CONTAINER_RULES, else /etc/driftwatch/container.yaml when it
// exists, else the container.yaml installed with driftwatch (or the one in
// the source tree of this build).
std::string ContainerRulesPath();

struct TreeBaselineOptions {
  std::string db_path;     // agent store; "" = agent::DefaultDbPath()
  std::string rules_path;  // "" = ContainerRulesPath()
  std::string author;      // recorded with the baseline
};

struct ImageBaseline {
  std::string baseline;  // "image:NAME@DIGEST"
  Hash128 digest;        // the scanned tree's Merkle root
  uint64_t entries = 0;  // files + directories + others scanned
};

// Scans the image tree at `rootfs` and records it as the next revision of
// baseline "image:NAME@DIGEST". The digest is the root of that tree.
Result<ImageBaseline> RecordImageBaseline(const TreeBaselineOptions& options,
                                          const std::string& name, const std::string& rootfs);

// "image:NAME@DIGEST".
std::string ImageBaselineName(const std::string& image, const Hash128& digest);

// The root of the latest revision of baseline `name`; nullopt when there is
// none.
Result<std::optional<Hash128>> BaselineRoot(const TreeBaselineOptions& options,
                                            const std::string& name);

// Scans the tree at `root` (`root_label`: the path the snapshot records) and
// records it as the next revision of baseline `name` with `reason`.
Result<ImageBaseline> RecordTreeBaseline(const TreeBaselineOptions& options,
                                         const std::string& name, const std::string& root,
                                         const std::string& root_label, const std::string& reason);

// The outcome of comparing a tree with its baseline.
struct TreeDrift {
  std::string baseline;
  bool recorded = false;           // no baseline existed: this scan became it
  std::vector<DriftEvent> events;  // paths inside the tree ("/etc/passwd")
  std::vector<std::string> warnings;
};

// Scans `root` and compares it with the latest revision of baseline `name`;
// when there is none, records the scan as its first revision. Events under
// `excluded` (mount points inside the tree: volumes, /proc) are left out.
Result<TreeDrift> CheckTreeAgainstBaseline(const TreeBaselineOptions& options,
                                           const std::string& name, const std::string& root,
                                           const std::vector<std::string>& excluded);

// Compares `root` with an existing baseline (kNotFound when missing); never
// records anything.
Result<TreeDrift> DiffTreeWithBaseline(const TreeBaselineOptions& options, const std::string& name,
                                       const std::string& root,
                                       const std::vector<std::string>& excluded);

// "container:RUNTIME:ID": the baseline of a discovered container's root.
std::string ContainerBaselineName(const container::DiscoveredContainer& c);

// True for a discovered container whose root is not overlayfs (another
// file system, or a directory that is no mount point), so no layer diff is
// possible: its drift is CheckContainerRoot's.
bool NeedsRootScan(const container::DiscoveredContainer& c);

// Drift of such a container: its root is opened through PROC/PID/root (and
// the pid checked to still be in the same mount namespace), scanned, and
// compared with baseline `name` (ContainerBaselineName(c) or its image's);
// the first check records it. Mount points below the root and the runtime's
// declared mounts (c.excluded) are excluded.
// With `record` false a missing baseline is kNotFound and nothing is
// recorded.
Result<TreeDrift> CheckContainerRoot(const TreeBaselineOptions& options,
                                     const container::DiscoveredContainer& c,
                                     const std::string& proc, const std::string& name,
                                     bool record = true);

// For a container NeedsRootScan(): runs CheckContainerRoot against
// `baseline` ("" = ContainerBaselineName(c)) and fills in c->drift_known and
// c->events. The first check (baseline recorded) and the scan's warnings
// are added to `warnings` as "container LABEL: ..."; a failure becomes
// c->note and drift stays unknown. With `record` false (listing only) a
// missing baseline is a note saying the first check records it.
void AddRootDrift(const TreeBaselineOptions& options, const std::string& proc,
                  const std::string& label, container::DiscoveredContainer* c,
                  std::vector<std::string>* warnings, const std::string& baseline = "",
                  bool record = true);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_TREE_BASELINE_H_
