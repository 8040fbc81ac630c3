#include "core/cli_docs.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

namespace driftwatch::cmdline {
namespace {

// Text for a roff line: backslashes and hyphens escaped, no control
// character at the start.
std::string Roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

// Paragraphs separated by blank lines, as roff.
std::string RoffParagraphs(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  bool blank = true;
  while (std::getline(in, line)) {
    if (line.empty()) {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ".PP\n";
    blank = false;
    out += Roff(line) + "\n";
  }
  return out;
}

bool Hidden(const CLI::Option* o) { return o->get_group().empty(); }

std::vector<const CLI::Option*> Flags(const CLI::App* app) {
  return app->get_options([app](const CLI::Option* o) {
    return !o->get_positional() && !Hidden(o) && o != app->get_help_ptr() &&
           o != app->get_version_ptr();
  });
}

std::vector<const CLI::Option*> Positionals(const CLI::App* app) {
  return app->get_options([](const CLI::Option* o) { return o->get_positional(); });
}

std::vector<const CLI::App*> Subcommands(const CLI::App* app) {
  return app->get_subcommands([](const CLI::App* a) { return !a->get_name().empty(); });
}

bool TakesValue(const CLI::Option* o) { return o->get_expected_max() > 0; }

// "[NAME]", "FILE...", "NAME".
std::string PositionalUsage(const CLI::Option* o) {
  std::string name = o->get_name();
  if (o->get_expected_max() > 1) name += "...";
  return o->get_required() ? name : "[" + name + "]";
}

// .TP entries for the flags of `app`.
void ManFlags(const CLI::App* app, std::ostream& out) {
  for (const CLI::Option* o : Flags(app)) {
    out << ".TP\n";
    std::string names;
    for (const std::string& s : o->get_snames()) {
      names += (names.empty() ? "" : ", ") + std::string("\\fB\\-") + Roff(s) + "\\fR";
    }
    for (const std::string& l : o->get_lnames()) {
      names += (names.empty() ? "" : ", ") + std::string("\\fB\\-\\-") + Roff(l) + "\\fR";
    }
    if (TakesValue(o)) names += " \\fI" + Roff(o->get_type_name()) + "\\fR";
    out << names << "\n" << Roff(o->get_description()) << "\n";
  }
}

void ManCommand(const CLI::App* app, std::ostream& out) {
  std::string usage = CommandPath(app);
  for (const CLI::Option* o : Positionals(app)) usage += " " + PositionalUsage(o);
  if (!Subcommands(app).empty()) usage += " COMMAND";
  if (!Flags(app).empty()) usage += " [OPTIONS]";
  out << ".SS \"" << Roff(usage) << "\"\n" << RoffParagraphs(app->get_description());
  for (const CLI::Option* o : Positionals(app)) {
    out << ".TP\n\\fI" << Roff(o->get_name()) << "\\fR\n" << Roff(o->get_description()) << "\n";
  }
  ManFlags(app, out);
  for (const CLI::App* sub : Subcommands(app)) ManCommand(sub, out);
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// --- bash completion ---

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> FlagNames(const CLI::Option* o) {
  std::vector<std::string> names;
  for (const std::string& s : o->get_snames()) names.push_back("-" + s);
  for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
  return names;
}

// Words of a "text|json" type name; empty for FILE and the like.
std::vector<std::string> Choices(const CLI::Option* o) {
  std::vector<std::string> words;
  const std::string t = o->get_type_name();
  if (t.find('|') == std::string::npos) return words;
  std::string w;
  std::istringstream in(t);
  while (std::getline(in, w, '|')) words.push_back(w);
  return words;
}

// The path of `app` below the root: "" for the root, "baseline create".
std::string TablePath(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a->get_parent() != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

void CompletionTables(const CLI::App* app, std::ostream& tables, std::ostream& values) {
  std::vector<std::string> subs, opts, vals;
  for (const CLI::App* sub : Subcommands(app)) subs.push_back(sub->get_name());
  const std::string path = TablePath(app);
  for (const CLI::Option* o : app->get_options()) {
    if (o->get_positional() || Hidden(o)) continue;
    for (const std::string& n : FlagNames(o)) {
      opts.push_back(n);
      if (!TakesValue(o)) continue;
      vals.push_back(n);
      const std::vector<std::string> words = Choices(o);
      const std::string type = o->get_type_name();
      if (!words.empty()) {
        values << "    \"" << path << " " << n << "\") COMPREPLY=($(compgen -W \"" << Join(words)
               << "\" -- \"$cur\")) ;;\n";
      } else if (type == "DIR") {
        values << "    \"" << path << " " << n << "\") COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n";
      }
    }
  }
  tables << "    \"" << path << "\") subs=\"" << Join(subs) << "\"; opts=\"" << Join(opts)
         << "\"; vals=\"" << Join(vals) << "\"; args=" << (Positionals(app).empty() ? 0 : 1)
         << " ;;\n";
  for (const CLI::App* sub : Subcommands(app)) CompletionTables(sub, tables, values);
}

}  // namespace

std::string ManPage(const Program& program) {
  const Manual& m = program.manual();
  const std::string name = program.get_name();
  std::ostringstream out;
  out << ".TH " << Upper(Roff(name)) << " 8 \"\" \"" << Roff(name) << " " << DRIFTWATCH_VERSION
      << "\" \"System Administration\"\n";
  out << ".SH NAME\n" << Roff(name) << " \\- " << Roff(m.title) << "\n";
  out << ".SH SYNOPSIS\n";
  if (program.HasAction(&program)) out << ".B " << Roff(name) << "\n.RI [ OPTIONS ]\n.br\n";
  out << ".B " << Roff(name) << "\n.I COMMAND\n.RI [ ARGUMENTS ]\n.RI [ OPTIONS ]\n";
  out << ".SH DESCRIPTION\n" << RoffParagraphs(m.description);
  out << ".SH OPTIONS\n";
  out << ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nprint the usage of the program or of the command "
         "it follows, and exit\n";
  out << ".TP\n\\fB\\-\\-version\\fR\nprint the version and exit\n";
  ManFlags(&program, out);
  out << ".SH COMMANDS\n";
  for (const CLI::App* sub : Subcommands(&program)) ManCommand(sub, out);
  out << ".SH \"EXIT STATUS\"\n" << RoffParagraphs(m.exit_status);
  if (!m.files.empty()) {
    out << ".SH FILES\n";
    std::istringstream in(m.files);
    std::string line;
    while (std::getline(in, line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;
      out << ".TP\n.I " << Roff(line.substr(0, tab)) << "\n" << Roff(line.substr(tab + 1)) << "\n";
    }
  }
  if (!m.see_also.empty()) out << ".SH \"SEE ALSO\"\n" << Roff(m.see_also) << "\n";
  return out.str();
}

std::string BashCompletion(const Program& program) {
  std::string fn = "_" + program.get_name();
  std::replace(fn.begin(), fn.end(), '-', '_');
  std::ostringstream tables, values;
  CompletionTables(&program, tables, values);
  std::ostringstream out;
  out << "# bash completion for " << program.get_name() << "; generated by `" << program.get_name()
      << " --generate-completion bash`.\n"
      << fn << "_tables() {\n  case \"$1\" in\n"
      << tables.str() << "    *) subs=\"\"; opts=\"\"; vals=\"\"; args=1 ;;\n  esac\n}\n\n"
      << fn << "() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      << "  local path=\"\" subs opts vals args i w skip=0\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    w=${COMP_WORDS[i]}\n"
      << "    if ((skip)); then skip=0; continue; fi\n"
      << "    [[ $w == -- ]] && { COMPREPLY=($(compgen -f -- \"$cur\")); return; }\n"
      << "    " << fn << "_tables \"$path\"\n"
      << "    case $w in\n"
      << "      -*=*) continue ;;\n"
      << "      -*) [[ \" $vals \" == *\" $w \"* ]] && skip=1; continue ;;\n"
      << "    esac\n"
      << "    [[ \" $subs \" == *\" $w \"* ]] && path=${path:+$path }$w\n"
      << "  done\n"
      << "  " << fn << "_tables \"$path\"\n"
      << "  if ((COMP_CWORD > 1)) && [[ \" $vals \" == *\" $prev \"* ]]; then\n"
      << "    case \"$path $prev\" in\n"
      << values.str() << "    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
      << "    esac\n"
      << "    return\n"
      << "  fi\n"
      << "  if [[ $cur == -* ]]; then\n"
      << "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
      << "  elif [[ -n $subs ]]; then\n"
      << "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
      << "  elif ((args)); then\n"
      << "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      << "  fi\n"
      << "}\n"
      << "complete -F " << fn << " " << program.get_name() << "\n";
  return out.str();
}

}  // namespace driftwatch::cmdline
