// `driftwatch check` on a host also covers its running containers: the
// upper-layer drift of containers this launcher runs and of those of other
// runtimes found through /proc and named by their state files
// (container/discovery.h), the images of those baselined once per image
// (cli/image_tree.h), and for containers whose root is not overlayfs a scan
// of the root against the image's baseline or its own (cli/tree_baseline.h).
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/container_scan.h"
#include "cli/image_tree.h"
#include "cli/output.h"
#include "cli/tree_baseline.h"
#include "container/state.h"

namespace driftwatch::cli {

Result<ContainerScan> ScanContainers(const ContainerScanOptions& options) {
  container::DiscoverOptions discover;
  discover.host = &DefaultHost();
  discover.proc = options.proc;
  discover.state_dir = options.state_dir;
  if (discover.state_dir.empty()) {
    struct stat st;
    const std::string state = container::StateDir::DefaultPath();
    if (::stat(state.c_str(), &st) == 0) discover.state_dir = state;
  }
  discover.runtimes.docker_roots = options.roots.docker_roots;
  discover.runtimes.containerd_roots = options.roots.containerd_roots;
  discover.runtimes.containerd_states = options.roots.containerd_states;
  discover.runtimes.storage_roots = options.roots.storage_roots;
  ContainerScan out;
  std::vector<std::string> notes;
  discover.notes = &notes;
  DW_ASSIGN_OR_RETURN(out.found, container::DiscoverContainers(discover));
  for (const std::string& n : notes) out.warnings.push_back("containers: " + n);

  TreeBaselineOptions tree{options.db_path, "", CurrentUser()};
  ImageTrees images(tree);
  for (container::DiscoveredContainer& c : out.found) {
    const std::string label = container::ContainerLabel(c);
    std::vector<std::string> warnings;
    if (options.baselines && c.identity) {
      if (c.layers) {
        auto t = images.OverlayImageTree(c, &warnings);
        if (t.ok()) {
          c.image_tree = *t;
        } else if (t.status().code() != StatusCode::kNotFound) {
          warnings.push_back("image not baselined: " + t.status().ToString());
        }
      } else if (NeedsRootScan(c) && KeepsFullCopies(*c.identity)) {
        auto b = images.FullCopyBaseline(c, &warnings);
        if (b.ok()) c.image_tree = b->tree;
        if (!b.ok()) warnings.push_back("image not baselined: " + b.status().ToString());
      }
    }
    if (options.baselines && NeedsRootScan(c)) {
      std::string baseline;
      if (!c.image_tree.empty() && c.identity && KeepsFullCopies(*c.identity))
        baseline = RuntimeImageBaselineName(*c.identity);
      AddRootDrift(tree, options.proc, label, &c, &out.warnings, baseline, options.record_roots);
    }
    for (const std::string& w : warnings) out.warnings.push_back("container " + label + ": " + w);
    out.rows.push_back(container::ContainerInfoOf(c));
    out.labels.push_back(label);
  }
  return out;
}

void AddContainerRootFlags(CLI::App* cmd, report::ContainerRoots* roots) {
  cmd->add_option("--docker-root", roots->docker_roots,
                  "a Docker data root to read besides those found (repeatable)")
      ->type_name("DIR");
  cmd->add_option("--containerd-root", roots->containerd_roots,
                  "a containerd root to read besides those found (repeatable)")
      ->type_name("DIR");
  cmd->add_option("--containerd-state", roots->containerd_states,
                  "a containerd state directory to read besides those found (repeatable)")
      ->type_name("DIR");
  cmd->add_option("--storage-root", roots->storage_roots,
                  "a containers/storage root (podman, CRI-O) to read besides those found "
                  "(repeatable)")
      ->type_name("DIR");
}

report::ContainerRoots MergeContainerRoots(const report::ContainerRoots& a,
                                           const report::ContainerRoots& b) {
  report::ContainerRoots out = a;
  auto add = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  add(out.docker_roots, b.docker_roots);
  add(out.containerd_roots, b.containerd_roots);
  add(out.containerd_states, b.containerd_states);
  add(out.storage_roots, b.storage_roots);
  return out;
}

void AddContainerDrift(const report::ContainerRoots& roots, const std::string& db_path,
                       CheckResult* result) {
  if (geteuid() != 0) {
    result->warnings.push_back("containers: not checked (needs root)");
    return;
  }
  ContainerScanOptions options;
  options.db_path = db_path;
  options.roots = roots;
  auto scan = ScanContainers(options);
  if (!scan.ok()) {
    result->warnings.push_back("containers: " + scan.status().message());
    return;
  }
  result->warnings.insert(result->warnings.end(), scan->warnings.begin(), scan->warnings.end());
  result->containers = scan->rows;  // the inventory (docs/wire.md)
  for (size_t i = 0; i < scan->found.size(); ++i) {
    container::DiscoveredContainer& c = scan->found[i];
    const std::string& label = scan->labels[i];
    if (!c.drift_known) {
      if (!c.note.empty()) result->warnings.push_back("container " + label + ": " + c.note);
      continue;
    }
    for (DriftEvent& e : c.events) {
      e.path = "container:" + label + ":" + e.path;
      if (e.rule.empty()) e.rule = "container upper layer";
      result->events.push_back(std::move(e));
    }
  }
}

}  // namespace driftwatch::cli
