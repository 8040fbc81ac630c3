// The manual page and the bash completion of a program, generated from its
// command tree (core/command_line.h), so that they never disagree with
// what the program accepts. Each program prints them when run with
// `--generate-man` or `--generate-completion bash`; meson builds and installs
// both (share/man/man8, share/bash-completion/completions).
//
// Thread-safety: pure functions of the tree.
#ifndef DRIFTWATCH_CORE_CLI_DOCS_H_
#define DRIFTWATCH_CORE_CLI_DOCS_H_

#include <string>

#include "core/command_line.h"

namespace driftwatch::cmdline {

// The roff (man(7)) page, section 8: NAME, SYNOPSIS, DESCRIPTION, OPTIONS of
// the program, COMMANDS with each command's arguments and options, EXIT
// STATUS, FILES, SEE ALSO.
std::string ManPage(const Program& program);

// A bash completion script: commands, subcommands, flags, and the values of
// flags that take one of a few words ("text|json"); files elsewhere.
std::string BashCompletion(const Program& program);

}  // namespace driftwatch::cmdline

#endif  // DRIFTWATCH_CORE_CLI_DOCS_H_
