#include "cli/cli_args.h"

#include <iostream>

#include "cli/commands.h"

namespace driftwatch::cli {
namespace {

cmdline::Manual DriftwatchManual() {
  cmdline::Manual m;
  m.title = "configuration drift detection agent";
  m.description =
      "driftwatch records what a host's files, packages and running containers look like as a "
      "named baseline in a SQLite store, compares the host with it on demand (check) or on a "
      "schedule (daemon), and reports every divergence on the terminal and to a "
      "driftwatch-collector(8).\n"
      "\n"
      "Which paths are watched, with which attributes and severities, is set by a rule file "
      "(rules.yaml). Every command answers --help.";
  m.exit_status =
      "0: success, no drift.\n\n1: drift found (check, packages verify, container diff).\n\n"
      "2: an error, including a mistake on the command line.";
  m.files =
      "/var/lib/driftwatch/agent.db\tthe agent store: baselines, history, enrollment and outbox "
      "($DRIFTWATCH_DB overrides)\n"
      "/etc/driftwatch/rules.yaml\tthe host rules ($DRIFTWATCH_RULES overrides)\n"
      "/etc/driftwatch/container.yaml\tthe container rules\n"
      "/etc/driftwatch/agent.yaml\tthe daemon's configuration\n";
  m.see_also = "driftwatch-collector(8)";
  return m;
}

}  // namespace

std::unique_ptr<cmdline::Program> MakeProgram() {
  auto program = std::make_unique<cmdline::Program>(
      "driftwatch", "driftwatch: configuration drift detection", DriftwatchManual());
  program->footer("exit status: 0 no drift, 1 drift found, 2 error");
  for (void (*add)(CLI::App&) : kCommands) add(*program);
  return program;
}

void AddFormatFlag(CLI::App* cmd, std::string* format) {
  cmd->add_option("--format", *format, "output as text or json (default text)")
      ->type_name(cmdline::Choices({"text", "json"}))
      ->check(cmdline::OneOf({"text", "json"}));
}

void AddDbFlag(CLI::App* cmd, std::string* db) {
  cmd->add_option("--db", *db,
                  "the agent store (default $DRIFTWATCH_DB, else /var/lib/driftwatch/agent.db)")
      ->type_name("FILE");
}

int Fail(const Status& status) {
  std::cerr << "driftwatch: " << status.message() << "\n";
  return kExitError;
}

}  // namespace driftwatch::cli
