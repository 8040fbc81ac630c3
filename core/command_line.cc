#include "core/command_line.h"

#include <algorithm>
#include <charconv>
#include <regex>
#include <utility>

#include "core/cli_docs.h"
#include "core/duration.h"

namespace driftwatch::cmdline {
namespace {

// "driftwatch baseline create": the names from the root to `app`.
std::string CommandPath(const CLI::App* app) {
  std::string path = app->get_name();
  for (const CLI::App* p = app->get_parent(); p != nullptr; p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

// The commands given, root first.
std::vector<const CLI::App*> Chain(const CLI::App* root) {
  std::vector<const CLI::App*> chain = {root};
  while (!chain.back()->get_subcommands().empty()) {
    chain.push_back(chain.back()->get_subcommands().front());
  }
  return chain;
}

std::string SubcommandNames(const CLI::App* app) {
  std::string names;
  for (const CLI::App* sub : app->get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return names;
}

bool HasPositionals(const CLI::App* app) {
  return !app->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
}

// CLI11's words for a mistake, in driftwatch's.
std::string Explain(const CLI::ParseError& e) {
  const std::string m = e.what();
  std::smatch sm;
  static const std::regex kMissing(R"(^(\S+): \d+ required (\S+) missing$)");
  static const std::regex kTwice(R"(^(\S+): At Most \d+ required but received \d+$)");
  static const std::regex kConvert(R"(^Could not convert: (\S+) = (.*)$)");
  if (std::regex_match(m, sm, kMissing)) {
    return sm[1].str() + ": expected a value (" + sm[2].str() + ")";
  }
  if (std::regex_match(m, sm, kTwice)) return sm[1].str() + ": given more than once";
  if (std::regex_match(m, sm, kConvert)) {
    return sm[1].str() + ": not a valid value: '" + sm[2].str() + "'";
  }
  return m;
}

// The first argument nothing took, as a message; empty when all were taken.
std::string Leftover(const std::vector<const CLI::App*>& chain) {
  for (const CLI::App* app : chain) {
    for (const std::string& arg : app->remaining(false)) {
      if (arg == "--") continue;  // CLI11 keeps the marker itself
      if (arg.size() > 1 && arg[0] == '-') {
        return "unknown flag " + arg.substr(0, arg.find('='));
      }
      if (app == chain.back() && !app->get_subcommands({}).empty() && !HasPositionals(app)) {
        return "unknown command '" + arg + "' (expected " + SubcommandNames(app) + ")";
      }
      return "unexpected argument '" + arg + "'";
    }
  }
  return "";
}

// Flags of a command given before one of its subcommands: they would be
// ignored, so they are refused.
std::string MisplacedFlag(const std::vector<const CLI::App*>& chain) {
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    for (const CLI::Option* o : chain[i]->get_options()) {
      if (o->count() > 0 && o != chain[i]->get_help_ptr() && !o->get_positional()) {
        return o->get_name() + ": not a flag of '" + CommandPath(chain.back()) +
               "'; give the command's flags after it";
      }
    }
  }
  return "";
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A repeatable flag takes one value each time it is given (--path A --path
// B), so that the next word is an argument again: `--volume A:/a IMAGE`.
void OneValuePerFlag(CLI::App* app) {
  for (CLI::Option* o : app->get_options()) {
    if (!o->get_positional()) o->allow_extra_args(false);
  }
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    OneValuePerFlag(sub);
  }
}

}  // namespace

Program::Program(std::string name, std::string description, Manual manual)
    : CLI::App(std::move(description), std::move(name)), manual_(std::move(manual)) {
  allow_extras();
  set_help_flag("-h,--help", "print this usage and exit");
  set_version_flag("--version", get_name() + " " + DRIFTWATCH_VERSION, "print the version");
  get_formatter()->column_width(32);
}

void Program::SetAction(const CLI::App* app, std::function<int()> action) {
  actions_[app] = std::move(action);
}

std::string Program::Parse(std::vector<std::string> args, const CLI::App** leaf) {
  std::reverse(args.begin(), args.end());
  OneValuePerFlag(this);
  try {
    parse(args);
  } catch (const CLI::RequiredError& e) {
    // Checked after every argument was read: an unknown flag on the line
    // is the better message.
    const std::vector<const CLI::App*> chain = Chain(this);
    *leaf = chain.back();
    if (std::string m = Leftover(chain); !m.empty()) return m;
    throw;
  } catch (const CLI::ParseError&) {
    *leaf = Chain(this).back();
    throw;
  }
  const std::vector<const CLI::App*> chain = Chain(this);
  *leaf = chain.back();
  if (std::string m = Leftover(chain); !m.empty()) return m;
  if (std::string m = MisplacedFlag(chain); !m.empty()) return m;
  if (!HasAction(*leaf)) {
    return chain.size() == 1 ? "expected a command: " + SubcommandNames(*leaf)
                             : "expected a subcommand: " + SubcommandNames(*leaf);
  }
  return "";
}

int Program::Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() == 1 && args[0] == "--generate-man") {
    out << ManPage(*this);
    return kExitOk;
  }
  if (!args.empty() && args[0] == "--generate-completion") {
    if (args.size() == 2 && args[1] == "bash") {
      out << BashCompletion(*this);
      return kExitOk;
    }
    err << get_name() << ": --generate-completion: expected bash\n";
    return kExitError;
  }
  const CLI::App* leaf = this;
  std::string mistake;
  try {
    mistake = Parse(args, &leaf);
  } catch (const CLI::CallForHelp&) {
    out << help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    mistake = Explain(e);
  }
  if (!mistake.empty()) {
    if (args.empty() && leaf == this) {
      err << help();
      return kExitError;
    }
    const std::string path = CommandPath(leaf);
    err << path << ": " << mistake << "\nrun '" << path << " --help' for usage\n";
    return kExitError;
  }
  return actions_.at(leaf)();
}

Program& ProgramOf(CLI::App& app) {
  CLI::App* root = &app;
  while (root->get_parent() != nullptr) root = root->get_parent();
  return dynamic_cast<Program&>(*root);
}

CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& summary,
                     std::function<int()> run) {
  CLI::App* cmd = parent.add_subcommand(name, summary);
  cmd->allow_extras();
  ProgramOf(parent).SetAction(cmd, std::move(run));
  return cmd;
}

CLI::App* AddGroup(CLI::App& parent, const std::string& name, const std::string& summary) {
  CLI::App* cmd = parent.add_subcommand(name, summary);
  cmd->allow_extras();
  return cmd;
}

CLI::Validator IntegerRange(int64_t min, int64_t max) {
  std::string expected = min == 1 && max == INT64_MAX ? "a positive integer"
                                                      : "an integer from " + std::to_string(min) +
                                                            " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, expected](std::string& text) -> std::string {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < min ||
            v > max) {
          return "expected " + expected + ", not " + Quote(text);
        }
        return "";
      },
      "", "integer range");
}

CLI::Validator PositiveInteger() { return IntegerRange(1, INT64_MAX); }

CLI::Validator OneOf(std::vector<std::string> values) {
  std::string expected;
  for (size_t i = 0; i < values.size(); ++i) {
    expected += (i == 0 ? "" : i + 1 == values.size() ? " or " : ", ") + values[i];
  }
  return CLI::Validator(
      [values, expected](std::string& text) -> std::string {
        if (std::find(values.begin(), values.end(), text) != values.end()) return "";
        return "expected " + expected + ", not " + Quote(text);
      },
      "", "one of");
}

CLI::Validator Duration() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (ParseDurationNs(text).ok()) return "";
        return "expected a duration like 30d, 12h, 15m or 30s, not " + Quote(text);
      },
      "", "duration");
}

CLI::Validator NonEmpty() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return text.empty() ? "expected a value that is not empty" : "";
      },
      "", "non-empty");
}

std::string Choices(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : "|") + v;
  return out;
}

}  // namespace driftwatch::cmdline
