// driftwatch-collector: the fleet collector (docs/collector.md). Its
// commands are on the argument layer of core/command_line.h (cli.h).
#include <iostream>
#include <string>
#include <vector>

#include "collector/cli.h"
#include "core/host.h"
#include "core/service.h"

namespace driftwatch::collector {
namespace {

// The server survives a SIGHUP from its first instruction (core/service.h).
void IgnoreEarlyHangup(int argc, char** argv, char** /*envp*/) {
  service::IgnoreHangupEarly(argc, argv, "");
}
// .preinit_array runs before the shared libraries' constructors, which
// take ~15 ms of a start here.
[[maybe_unused]] __attribute__((section(".preinit_array"),
                                used)) void (*const kIgnoreEarlyHangup)(int, char**,
                                                                        char**) = IgnoreEarlyHangup;

}  // namespace
}  // namespace driftwatch::collector

int main(int argc, char** argv) {
  // Serve and the commands, each added by its own file (collector/cli.h).
  auto program = driftwatch::collector::cli::MakeProgram(driftwatch::DefaultHost());
  return program->Run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
