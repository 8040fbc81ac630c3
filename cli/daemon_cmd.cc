// driftwatch daemon: scheduled checks reported to the collector.
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "report/agent_config.h"
#include "report/daemon.h"

namespace driftwatch::cli {

int RunDaemonCommand(const std::vector<std::string>& args) {
  auto parsed = Args::Parse(args, {{"config"}, {"print-config", false}, {"help", false}});
  if (!parsed.ok()) return Fail(parsed.status());
  if (parsed->Has("help")) {
    std::cout << "usage: driftwatch daemon [--config /etc/driftwatch/agent.yaml] [--print-config]\n"
                 "Without --config a missing /etc/driftwatch/agent.yaml means every default.\n";
    return kExitOk;
  }
  // An explicit --config must exist; the default file only overrides.
  const bool required = parsed->Has("config");
  const std::string path = parsed->GetOr("config", report::kDefaultAgentConfig);
  auto config = report::LoadDaemonConfig(DefaultHost(), path, required);
  if (!config.ok()) return Fail(config.status());
  if (parsed->Has("print-config")) {
    std::cout << report::FormatDaemonConfig(*config);
    return kExitOk;
  }
  // AddContainerDrift is linked from the driftwatch executable (commands.h).
  report::Daemon daemon(
      DefaultHost(), path, required, std::move(config).value(),
      [](const std::string& db, CheckResult* result) { AddContainerDrift(db, result); });
  return daemon.Run();
}

}  // namespace driftwatch::cli
