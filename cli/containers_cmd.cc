// `driftwatch containers`: every running container on the host, any
// runtime, named and tied to its image (cli/container_scan.h), with its drift.
#include <unistd.h>

#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/container_scan.h"
#include "cli/output.h"
#include "container/report.h"
#include "container/state.h"

namespace driftwatch::cli {
namespace {

struct ContainersFlags {
  std::string format = "text";
  std::string state_dir = container::StateDir::DefaultPath();
  std::string proc = "/proc";
  std::string db;
  report::ContainerRoots roots;
};

int Containers(const ContainersFlags& f) {
  ContainerScanOptions o;
  o.db_path = f.db;
  o.proc = f.proc;
  o.state_dir = f.state_dir;
  o.roots = f.roots;
  // Images and non-overlay roots are baselined in the agent store, which
  // only root writes.
  o.baselines = geteuid() == 0;
  o.record_roots = false;  // a container's own root baseline is the first check's
  auto scan = ScanContainers(o);
  if (!scan.ok()) return Fail(scan.status());
  for (const std::string& w : scan->warnings) std::cerr << "warning: " << w << "\n";
  if (f.format == "json") {
    std::cout << container::DiscoveredJson(scan->found, scan->rows).serialize() << "\n";
  } else {
    std::cout << container::DiscoveredText(scan->found, scan->rows);
  }
  return kExitOk;
}

}  // namespace

void AddContainersCommand(CLI::App& root) {
  auto f = std::make_shared<ContainersFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "containers",
      "running containers of any runtime: name, image, digests, labels and drift",
      [f] { return Containers(*f); });
  AddFormatFlag(cmd, &f->format);
  cmd->add_option("--state-dir", f->state_dir, "driftwatch's own containers' state")
      ->type_name("DIR");
  cmd->add_option("--proc", f->proc, "the proc file system to read (default /proc)")
      ->type_name("DIR");
  cmd->add_option("--db", f->db,
                  "the agent store, where images and non-overlay roots are baselined "
                  "(default $DRIFTWATCH_DB, else /var/lib/driftwatch/agent.db)")
      ->type_name("PATH");
  AddContainerRootFlags(cmd, &f->roots);
}

}  // namespace driftwatch::cli
