// driftwatch daemon: scheduled checks reported to the collector.
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/fs_events.h"
#include "report/agent_config.h"
#include "report/daemon.h"

namespace driftwatch::cli {
namespace {

struct DaemonFlags {
  std::string config;
  bool print_config = false;
};

int Daemon(const DaemonFlags& f) {
  // An explicit --config must exist; the default file only overrides.
  const bool required = !f.config.empty();
  const std::string path = required ? f.config : report::kDefaultAgentConfig;
  auto config = report::LoadDaemonConfig(DefaultHost(), path, required);
  if (!config.ok()) return Fail(config.status());
  if (f.print_config) {
    std::cout << report::FormatDaemonConfig(*config);
    return kExitOk;
  }
  // AddContainerDrift is linked from the driftwatch executable (commands.h).
  const report::ContainerRoots roots = config->containers;
  report::Daemon daemon(
      DefaultHost(), path, required, std::move(config).value(),
      [](const report::DaemonConfig& c, CheckResult* result) {
        AddContainerDrift(c.containers, c.db, result);
      },
      [] { return OpenFanotifySource(); }, MakeContainerMatcher(roots));
  return daemon.Run();
}

}  // namespace

void AddDaemonCommand(CLI::App& root) {
  auto f = std::make_shared<DaemonFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "daemon",
      "scheduled checks reported to the collector; SIGHUP reloads the configuration",
      [f] { return Daemon(*f); });
  cmd->add_option("--config", f->config,
                  std::string("the configuration; without it a missing ") +
                      report::kDefaultAgentConfig + " means every default")
      ->type_name("FILE");
  cmd->add_flag("--print-config", f->print_config,
                "print the configuration in effect (defaults included) and exit");
}

}  // namespace driftwatch::cli
