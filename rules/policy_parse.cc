// The YAML front end of the rule language: documents -> Rules -> Policy.
// yaml-cpp throws; every exception is caught in ParsePolicy().
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "rules/attr_sets.h"
#include "rules/include_path.h"
#include "rules/policy.h"

namespace driftwatch::rules {
namespace {

Status ErrorAt(const std::string& file, const YAML::Mark& mark, std::string_view what,
               StatusCode code = StatusCode::kInvalidArgument) {
  const int line = mark.is_null() ? 1 : mark.line + 1;
  const int col = mark.is_null() ? 1 : mark.column + 1;
  std::string m = file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  m.append(what);
  return Status(code, std::move(m));
}

std::string Quoted(std::string_view s) {
  std::string out = "'";
  out.append(s);
  out += "'";
  return out;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool ValidSetName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Records where documents start and nothing else.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;
};

// Where a second YAML document starts, if there is one. yaml-cpp 0.7's
// LoadAll() loops forever on some malformed input (a lone ","), so the
// parser is driven by hand, at most two documents far.
Result<std::optional<YAML::Mark>> SecondDocument(std::string_view text, const std::string& name) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  DocumentCounter counter;
  try {
    for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
    }
  } catch (const YAML::Exception& e) {
    return ErrorAt(name, e.mark, "invalid YAML: " + e.msg);
  }
  if (counter.starts.size() < 2) return std::optional<YAML::Mark>();
  return std::optional<YAML::Mark>(counter.starts[1]);
}

// A map's entries with their keys checked: strings, known, not repeated.
struct Field {
  YAML::Node key;
  YAML::Node value;
  // Where to point at the value: a missing value ("path:") has no position
  // of its own (yaml-cpp marks the next token), so point at its key.
  YAML::Mark Where() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

class Loader {
 public:
  explicit Loader(const ReadFileFn& read_file) : read_file_(read_file) {}

  // Loads one file, its includes first. Recursion is bounded by
  // kMaxIncludeDepth.
  Status LoadFile(std::string_view text, const std::string& name, int depth);

  std::vector<Rule> rules_;
  std::optional<Severity> package_upgrades_;
  std::vector<std::string> files_;

 private:
  struct SetDef {
    uint32_t mask;
    std::string origin;  // "" for built-ins
  };

  Status Fields(const std::string& file, const YAML::Node& map,
                std::initializer_list<std::string_view> known, std::string_view where,
                std::map<std::string, Field>* out);
  Status LoadIncludes(const std::string& file, const YAML::Node& node, int depth);
  Status LoadSets(const std::string& file, const YAML::Node& node);
  Status LoadRules(const std::string& file, const YAML::Node& node);
  Status LoadRule(const std::string& file, const YAML::Node& node);
  // `content`, `content_max` and `peer` of a rule; marks it content_only
  // when it sets nothing about checks.
  Status ContentFields(const std::string& file, const std::map<std::string, Field>& f, Rule* rule);
  // Resolves a `check` value (a name or a list of names) to a mask.
  Result<uint32_t> CheckMask(const std::string& file, const Field& field);

  const ReadFileFn& read_file_;
  std::vector<std::string> stack_;                // files being loaded, outermost first
  std::unordered_set<std::string> loaded_;        // files already loaded
  std::unordered_map<std::string, SetDef> sets_;  // user sets of all files so far
};

Status Loader::Fields(const std::string& file, const YAML::Node& map,
                      std::initializer_list<std::string_view> known, std::string_view where,
                      std::map<std::string, Field>* out) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: it-> is a temporary proxy
    if (!key.IsScalar()) return ErrorAt(file, key.Mark(), "keys must be strings");
    const std::string& k = key.Scalar();
    bool ok = false;
    for (std::string_view kn : known) ok = ok || kn == k;
    if (!ok) {
      std::string expected;
      size_t i = 0;
      for (std::string_view kn : known) {
        if (i > 0) expected += (i + 1 == known.size()) ? " or " : ", ";
        expected.append(kn);
        ++i;
      }
      return ErrorAt(
          file, key.Mark(),
          "unknown key " + Quoted(k) + std::string(where) + " (expected " + expected + ")");
    }
    if (out->count(k)) return ErrorAt(file, key.Mark(), "duplicate key " + Quoted(k));
    (*out)[k] = Field{key, it->second};
  }
  return Status::Ok();
}

Status Loader::LoadFile(std::string_view text, const std::string& name, int depth) {
  files_.push_back(name);
  loaded_.insert(name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return ErrorAt(name, e.mark, "invalid YAML: " + e.msg);
  }
  if (root.IsNull()) {
    return ErrorAt(name, YAML::Mark::null_mark(),
                   "empty rule file (expected a map with 'version: 1')");
  }
  DW_ASSIGN_OR_RETURN(std::optional<YAML::Mark> second, SecondDocument(text, name));
  if (second) {
    return ErrorAt(name, *second, "only one YAML document is allowed per rule file");
  }
  if (!root.IsMap()) return ErrorAt(name, root.Mark(), "expected a map at the top level");
  std::map<std::string, Field> top;
  DW_RETURN_IF_ERROR(
      Fields(name, root, {"version", "include", "sets", "rules", "package_upgrades"}, "", &top));

  auto version = top.find("version");
  if (version == top.end()) {
    return ErrorAt(name, root.Mark(),
                   "missing 'version' (this driftwatch reads rule language version 1)");
  }
  const YAML::Node& v = version->second.value;
  int number = 0;
  if (!v.IsScalar()) return ErrorAt(name, version->second.Where(), "'version' must be an integer");
  const std::string& vs = v.Scalar();
  auto [end, ec] = std::from_chars(vs.data(), vs.data() + vs.size(), number);
  if (ec != std::errc() || end != vs.data() + vs.size()) {
    return ErrorAt(name, v.Mark(), "'version' must be an integer");
  }
  if (number != kRulesVersion) {
    return ErrorAt(
        name, v.Mark(),
        "rule language version " + vs + " is not supported (this driftwatch reads version 1)",
        StatusCode::kUnsupported);
  }

  stack_.push_back(name);
  if (auto it = top.find("include"); it != top.end()) {
    DW_RETURN_IF_ERROR(LoadIncludes(name, it->second.value, depth));
  }
  stack_.pop_back();
  if (auto it = top.find("sets"); it != top.end()) {
    DW_RETURN_IF_ERROR(LoadSets(name, it->second.value));
  }
  if (auto it = top.find("rules"); it != top.end()) {
    DW_RETURN_IF_ERROR(LoadRules(name, it->second.value));
  }
  if (auto it = top.find("package_upgrades"); it != top.end()) {
    const YAML::Node& p = it->second.value;
    if (!p.IsScalar()) {
      return ErrorAt(name, it->second.Where(), "'package_upgrades' must be a severity");
    }
    Result<Severity> s = ParseSeverity(p.Scalar());
    if (!s.ok()) return ErrorAt(name, p.Mark(), s.status().message());
    package_upgrades_ = *s;  // the file loaded last (the includer) wins
  }
  return Status::Ok();
}

Status Loader::LoadIncludes(const std::string& file, const YAML::Node& node, int depth) {
  if (node.IsNull()) return Status::Ok();
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else if (node.IsSequence()) {
    for (const YAML::Node& n : node) items.push_back(n);
  } else {
    return ErrorAt(file, node.Mark(), "'include' must be a file name or a list of file names");
  }
  for (const YAML::Node& item : items) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      return ErrorAt(file, item.Mark(), "'include' must be a file name or a list of file names");
    }
    const std::string& raw = item.Scalar();
    const std::string path = ResolveInclude(file, raw);
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i] != path) continue;
      std::string chain;
      for (size_t j = i; j < stack_.size(); ++j) chain += stack_[j] + " -> ";
      return ErrorAt(file, item.Mark(), "include cycle: " + chain + path);
    }
    if (loaded_.count(path)) continue;  // already loaded through another include
    if (depth + 1 > kMaxIncludeDepth) {
      return ErrorAt(file, item.Mark(),
                     "includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " levels");
    }
    if (files_.size() >= kMaxRuleFiles) {
      return ErrorAt(file, item.Mark(),
                     "more than " + std::to_string(kMaxRuleFiles) + " rule files");
    }
    Result<std::string> text = read_file_(path);
    if (!text.ok()) {
      return ErrorAt(file, item.Mark(), "include " + Quoted(raw) + ": " + text.status().message());
    }
    DW_RETURN_IF_ERROR(LoadFile(*text, path, depth + 1));
  }
  return Status::Ok();
}

Status Loader::LoadSets(const std::string& file, const YAML::Node& node) {
  if (node.IsNull()) return Status::Ok();
  if (!node.IsMap())
    return ErrorAt(file, node.Mark(), "'sets' must be a map of set names to lists");
  struct Def {
    std::string name;
    YAML::Node key;
    std::vector<YAML::Node> items;
    uint32_t mask = kAttrType;
    int state = 0;  // 0 new, 1 resolving, 2 done
  };
  std::vector<Def> defs;
  std::unordered_map<std::string, size_t> index;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: it-> is a temporary proxy
    if (!key.IsScalar()) return ErrorAt(file, key.Mark(), "set names must be strings");
    const std::string& name = key.Scalar();
    if (!ValidSetName(name)) {
      return ErrorAt(file, key.Mark(),
                     "bad set name " + Quoted(name) +
                         " (letters, digits, '_', '-' and '.', at most 64 bytes)");
    }
    if (AttrFromName(name) != 0) {
      return ErrorAt(file, key.Mark(), "set name " + Quoted(name) + " is an attribute name");
    }
    if (BuiltinSet(name)) {
      return ErrorAt(file, key.Mark(), "set " + Quoted(name) + " is built in");
    }
    if (auto prev = sets_.find(name); prev != sets_.end()) {
      return ErrorAt(file, key.Mark(),
                     "set " + Quoted(name) + " is already defined at " + prev->second.origin);
    }
    if (index.count(name)) return ErrorAt(file, key.Mark(), "duplicate set " + Quoted(name));
    if (sets_.size() + defs.size() >= kMaxSets) {
      return ErrorAt(file, key.Mark(), "more than " + std::to_string(kMaxSets) + " sets");
    }
    const YAML::Node value = it->second;
    Def def{name, key, {}};
    if (value.IsScalar()) {
      def.items.push_back(value);
    } else if (value.IsSequence() && value.size() > 0 && value.size() <= kMaxCheckItems) {
      for (const YAML::Node& n : value) {
        if (!n.IsScalar()) {
          return ErrorAt(file, n.Mark(), "set members must be attribute or set names");
        }
        def.items.push_back(n);
      }
    } else {
      return ErrorAt(file, value.IsNull() ? key.Mark() : value.Mark(),
                     "set " + Quoted(name) + " must be a name or a list of 1 to " +
                         std::to_string(kMaxCheckItems) + " names");
    }
    index[name] = defs.size();
    defs.push_back(std::move(def));
  }
  // Resolve references among this file's sets depth-first with an explicit
  // stack (no recursion on the user's nesting).
  for (size_t root = 0; root < defs.size(); ++root) {
    if (defs[root].state == 2) continue;
    std::vector<std::pair<size_t, size_t>> stack = {{root, 0}};  // (def, next item)
    defs[root].state = 1;
    while (!stack.empty()) {
      auto& [d, next] = stack.back();
      if (next == defs[d].items.size()) {
        defs[d].state = 2;
        const uint32_t mask = defs[d].mask;
        stack.pop_back();
        if (!stack.empty()) defs[stack.back().first].mask |= mask;
        continue;
      }
      const YAML::Node& item = defs[d].items[next++];
      const std::string& ref = item.Scalar();
      if (uint32_t bit = AttrFromName(ref)) {
        defs[d].mask |= bit;
      } else if (auto b = BuiltinSet(ref)) {
        defs[d].mask |= *b;
      } else if (auto u = sets_.find(ref); u != sets_.end()) {
        defs[d].mask |= u->second.mask;
      } else if (auto l = index.find(ref); l != index.end()) {
        Def& target = defs[l->second];
        if (target.state == 2) {
          defs[d].mask |= target.mask;
        } else if (target.state == 1) {
          std::string chain;
          bool on = false;
          for (const auto& frame : stack) {
            on = on || frame.first == l->second;
            if (on) chain += defs[frame.first].name + " -> ";
          }
          return ErrorAt(file, item.Mark(),
                         "set " + Quoted(target.name) + " includes itself: " + chain + target.name);
        } else {
          target.state = 1;
          stack.push_back({l->second, 0});
        }
      } else {
        return ErrorAt(file, item.Mark(), "unknown attribute or set " + Quoted(ref));
      }
    }
  }
  const std::string base = BaseName(file);
  for (const Def& def : defs) {
    sets_[def.name] = SetDef{def.mask, base + ":" + std::to_string(def.key.Mark().line + 1)};
  }
  return Status::Ok();
}

Result<uint32_t> Loader::CheckMask(const std::string& file, const Field& field) {
  const YAML::Node& node = field.value;
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else if (node.IsSequence() && node.size() > 0 && node.size() <= kMaxCheckItems) {
    for (const YAML::Node& n : node) {
      if (!n.IsScalar())
        return ErrorAt(file, n.Mark(), "'check' items must be attribute or set names");
      items.push_back(n);
    }
  } else {
    return ErrorAt(file, field.Where(),
                   "'check' must be a set name or a list of 1 to " +
                       std::to_string(kMaxCheckItems) + " attribute names");
  }
  uint32_t mask = kAttrType;
  for (const YAML::Node& item : items) {
    const std::string& ref = item.Scalar();
    if (uint32_t bit = AttrFromName(ref)) {
      mask |= bit;
    } else if (auto b = BuiltinSet(ref)) {
      mask |= *b;
    } else if (auto u = sets_.find(ref); u != sets_.end()) {
      mask |= u->second.mask;
    } else {
      return ErrorAt(file, item.Mark(), "unknown attribute or set " + Quoted(ref));
    }
  }
  return mask;
}

Status Loader::LoadRules(const std::string& file, const YAML::Node& node) {
  if (node.IsNull()) return Status::Ok();
  if (!node.IsSequence()) return ErrorAt(file, node.Mark(), "'rules' must be a list of rules");
  for (const YAML::Node& item : node) {
    if (rules_.size() >= kMaxRules) {
      return ErrorAt(file, item.Mark(), "more than " + std::to_string(kMaxRules) + " rules");
    }
    DW_RETURN_IF_ERROR(LoadRule(file, item));
  }
  return Status::Ok();
}

Status Loader::ContentFields(const std::string& file, const std::map<std::string, Field>& f,
                             Rule* rule) {
  auto content = f.find("content");
  if (content != f.end()) {
    const YAML::Node& v = content->second.value;
    Result<ContentMode> mode = Status::InvalidArgument("");
    if (v.IsScalar()) mode = ParseContentMode(v.Scalar());
    if (!mode.ok()) {
      return ErrorAt(file, content->second.Where(),
                     "'content' must be keep, redact or none" +
                         (v.IsScalar() ? ", not " + Quoted(v.Scalar()) : std::string()));
    }
    rule->content = *mode;
  }
  if (auto it = f.find("content_max"); it != f.end()) {
    if (!rule->content || *rule->content != ContentMode::kKeep) {
      return ErrorAt(file, it->second.key.Mark(),
                     "'content_max' needs 'content: keep' in the same rule");
    }
    const YAML::Node& v = it->second.value;
    Result<uint64_t> size = Status::InvalidArgument("");
    if (v.IsScalar()) size = ParseContentSize(v.Scalar());
    if (!size.ok()) {
      return ErrorAt(file, it->second.Where(),
                     "'content_max' must be a size in bytes, optionally with a K, M or G suffix, "
                     "at most " +
                         std::to_string(kMaxContentMaxBytes >> 20) + "M" +
                         (v.IsScalar() ? ", not " + Quoted(v.Scalar()) : std::string()));
    }
    rule->content_max = *size;
  }
  if (auto it = f.find("peer"); it != f.end()) {
    const YAML::Node& v = it->second.value;
    Result<PeerMode> mode = Status::InvalidArgument("");
    if (v.IsScalar()) mode = ParsePeerMode(v.Scalar());
    if (!mode.ok()) {
      return ErrorAt(file, it->second.Where(),
                     "'peer' must be ignore or compare" +
                         (v.IsScalar() ? ", not " + Quoted(v.Scalar()) : std::string()));
    }
    rule->peer = *mode;
  }
  // Only path and content or peer keys: the rule decides those and nothing
  // else.
  rule->content_only = rule->content.has_value() || rule->peer.has_value();
  for (const char* k : {"check", "ignore", "severity", "hash", "cross_mounts"}) {
    if (f.count(k) > 0) rule->content_only = false;
  }
  return Status::Ok();
}

Status Loader::LoadRule(const std::string& file, const YAML::Node& node) {
  if (!node.IsMap()) return ErrorAt(file, node.Mark(), "a rule must be a map with a 'path'");
  std::map<std::string, Field> f;
  DW_RETURN_IF_ERROR(Fields(file, node,
                            {"path", "check", "ignore", "severity", "hash", "cross_mounts",
                             "content", "content_max", "peer"},
                            " in rule", &f));
  auto bool_field = [&](const char* key, bool* out) -> Status {
    auto it = f.find(key);
    if (it == f.end()) return Status::Ok();
    const YAML::Node& v = it->second.value;
    if (v.IsScalar() && v.Scalar() == "true") {
      *out = true;
    } else if (v.IsScalar() && v.Scalar() == "false") {
      *out = false;
    } else {
      return ErrorAt(file, it->second.Where(), Quoted(key) + " must be true or false");
    }
    return Status::Ok();
  };

  Rule rule;
  auto path = f.find("path");
  if (path == f.end()) return ErrorAt(file, node.Mark(), "rule has no 'path'");
  const YAML::Node& p = path->second.value;
  if (!p.IsScalar()) return ErrorAt(file, path->second.Where(), "'path' must be a string");
  Result<Glob> glob = Glob::Compile(p.Scalar());
  if (!glob.ok()) return ErrorAt(file, p.Mark(), glob.status().message());
  rule.glob = p.Scalar();
  DW_RETURN_IF_ERROR(bool_field("ignore", &rule.ignore));
  DW_RETURN_IF_ERROR(bool_field("cross_mounts", &rule.cross_mounts));
  if (rule.ignore) {
    for (const char* k :
         {"check", "severity", "hash", "cross_mounts", "content", "content_max", "peer"}) {
      if (auto it = f.find(k); it != f.end()) {
        return ErrorAt(file, it->second.key.Mark(), "an ignore rule takes no " + Quoted(k));
      }
    }
  }
  if (auto it = f.find("check"); it != f.end()) {
    DW_ASSIGN_OR_RETURN(rule.mask, CheckMask(file, it->second));
  } else if (!rule.ignore) {
    rule.mask = *BuiltinSet(kDefaultSet);
  }
  if (auto it = f.find("severity"); it != f.end()) {
    const YAML::Node& v = it->second.value;
    if (!v.IsScalar()) return ErrorAt(file, it->second.Where(), "'severity' must be a string");
    Result<Severity> s = ParseSeverity(v.Scalar());
    if (!s.ok()) return ErrorAt(file, v.Mark(), s.status().message());
    rule.severity = *s;
  }
  if (auto it = f.find("hash"); it != f.end()) {
    const YAML::Node& v = it->second.value;
    if (!v.IsScalar()) return ErrorAt(file, it->second.Where(), "'hash' must be a string");
    Result<HashAlgo> h = ParseHashAlgo(v.Scalar());
    if (!h.ok()) return ErrorAt(file, v.Mark(), h.status().message());
    rule.hash = *h;
  }
  DW_RETURN_IF_ERROR(ContentFields(file, f, &rule));
  rule.origin = BaseName(file) + ":" + std::to_string(node.Mark().line + 1);
  rules_.push_back(std::move(rule));
  return Status::Ok();
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view yaml, const std::string& file_name,
                           const ReadFileFn& read_file) {
  Loader loader(read_file);
  try {
    DW_RETURN_IF_ERROR(loader.LoadFile(yaml, file_name, 0));
  } catch (const YAML::Exception& e) {
    // Parse errors are caught where the file is read; this is a safety net
    // for a conversion error yaml-cpp might raise on a node.
    return ErrorAt(file_name, e.mark, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Status::Internal(file_name + ": " + e.what());
  }
  return Policy::Create(std::move(loader.rules_), loader.package_upgrades_,
                        std::move(loader.files_));
}

Result<Policy> LoadPolicyFile(Host& host, const std::string& path) {
  DW_ASSIGN_OR_RETURN(std::string text, host.ReadFile(path, kMaxRuleFileBytes));
  return ParsePolicy(text, path,
                     [&host](const std::string& p) { return host.ReadFile(p, kMaxRuleFileBytes); });
}

}  // namespace driftwatch::rules
