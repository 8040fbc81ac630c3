// The driftwatch command's arguments: the program's command tree (built from
// every command file's Add*Command, cli/commands.h) on the argument layer
// both executables share (core/command_line.h), and the flags several
// commands have in common.
//
// Thread-safety: not shared between threads.
#ifndef DRIFTWATCH_CLI_CLI_ARGS_H_
#define DRIFTWATCH_CLI_CLI_ARGS_H_

#include <memory>
#include <string>

#include "core/command_line.h"
#include "core/status.h"

namespace driftwatch::cli {

// Exit codes shared by all commands (like diff and AIDE).
using cmdline::kExitDrift;
using cmdline::kExitError;
using cmdline::kExitOk;

// The driftwatch program with every command.
std::unique_ptr<cmdline::Program> MakeProgram();

// --format text|json into *format (default text).
void AddFormatFlag(CLI::App* cmd, std::string* format);
// --db FILE, the agent store, into *db.
void AddDbFlag(CLI::App* cmd, std::string* db);

// Prints "driftwatch: <message>" to stderr and returns kExitError.
int Fail(const Status& status);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_CLI_ARGS_H_
