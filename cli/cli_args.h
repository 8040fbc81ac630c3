// A small command-line flag parser shared by every driftwatch subcommand.
//
// Accepts "--name value", "--name=value", boolean "--name", repeated flags,
// and positionals; "--" ends flag parsing. Unknown flags are errors, so a
// typo never silently changes what a command does.
//
// Thread-safety: not shared between threads.
#ifndef DRIFTWATCH_CLI_CLI_ARGS_H_
#define DRIFTWATCH_CLI_CLI_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace driftwatch::cli {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value = true;
  bool repeated = false;
};

class Args {
 public:
  // Parses args (not including the command words) against specs.
  static Result<Args> Parse(const std::vector<std::string>& args,
                            const std::vector<FlagSpec>& specs);

  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  std::optional<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& fallback) const;
  const std::vector<std::string>& GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // Everything after a literal "--".
  const std::vector<std::string>& rest() const { return rest_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  std::vector<std::string> rest_;
};

// Exit codes shared by all commands (like diff and AIDE).
constexpr int kExitOk = 0;
constexpr int kExitDrift = 1;
constexpr int kExitError = 2;

// Prints "driftwatch: <message>" to stderr and returns kExitError.
int Fail(const Status& status);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_CLI_ARGS_H_
