// `driftwatch packages`: installed packages, and `packages verify`:
// package-owned files that differ from the package managers' checksums.
//
//   driftwatch packages [--root DIR] [--format text|json]
//   driftwatch packages verify [--root DIR] [--format text|json] [--jobs N]
//                              [--full] [--cache FILE | --no-cache]
//
// Exit codes: 0 clean (or a listing), 1 differences found, 2 error.
// AddPackagesCommand (cli/commands.h) is AddPackages on DefaultHost() with
// std::cout and std::cerr.
//
// Thread-safety: not shared between threads.
#ifndef DRIFTWATCH_CLI_PACKAGES_CMD_H_
#define DRIFTWATCH_CLI_PACKAGES_CMD_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "core/host.h"

namespace driftwatch::cli {

// Adds `packages` and `packages verify` under `root`. With `tty`, verify
// draws a progress line on `err`.
void AddPackages(CLI::App& root, Host& host, std::ostream& out, std::ostream& err,
                 bool tty = false);

// `driftwatch packages ARGS...` alone, as the driftwatch program runs it.
int RunPackages(const std::vector<std::string>& args, Host& host, std::ostream& out,
                std::ostream& err);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_PACKAGES_CMD_H_
