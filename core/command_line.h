// The argument layer of both executables, on CLI11: a Program is the tree of
// commands, each command file adds its own subcommand, options and action.
//
//   // In the command's own file (cli/agent_cmd.cc):
//   void AddHistoryCommand(CLI::App& root) {
//     auto o = std::make_shared<HistoryOptions>();
//     CLI::App* cmd = cmdline::AddCommand(root, "history", "drift found by earlier checks",
//                                         [o] { return RunHistory(*o); });
//     cmd->add_option("--limit", o->limit, "at most N events")
//         ->check(cmdline::PositiveInteger());
//   }
//
// Program::Run parses, answers --help and --version (exit 0), turns every
// mistake (unknown flag or command, stray argument, missing or bad value)
// into one line "PROGRAM COMMAND: MESSAGE" and a pointer to --help (exit 2),
// and runs the action of the last command given. The manual page and the
// bash completion come from the same tree (core/cli_docs.h).
//
// Thread-safety: built and run on main's thread.
#ifndef DRIFTWATCH_CORE_COMMAND_LINE_H_
#define DRIFTWATCH_CORE_COMMAND_LINE_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace driftwatch::cmdline {

// Exit codes of both executables (like diff and AIDE).
inline constexpr int kExitOk = 0;
inline constexpr int kExitDrift = 1;
inline constexpr int kExitError = 2;

// Sections of the manual page besides the ones the tree gives.
struct Manual {
  std::string title;        // the NAME line: "configuration drift detection agent"
  std::string description;  // paragraphs separated by blank lines
  std::string files;        // "PATH\tWHAT" lines
  std::string exit_status;  // paragraphs
  std::string see_also;     // "driftwatch-collector(8)"
};

class Program : public CLI::App {
 public:
  Program(std::string name, std::string description, Manual manual);

  // Parses args (argv without argv[0]) and runs the chosen command. Also
  // answers the hidden `--generate-man` and `--generate-completion bash`
  // (core/cli_docs.h). Returns the exit code.
  int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

  // The action of `app` when it is the last command given. Use AddCommand.
  void SetAction(const CLI::App* app, std::function<int()> action);
  bool HasAction(const CLI::App* app) const { return actions_.count(app) != 0; }

  const Manual& manual() const { return manual_; }

 private:
  // Runs the parse; the message of a mistake, empty when there is none.
  std::string Parse(std::vector<std::string> args, const CLI::App** leaf);

  std::map<const CLI::App*, std::function<int()>> actions_;
  Manual manual_;
};

// The Program at the root of `app`'s tree.
Program& ProgramOf(CLI::App& app);
// "driftwatch baseline create": the names from the root to `app`.
std::string CommandPath(const CLI::App* app);

// Adds command `name` under `parent`, running `run` when it is the last
// command given; returns it for its options and subcommands.
CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& summary,
                     std::function<int()> run);
// Adds a command that only groups subcommands (`baseline create|list|...`):
// given alone, it is an error listing them.
CLI::App* AddGroup(CLI::App& parent, const std::string& name, const std::string& summary);

// Value checks; the message of a bad value is "--FLAG: expected ..., not 'V'".
// An integer from min to max ("a positive integer" when min is 1 and max is
// unbounded).
CLI::Validator IntegerRange(int64_t min, int64_t max);
CLI::Validator PositiveInteger();
// One of `values`: "expected text or json, not 'yaml'".
CLI::Validator OneOf(std::vector<std::string> values);
// A duration as core/duration.h reads it ("30d", "2h", "15m", "30s").
CLI::Validator Duration();
// A value that is not empty.
CLI::Validator NonEmpty();

// "text|json": the type name of an option taking one of `values` (shown in
// usage, completed by the bash completion).
std::string Choices(const std::vector<std::string>& values);

}  // namespace driftwatch::cmdline

#endif  // DRIFTWATCH_CORE_COMMAND_LINE_H_
