// Entry points of the driftwatch subcommands. Each takes the arguments after
// its own name and returns the process exit code (see cli_args.h).
#ifndef DRIFTWATCH_AGENT_COMMANDS_H_
#define DRIFTWATCH_AGENT_COMMANDS_H_

#include <string>
#include <vector>

#include "core/drift.h"

namespace driftwatch::cli {

int RunRulesCommand(const std::vector<std::string>& args);
int RunBaselineCommand(const std::vector<std::string>& args);
int RunCheckCommand(const std::vector<std::string>& args);
int RunScanCommand(const std::vector<std::string>& args);
int RunHistoryCommand(const std::vector<std::string>& args);

int RunPackagesCommand(const std::vector<std::string>& args);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_AGENT_COMMANDS_H_
