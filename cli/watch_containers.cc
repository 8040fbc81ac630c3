// The container a process ran in, for realtime events: its cgroup names
// the runtime and id (container/cgroup_ident.h); the running containers
// (container/discovery.h, listed without diffing, named from the runtimes'
// state files) give the label `check` uses for it.
#include <sys/stat.h>

#include <map>
#include <mutex>

#include "cli/commands.h"
#include "container/cgroup_ident.h"
#include "container/discovery.h"
#include "container/state.h"
#include "core/host.h"

namespace driftwatch::cli {
namespace {

constexpr int64_t kRediscoverNs = 5'000'000'000;

class ContainerMatcher {
 public:
  explicit ContainerMatcher(report::ContainerRoots roots) : roots_(std::move(roots)) {}

  std::string Match(const std::string& cgroup) {
    std::optional<container::ContainerIdentity> who = container::IdentifyCgroupPath(cgroup);
    if (!who) return "";
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = who->runtime + ":" + who->id;
    auto it = labels_.find(key);
    const int64_t now = DefaultHost().MonotonicNs();
    if (it == labels_.end() && (last_ == 0 || now - last_ >= kRediscoverNs)) {
      last_ = now;
      Discover();
      it = labels_.find(key);
    }
    if (it != labels_.end()) return it->second;
    return who->runtime + ":" + who->id.substr(0, 12);
  }

 private:
  void Discover() {
    container::DiscoverOptions options;
    options.host = &DefaultHost();
    options.diff = false;
    options.runtimes.docker_roots = roots_.docker_roots;
    options.runtimes.containerd_roots = roots_.containerd_roots;
    options.runtimes.containerd_states = roots_.containerd_states;
    options.runtimes.storage_roots = roots_.storage_roots;
    struct stat st;
    const std::string state = container::StateDir::DefaultPath();
    if (::stat(state.c_str(), &st) == 0) options.state_dir = state;
    auto found = container::DiscoverContainers(options);
    if (!found.ok()) return;
    labels_.clear();
    for (const container::DiscoveredContainer& c : *found) {
      std::string label = container::ContainerLabel(c);
      if (label.find(':') == std::string::npos) label = c.runtime + ":" + label;
      labels_[c.runtime + ":" + c.id] = label;
    }
  }

  const report::ContainerRoots roots_;
  std::mutex mu_;  // guards labels_ and last_
  std::map<std::string, std::string> labels_;
  int64_t last_ = 0;
};

}  // namespace

std::function<std::string(const std::string&)> MakeContainerMatcher(
    const report::ContainerRoots& roots) {
  auto matcher = std::make_shared<ContainerMatcher>(roots);
  return [matcher](const std::string& cgroup) { return matcher->Match(cgroup); };
}

}  // namespace driftwatch::cli
