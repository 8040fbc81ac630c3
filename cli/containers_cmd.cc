// `driftwatch containers`: every running container on the host, any runtime.
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "container/discovery.h"
#include "container/report.h"
#include "container/state.h"

namespace driftwatch::cli {
namespace {

struct ContainersFlags {
  std::string format = "text";
  std::string state_dir = container::StateDir::DefaultPath();
  std::string proc = "/proc";
};

int Containers(const ContainersFlags& f) {
  container::DiscoverOptions o;
  o.host = &DefaultHost();
  o.proc = f.proc;
  o.state_dir = f.state_dir;
  auto found = container::DiscoverContainers(o);
  if (!found.ok()) return Fail(found.status());
  if (f.format == "json") {
    std::cout << container::DiscoveredJson(*found).serialize() << "\n";
  } else {
    std::cout << container::DiscoveredText(*found);
  }
  return kExitOk;
}

}  // namespace

void AddContainersCommand(CLI::App& root) {
  auto f = std::make_shared<ContainersFlags>();
  CLI::App* cmd = cmdline::AddCommand(root, "containers", "running containers of any runtime",
                                      [f] { return Containers(*f); });
  AddFormatFlag(cmd, &f->format);
  cmd->add_option("--state-dir", f->state_dir, "driftwatch's own containers' state")
      ->type_name("DIR");
  cmd->add_option("--proc", f->proc, "the proc file system to read (default /proc)")
      ->type_name("DIR");
}

}  // namespace driftwatch::cli
