#include "packages/dpkg.h"

#include <fcntl.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "packages/db_file.h"

namespace driftwatch::packages {
namespace {

constexpr std::string_view kStatusFile = "var/lib/dpkg/status";
constexpr std::string_view kInfoDir = "var/lib/dpkg/info";
constexpr std::string_view kDiversionsFile = "var/lib/dpkg/diversions";

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// One conffile line: "<path> <hash> [obsolete] [remove-on-upgrade]". The path
// may contain spaces, so the line is read from the right.
Result<DpkgConffile> ParseConffileLine(std::string_view line) {
  std::string_view rest = Trim(line);
  DpkgConffile c;
  for (;;) {
    size_t sp = rest.find_last_of(" \t");
    if (sp == std::string_view::npos) break;
    std::string_view last = rest.substr(sp + 1);
    if (last == "obsolete") {
      c.obsolete = true;
    } else if (last == "remove-on-upgrade") {
      c.remove_on_upgrade = true;
    } else {
      break;
    }
    rest = Trim(rest.substr(0, sp));
  }
  size_t sp = rest.find_last_of(" \t");
  if (sp == std::string_view::npos) {
    return Status::Corruption("conffile line '" + std::string(Trim(line)) +
                              "' needs a path and a hash");
  }
  std::string_view hash = rest.substr(sp + 1);
  c.path = std::string(Trim(rest.substr(0, sp)));
  if (!c.path.starts_with('/')) {
    return Status::Corruption("conffile path '" + c.path + "' is not absolute");
  }
  if (hash != "newconffile") {
    auto md5 = FileDigest::FromHex(DigestAlgo::kMd5, hash);
    if (!md5.ok()) return Status::Corruption("conffile " + c.path + ": " + md5.status().message());
    c.md5 = std::move(md5).value();
  }
  return c;
}

struct StanzaBuilder {
  DpkgStanza stanza;
  bool has_package = false;
  bool has_status = false;
  bool in_conffiles = false;
  int first_line = 0;
};

Status FinishStanza(StanzaBuilder* b, std::string_view source, std::vector<DpkgStanza>* out) {
  if (b->first_line == 0) return Status::Ok();
  if (!b->has_package) return LineError(source, b->first_line, "stanza has no Package field");
  if (!b->has_status) {
    return LineError(source, b->first_line,
                     "package '" + b->stanza.package.name + "' has no Status field");
  }
  b->stanza.line = b->first_line;
  out->push_back(std::move(b->stanza));
  *b = StanzaBuilder();
  return Status::Ok();
}

std::string NormalizeListPath(std::string_view p) {
  std::string out(p);
  while (out.size() > 1 && out.ends_with("/.")) out.resize(out.size() - 2);
  while (out.size() > 1 && out.ends_with('/')) out.pop_back();
  return out.empty() ? "/" : out;
}

}  // namespace

Result<std::vector<DpkgStanza>> ParseDpkgStatus(std::string_view text, std::string_view source) {
  std::vector<DpkgStanza> out;
  StanzaBuilder b;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (IsBlank(line)) return FinishStanza(&b, source, &out);
    if (line.front() == ' ' || line.front() == '\t') {
      if (b.first_line == 0) return LineError(source, n, "continuation line outside a field");
      if (!b.in_conffiles || IsBlank(line)) return Status::Ok();
      auto c = ParseConffileLine(line);
      if (!c.ok()) return LineError(source, n, c.status().message());
      b.stanza.conffiles.push_back(std::move(c).value());
      return Status::Ok();
    }
    size_t colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? "" : line.substr(0, colon);
    if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
      return LineError(source, n, "expected 'Field: value', got '" + std::string(line) + "'");
    }
    std::string_view value = Trim(line.substr(colon + 1));
    if (b.first_line == 0) b.first_line = n;
    b.in_conffiles = false;
    if (EqualsNoCase(name, "Package")) {
      if (value.empty()) return LineError(source, n, "empty Package field");
      b.stanza.package.manager = "dpkg";
      b.stanza.package.name = std::string(value);
      b.has_package = true;
    } else if (EqualsNoCase(name, "Version")) {
      b.stanza.package.version = std::string(value);
    } else if (EqualsNoCase(name, "Architecture")) {
      b.stanza.package.architecture = std::string(value);
    } else if (EqualsNoCase(name, "Status")) {
      std::vector<std::string_view> words = Words(value);
      if (words.size() != 3) {
        return LineError(source, n, "Status '" + std::string(value) + "' is not 'want flag state'");
      }
      b.stanza.want = std::string(words[0]);
      b.stanza.package.status = std::string(words[2]);
      b.has_status = true;
    } else if (EqualsNoCase(name, "Conffiles")) {
      b.in_conffiles = true;
      if (!value.empty()) {
        return LineError(source, n, "Conffiles entries must be on continuation lines");
      }
    }
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  DW_RETURN_IF_ERROR(FinishStanza(&b, source, &out));
  return out;
}

Result<std::vector<DpkgFileHash>> ParseDpkgMd5sums(std::string_view text, std::string_view source) {
  std::vector<DpkgFileHash> out;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (line.empty()) return Status::Ok();
    if (line.size() < 34 || line[32] != ' ') {
      return LineError(source, n, "expected '<md5>  <path>', got '" + std::string(line) + "'");
    }
    auto md5 = FileDigest::FromHex(DigestAlgo::kMd5, line.substr(0, 32));
    if (!md5.ok()) return LineError(source, n, md5.status().message());
    std::string_view path = line.substr(33);
    while (!path.empty() && (path.front() == ' ' || path.front() == '*')) path.remove_prefix(1);
    while (path.starts_with('/')) path.remove_prefix(1);
    if (path.empty()) return LineError(source, n, "missing path");
    out.push_back({"/" + std::string(path), std::move(md5).value()});
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<std::string>> ParseDpkgList(std::string_view text, std::string_view source) {
  std::vector<std::string> out;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (line.empty()) return Status::Ok();
    if (!line.starts_with('/')) {
      return LineError(source, n, "path '" + std::string(line) + "' is not absolute");
    }
    std::string p = NormalizeListPath(line);
    if (p != "/") out.push_back(std::move(p));
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<DpkgDiversion>> ParseDpkgDiversions(std::string_view text,
                                                       std::string_view source) {
  std::vector<DpkgDiversion> out;
  std::vector<std::string> group;
  int group_line = 0;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (group.empty()) group_line = n;
    if (group.size() < 2 && !line.starts_with('/')) {
      return LineError(source, n, "diverted path '" + std::string(line) + "' is not absolute");
    }
    if (group.size() == 2 && line.empty()) return LineError(source, n, "empty package name");
    group.emplace_back(line);
    if (group.size() == 3) {
      out.push_back({group[0], group[1], group[2]});
      group.clear();
    }
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  if (!group.empty()) {
    return LineError(source, group_line, "incomplete diversion (needs from, to and package lines)");
  }
  return out;
}

Result<PackageDb> ReadDpkgDb(Host& host, const std::string& root, bool with_files) {
  PackageDb db;
  DW_ASSIGN_OR_RETURN(std::optional<std::string> status_text, ReadDbFile(host, root, kStatusFile));
  if (!status_text) return db;
  DW_ASSIGN_OR_RETURN(std::vector<DpkgStanza> stanzas, ParseDpkgStatus(*status_text, kStatusFile));
  stanzas.erase(
      std::remove_if(stanzas.begin(), stanzas.end(),
                     [](const DpkgStanza& s) { return s.package.status == "not-installed"; }),
      stanzas.end());
  std::sort(stanzas.begin(), stanzas.end(), [](const DpkgStanza& a, const DpkgStanza& b) {
    return PackageLess(a.package, b.package);
  });
  for (const DpkgStanza& s : stanzas) db.packages.push_back(s.package);
  if (!with_files) return db;

  // Which info files exist: one directory listing instead of probing two
  // names (multiarch "pkg:arch.list" and plain "pkg.list") per package.
  std::unordered_set<std::string> info_names;
  {
    auto dir = host.OpenAt(AT_FDCWD, UnderRoot(root, kInfoDir), O_RDONLY | O_DIRECTORY);
    if (dir.ok()) {
      DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> names, host.ReadDir(dir->get()));
      for (DirEntryName& e : names) info_names.insert(std::move(e.name));
    } else if (dir.status().code() != StatusCode::kNotFound) {
      return dir.status();
    }
  }
  std::unordered_map<std::string, DpkgDiversion> diversions;
  DW_ASSIGN_OR_RETURN(std::optional<std::string> div_text, ReadDbFile(host, root, kDiversionsFile));
  if (div_text) {
    DW_ASSIGN_OR_RETURN(std::vector<DpkgDiversion> list,
                        ParseDpkgDiversions(*div_text, kDiversionsFile));
    for (DpkgDiversion& d : list) diversions[d.from] = std::move(d);
  }

  auto info_file = [&](const Package& pkg, std::string_view ext) -> std::string {
    std::string qualified = pkg.name + ":" + pkg.architecture + "." + std::string(ext);
    if (!pkg.architecture.empty() && info_names.count(qualified) != 0) return qualified;
    std::string plain = pkg.name + "." + std::string(ext);
    return info_names.count(plain) != 0 ? plain : std::string();
  };
  // The file list is most of the memory verification needs: counting the
  // .list lines first (a cheap extra read of small files) lets it be
  // allocated once instead of doubling, which at ~170,000 files peaked at
  // three times its final size.
  size_t expected_files = 0;
  for (const DpkgStanza& st : stanzas) {
    expected_files += st.conffiles.size();
    if (std::string name = info_file(st.package, "list"); !name.empty()) {
      auto text = ReadDbFile(host, root, std::string(kInfoDir) + "/" + name);
      if (text.ok() && *text)
        expected_files += static_cast<size_t>(std::count((*text)->begin(), (*text)->end(), '\n'));
    }
  }
  db.files.reserve(expected_files);

  for (size_t i = 0; i < stanzas.size(); ++i) {
    const DpkgStanza& st = stanzas[i];
    const Package& pkg = st.package;
    auto info_file_of = [&](std::string_view ext) { return info_file(pkg, ext); };
    std::unordered_map<std::string, FileDigest> md5s;
    std::vector<std::string> md5_order;
    if (std::string name = info_file_of("md5sums"); !name.empty()) {
      std::string rel = std::string(kInfoDir) + "/" + name;
      DW_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadDbFile(host, root, rel));
      if (text) {
        DW_ASSIGN_OR_RETURN(std::vector<DpkgFileHash> hashes, ParseDpkgMd5sums(*text, rel));
        for (DpkgFileHash& h : hashes) {
          if (md5s.emplace(h.path, h.md5).second) md5_order.push_back(h.path);
        }
      }
    }
    std::unordered_map<std::string, const DpkgConffile*> conffiles;
    std::set<std::string> retired;  // obsolete or remove-on-upgrade
    for (const DpkgConffile& c : st.conffiles) {
      if (c.obsolete || c.remove_on_upgrade) {
        retired.insert(c.path);
      } else {
        conffiles[c.path] = &c;
      }
    }
    std::vector<std::string> paths;
    bool have_list = false;
    if (std::string name = info_file_of("list"); !name.empty()) {
      std::string rel = std::string(kInfoDir) + "/" + name;
      DW_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadDbFile(host, root, rel));
      if (text) {
        DW_ASSIGN_OR_RETURN(paths, ParseDpkgList(*text, rel));
        have_list = true;
      }
    }
    if (!have_list) {
      paths = md5_order;
      for (const DpkgConffile& c : st.conffiles) {
        if (md5s.count(c.path) == 0) paths.push_back(c.path);
      }
    }
    for (const std::string& path : paths) {
      if (retired.count(path) != 0) continue;
      OwnedFile f;
      f.path = path;
      auto div = diversions.find(path);
      if (div != diversions.end() && div->second.package != pkg.name) f.path = div->second.to;
      f.package = pkg.name;
      f.package_index = i;
      auto conf = conffiles.find(path);
      f.conffile = conf != conffiles.end();
      if (auto h = md5s.find(path); h != md5s.end()) {
        f.expected = h->second;
        f.rule = "dpkg md5sums";
      } else if (f.conffile && !conf->second->md5.empty()) {
        f.expected = conf->second->md5;
        f.rule = "dpkg conffiles";
      } else {
        f.rule = "dpkg list";
      }
      db.files.push_back(std::move(f));
    }
  }
  return db;
}

}  // namespace driftwatch::packages
