#include "packages/package.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace driftwatch::packages {
namespace {

constexpr std::string_view kBlobMagic = "driftwatch-packages ";
constexpr int kBlobVersion = 1;

void AppendEscaped(std::string* out, std::string_view field) {
  for (char c : field) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      out->push_back(c);
    }
  }
}

Result<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    if (++i == s.size()) return Status::Corruption("lone backslash");
    switch (s[i]) {
      case '\\':
        out.push_back('\\');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      default:
        return Status::Corruption("unknown escape '\\" + std::string(1, s[i]) + "'");
    }
  }
  return out;
}

using Key = std::tuple<std::string, std::string, std::string>;

Key KeyOf(const Package& p) { return {p.manager, p.name, p.architecture}; }

DriftEvent PackageEvent(const Package& p, DriftKind kind, Severity severity) {
  DriftEvent e;
  e.path = PackageEventPath(p);
  e.kind = kind;
  e.severity = severity;
  e.rule = "packages";
  e.package = p.name;
  return e;
}

}  // namespace

bool PackageLess(const Package& a, const Package& b) {
  return std::tie(a.manager, a.name, a.architecture, a.version) <
         std::tie(b.manager, b.name, b.architecture, b.version);
}

std::string PackageEventPath(const Package& p) {
  std::string out = "pkg:" + p.manager + "/" + p.name;
  if (!p.architecture.empty()) out += ":" + p.architecture;
  return out;
}

std::string SerializePackages(const std::vector<Package>& packages) {
  std::string out(kBlobMagic);
  out += std::to_string(kBlobVersion);
  out += "\n";
  for (const Package& p : packages) {
    AppendEscaped(&out, p.manager);
    out += "\t";
    AppendEscaped(&out, p.name);
    out += "\t";
    AppendEscaped(&out, p.version);
    out += "\t";
    AppendEscaped(&out, p.architecture);
    out += "\t";
    AppendEscaped(&out, p.status);
    out += "\n";
  }
  return out;
}

Result<std::vector<Package>> ParsePackages(std::string_view blob) {
  size_t eol = blob.find('\n');
  std::string_view header = blob.substr(0, eol);
  if (!header.starts_with(kBlobMagic)) {
    return Status::Corruption("packages blob: missing 'driftwatch-packages' header");
  }
  std::string_view version = header.substr(kBlobMagic.size());
  if (version != std::to_string(kBlobVersion)) {
    return Status::Unsupported("packages blob: unsupported version '" + std::string(version) +
                               "' (this build reads version " + std::to_string(kBlobVersion) + ")");
  }
  std::vector<Package> out;
  size_t pos = eol == std::string_view::npos ? blob.size() : eol + 1;
  int line_no = 1;
  while (pos < blob.size()) {
    ++line_no;
    size_t end = blob.find('\n', pos);
    if (end == std::string_view::npos) {
      return Status::Corruption("packages blob line " + std::to_string(line_no) +
                                ": missing newline");
    }
    std::string_view line = blob.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      size_t tab = line.find('\t', start);
      auto field = Unescape(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
      if (!field.ok()) {
        return Status::Corruption("packages blob line " + std::to_string(line_no) + ": " +
                                  field.status().message());
      }
      fields.push_back(std::move(field).value());
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 5) {
      return Status::Corruption("packages blob line " + std::to_string(line_no) +
                                ": expected 5 fields, got " + std::to_string(fields.size()));
    }
    out.push_back({fields[0], fields[1], fields[2], fields[3], fields[4]});
  }
  return out;
}

std::vector<DriftEvent> DiffPackages(const std::vector<Package>& before,
                                     const std::vector<Package>& after) {
  std::map<Key, const Package*> old_by_key;
  std::map<Key, const Package*> new_by_key;
  for (const Package& p : before) old_by_key.emplace(KeyOf(p), &p);
  for (const Package& p : after) new_by_key.emplace(KeyOf(p), &p);
  std::vector<DriftEvent> events;
  for (const auto& [key, p] : old_by_key) {
    auto it = new_by_key.find(key);
    if (it == new_by_key.end()) {
      DriftEvent e = PackageEvent(*p, DriftKind::kPackageRemoved, Severity::kMedium);
      e.from_version = p->version;
      events.push_back(std::move(e));
    } else if (it->second->version != p->version) {
      DriftEvent e = PackageEvent(*p, DriftKind::kPackageChanged, Severity::kLow);
      e.from_version = p->version;
      e.to_version = it->second->version;
      events.push_back(std::move(e));
    }
  }
  for (const auto& [key, p] : new_by_key) {
    if (old_by_key.count(key) != 0) continue;
    DriftEvent e = PackageEvent(*p, DriftKind::kPackageInstalled, Severity::kMedium);
    e.to_version = p->version;
    events.push_back(std::move(e));
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const DriftEvent& a, const DriftEvent& b) { return a.path < b.path; });
  return events;
}

}  // namespace driftwatch::packages
