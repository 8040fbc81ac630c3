// The driftwatch command: dispatches to one subcommand per noun.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/service.h"

namespace {

// `driftwatch daemon` survives a SIGHUP from its first instruction
// (core/service.h); other commands keep the default action.
void IgnoreEarlyHangup(int argc, char** argv, char** /*envp*/) {
  driftwatch::service::IgnoreHangupEarly(argc, argv, "daemon");
}
// .preinit_array runs before the shared libraries' constructors, which
// take ~15 ms of a start here.
[[maybe_unused]] __attribute__((section(".preinit_array"),
                                used)) void (*const kIgnoreEarlyHangup)(int, char**,
                                                                        char**) = IgnoreEarlyHangup;

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>& args);
  const char* summary;
};

// One line per subcommand; each lives in its own *_cmd.cc.
const Command kCommands[] = {
    {"rules", driftwatch::cli::RunRulesCommand, "rules check FILE: validate a rule file"},
    {"baseline", driftwatch::cli::RunBaselineCommand, "baseline create|list|show|accept"},
    {"check", driftwatch::cli::RunCheckCommand, "compare this host with its baseline"},
    {"scan", driftwatch::cli::RunScanCommand, "snapshot now and print a summary"},
    {"history", driftwatch::cli::RunHistoryCommand, "drift found by earlier checks"},
    {"packages", driftwatch::cli::RunPackagesCommand, "installed packages; packages verify"},
    {"enroll", driftwatch::cli::RunEnrollCommand, "register this host with a collector"},
    {"daemon", driftwatch::cli::RunDaemonCommand, "scheduled checks reported to the collector"},
    {"container", driftwatch::cli::RunContainerCommand, "run containers; diff, deploy, rollback"},
    {"containers", driftwatch::cli::RunContainersCommand, "running containers of any runtime"},
    {"status", driftwatch::cli::RunStatusCommand, "enrollment, outbox, last check, baselines"},
    {"db", driftwatch::cli::RunDbCommand, "db check|recover: verify or rebuild the store"},
};

void Usage(std::ostream& out) {
  out << "usage: driftwatch COMMAND [ARGS...]\n\ncommands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
  }
  out << "\nexit status: 0 no drift, 1 drift found, 2 error\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    Usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? driftwatch::cli::kExitError : driftwatch::cli::kExitOk;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "driftwatch " << DRIFTWATCH_VERSION << "\n";
    return 0;
  }
  for (const Command& c : kCommands) {
    if (args[0] == c.name) {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    }
  }
  std::cerr << "driftwatch: unknown command '" << args[0] << "'\n";
  Usage(std::cerr);
  return driftwatch::cli::kExitError;
}
