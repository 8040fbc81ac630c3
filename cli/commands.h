// Entry points of the driftwatch subcommands. Each takes the arguments after
// its own name and returns the process exit code (see cli_args.h).
#ifndef DRIFTWATCH_CLI_COMMANDS_H_
#define DRIFTWATCH_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "core/drift.h"

namespace driftwatch::cli {

int RunRulesCommand(const std::vector<std::string>& args);
int RunBaselineCommand(const std::vector<std::string>& args);
int RunCheckCommand(const std::vector<std::string>& args);
int RunScanCommand(const std::vector<std::string>& args);
int RunHistoryCommand(const std::vector<std::string>& args);

// `check --report`: queues the check's report in the outbox and delivers
// what is queued. Returns an exit code: kExitOk when queued (delivery may
// still be pending), kExitError otherwise. Defined in cli/check_report.cc,
// linked into the executable (it joins the agent and reporting libraries).
int ReportCheck(const std::string& db_path, const CheckResult& result);

// Adds the drift of the host's running containers (all runtimes) to a check
// of the host; failures become warnings. Roots that are not overlayfs are
// compared with baselines in the agent store at db_path. Defined in
// agent/check_containers.cc, linked into the executable (it joins the agent
// and container libraries).
void AddContainerDrift(const std::string& db_path, CheckResult* result);
int RunPackagesCommand(const std::vector<std::string>& args);
int RunEnrollCommand(const std::vector<std::string>& args);
int RunDaemonCommand(const std::vector<std::string>& args);
int RunContainerCommand(const std::vector<std::string>& args);
int RunContainersCommand(const std::vector<std::string>& args);
int RunStatusCommand(const std::vector<std::string>& args);  // status_cmd.cc
int RunDbCommand(const std::vector<std::string>& args);      // db_cmd.cc

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_COMMANDS_H_
