// driftwatch daemon: scheduled checks reported to the collector.
#include <iostream>

#include "agent/cli_args.h"
#include "agent/commands.h"
#include "agent/report/agent_config.h"
#include "agent/report/daemon.h"

namespace driftwatch::cli {

int RunDaemonCommand(const std::vector<std::string>& args) {
  auto parsed = Args::Parse(args, {{"config"}, {"help", false}});
  if (!parsed.ok()) return Fail(parsed.status());
  if (parsed->Has("help")) {
    std::cout << "usage: driftwatch daemon [--config /etc/driftwatch/agent.yaml]\n";
    return kExitOk;
  }
  const std::string path = parsed->GetOr("config", report::kDefaultAgentConfig);
  auto config = report::LoadDaemonConfig(DefaultHost(), path);
  if (!config.ok()) return Fail(config.status());
  // AddContainerDrift is linked from the driftwatch executable (commands.h).
  const std::string db = config->db;
  report::Daemon daemon(path, std::move(config).value(),
                        [db](CheckResult* result) { AddContainerDrift(db, result); });
  return daemon.Run();
}

}  // namespace driftwatch::cli
