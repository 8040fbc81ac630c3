#include "core/command_line.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include "core/cli_docs.h"
#include "core/duration.h"

namespace driftwatch::cmdline {
namespace {

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

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsWord(std::string_view s) {
  return !s.empty() &&
         std::none_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

bool IsNumber(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// `s` is "NUMBER" + `between` + "...": the text after `between`.
std::optional<std::string_view> AfterNumber(std::string_view s, std::string_view between) {
  const size_t end = s.find(' ');
  if (end == std::string_view::npos || !IsNumber(s.substr(0, end))) return std::nullopt;
  if (!StartsWith(s.substr(end), between)) return std::nullopt;
  return s.substr(end + between.size());
}

// A value for a message: long ones (a value can be any size) are cut.
std::string Quote(std::string_view s) {
  constexpr size_t kShown = 64;
  if (s.size() <= kShown) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kShown)) + "...' (" + std::to_string(s.size()) +
         " characters)";
}

// CLI11's words for a mistake, in driftwatch's. Plain string checks: the
// text holds the user's value, which can be any size.
std::string Explain(const CLI::ParseError& e) {
  const std::string m = e.what();
  const std::string_view text = m;
  // "--db: 1 required FILE missing", "--db: At Most 1 required but received 2"
  const size_t colon = text.find(": ");
  if (colon != std::string_view::npos && IsWord(text.substr(0, colon))) {
    const std::string name(text.substr(0, colon));
    const std::string_view rest = text.substr(colon + 2);
    constexpr std::string_view kMissing = " missing";
    if (auto type = AfterNumber(rest, " required "); type && EndsWith(*type, kMissing)) {
      const std::string_view word = type->substr(0, type->size() - kMissing.size());
      if (IsWord(word)) return name + ": expected a value (" + std::string(word) + ")";
    }
    if (StartsWith(rest, "At Most ")) {
      auto received = AfterNumber(rest.substr(8), " required but received ");
      if (received && IsNumber(*received)) return name + ": given more than once";
    }
  }
  // "Could not convert: --print-config = maybe"
  constexpr std::string_view kConvert = "Could not convert: ";
  if (StartsWith(text, kConvert)) {
    const std::string_view rest = text.substr(kConvert.size());
    const size_t eq = rest.find(" = ");
    if (eq != std::string_view::npos && IsWord(rest.substr(0, eq))) {
      const std::string_view value = rest.substr(eq + 3);
      if (value.find('\n') == std::string_view::npos) {
        return std::string(rest.substr(0, eq)) + ": not a valid value: " + Quote(value);
      }
    }
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
        return "unknown command " + Quote(arg) + " (expected " + SubcommandNames(app) + ")";
      }
      return "unexpected argument " + Quote(arg);
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

std::string CommandPath(const CLI::App* app) {
  std::string path = app->get_name();
  for (const CLI::App* p = app->get_parent(); p != nullptr; p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
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
