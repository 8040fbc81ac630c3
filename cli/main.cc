// The driftwatch command: its commands (cli/commands.h) on the argument
// layer of core/command_line.h.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_args.h"
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

}  // namespace

int main(int argc, char** argv) {
  // One registration per command, in its own file (cli/commands.h).
  auto program = driftwatch::cli::MakeProgram();
  return program->Run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
