// The host's running containers with their identity and drift, as both
// `driftwatch containers` and `driftwatch check` report them: discovery
// from /proc joined with the runtimes' state files (container/discovery.h),
// the upper-layer diff of overlay roots, the image baselined once per image
// (cli/image_tree.h), and a confined scan of other roots against the image's
// baseline or the container's own (cli/tree_baseline.h).
//
// Errors: only a /proc that cannot be listed; everything else becomes a
// container's note or a warning.
//
// Thread-safety: not thread-safe; one call at a time per agent store.
#ifndef DRIFTWATCH_CLI_CONTAINER_SCAN_H_
#define DRIFTWATCH_CLI_CONTAINER_SCAN_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "container/discovery.h"
#include "core/drift.h"
#include "core/status.h"
#include "report/agent_config.h"

namespace driftwatch::cli {

struct ContainerScanOptions {
  std::string db_path;  // the agent store; "" = agent::DefaultDbPath()
  std::string proc = "/proc";
  std::string state_dir;         // this launcher's state; "" = the default when it exists
  report::ContainerRoots roots;  // added to what is found on the host
  // Images are baselined and roots scanned (needs root and the store);
  // false lists identity and upper-layer drift only.
  bool baselines = true;
  // A non-overlay root without a baseline of its own has its first scan
  // recorded as it (`check`); false leaves it unknown with a note
  // (`containers` only lists).
  bool record_roots = true;
};

struct ContainerScan {
  std::vector<container::DiscoveredContainer> found;  // events with container paths
  std::vector<ContainerInfo> rows;                    // found[i] as reports carry it
  std::vector<std::string> labels;                    // found[i]'s label (ContainerLabel)
  std::vector<std::string> warnings;                  // "container LABEL: ...", runtimes' notes
};

Result<ContainerScan> ScanContainers(const ContainerScanOptions& options);

// --docker-root DIR, --containerd-root DIR, --containerd-state DIR,
// --storage-root DIR, each repeatable, into `roots` (borrowed; it must
// outlive the command).
void AddContainerRootFlags(CLI::App* cmd, report::ContainerRoots* roots);

// `a` with `b`'s roots appended (the configuration's, then the flags').
report::ContainerRoots MergeContainerRoots(const report::ContainerRoots& a,
                                           const report::ContainerRoots& b);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_CONTAINER_SCAN_H_
