// `driftwatch containers`: every running container on the host, any runtime.
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "container/discovery.h"
#include "container/report.h"
#include "container/state.h"

namespace driftwatch::cli {

int RunContainersCommand(const std::vector<std::string>& args) {
  auto a = Args::Parse(
      args, {{"format", true, false}, {"state-dir", true, false}, {"proc", true, false}});
  if (!a.ok()) return Fail(a.status());
  if (!a->positional().empty())
    return Fail(Status::InvalidArgument("containers takes no arguments"));
  std::string format = a->GetOr("format", "text");
  if (format != "text" && format != "json")
    return Fail(Status::InvalidArgument("--format must be text or json"));
  container::DiscoverOptions o;
  o.host = &DefaultHost();
  o.proc = a->GetOr("proc", "/proc");
  o.state_dir = a->GetOr("state-dir", container::StateDir::DefaultPath());
  auto found = container::DiscoverContainers(o);
  if (!found.ok()) return Fail(found.status());
  if (format == "json") {
    std::cout << container::DiscoveredJson(*found).serialize() << "\n";
  } else {
    std::cout << container::DiscoveredText(*found);
  }
  return kExitOk;
}

}  // namespace driftwatch::cli
