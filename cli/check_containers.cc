// `driftwatch check` on a host also covers its running containers: the
// upper-layer drift of containers this launcher runs and of those of other
// runtimes found through /proc (container/discovery.h), and for containers
// whose root is not overlayfs a scan of the root against its baseline in
// the agent store (cli/tree_baseline.h).
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/tree_baseline.h"
#include "container/discovery.h"
#include "container/state.h"

namespace driftwatch::cli {

void AddContainerDrift(const std::string& db_path, CheckResult* result) {
  if (geteuid() != 0) {
    result->warnings.push_back("containers: not checked (needs root)");
    return;
  }
  container::DiscoverOptions options;
  options.host = &DefaultHost();
  struct stat st;
  const std::string state = container::StateDir::DefaultPath();
  if (::stat(state.c_str(), &st) == 0) options.state_dir = state;
  auto found = container::DiscoverContainers(options);
  if (!found.ok()) {
    result->warnings.push_back("containers: " + found.status().message());
    return;
  }
  result->containers.emplace();  // the inventory (docs/wire.md)
  for (container::DiscoveredContainer& c : *found) {
    const std::string label = container::ContainerLabel(c);
    if (NeedsRootScan(c)) {
      TreeBaselineOptions tree{db_path, "", CurrentUser()};
      AddRootDrift(tree, options.proc, label, &c, &result->warnings);
    }
    result->containers->push_back(
        {label, c.id, c.runtime, c.image, c.image_digest.IsZero() ? "" : c.image_digest.Hex(),
         c.drift_known, c.drift_known ? static_cast<int64_t>(c.events.size()) : 0});
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
