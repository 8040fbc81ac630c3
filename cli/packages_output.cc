#include "cli/packages_output.h"

#include <algorithm>

#include "core/drift.h"

namespace driftwatch::cli {

using packages::FileFinding;
using packages::FileProblem;
using packages::OwnedFile;
namespace {

void AppendPadded(std::string* out, std::string_view s, size_t width) {
  *out += s;
  if (s.size() < width) out->append(width - s.size(), ' ');
}

// Multiarch copies of one package report the same path: print it once.
bool SameAsPrevious(const PackageDb& db, const VerifyReport& r, size_t i) {
  if (i == 0) return false;
  const OwnedFile& a = db.files[r.findings[i - 1].file];
  const OwnedFile& b = db.files[r.findings[i].file];
  return a.path == b.path && a.package == b.package &&
         r.findings[i - 1].problem == r.findings[i].problem;
}

}  // namespace

std::string JsonString(std::string_view raw) {
  std::string escaped = EscapePath(raw);
  std::string out = "\"";
  for (char c : escaped) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string PackagesText(const std::vector<Package>& packages) {
  size_t w_name = 4, w_version = 7, w_arch = 4;
  for (const Package& p : packages) {
    w_name = std::max(w_name, EscapePath(p.name).size());
    w_version = std::max(w_version, EscapePath(p.version).size());
    w_arch = std::max(w_arch, EscapePath(p.architecture).size());
  }
  std::string out;
  AppendPadded(&out, "MANAGER", 9);
  AppendPadded(&out, "NAME", w_name + 2);
  AppendPadded(&out, "VERSION", w_version + 2);
  AppendPadded(&out, "ARCH", w_arch + 2);
  out += "STATUS\n";
  for (const Package& p : packages) {
    AppendPadded(&out, p.manager, 9);
    AppendPadded(&out, EscapePath(p.name), w_name + 2);
    AppendPadded(&out, EscapePath(p.version), w_version + 2);
    AppendPadded(&out, EscapePath(p.architecture), w_arch + 2);
    out += EscapePath(p.status);
    out += "\n";
  }
  return out;
}

std::string PackagesJson(const std::string& root, const std::vector<Package>& packages) {
  std::string out = "{\"root\":" + JsonString(root) + ",\"packages\":[";
  for (size_t i = 0; i < packages.size(); ++i) {
    const Package& p = packages[i];
    if (i > 0) out += ",";
    out += "{\"manager\":" + JsonString(p.manager) + ",\"name\":" + JsonString(p.name) +
           ",\"version\":" + JsonString(p.version) +
           ",\"architecture\":" + JsonString(p.architecture) +
           ",\"status\":" + JsonString(p.status) + "}";
  }
  out += "]}\n";
  return out;
}

VerifySummary SummarizeVerify(const PackageDb& db, const VerifyReport& report) {
  VerifySummary s;
  s.packages = db.packages.size();
  s.paths_checked = report.paths_checked;
  for (size_t i = 0; i < report.findings.size(); ++i) {
    if (SameAsPrevious(db, report, i)) continue;
    const FileFinding& f = report.findings[i];
    if (f.problem == FileProblem::kMissing) {
      ++s.missing;
    } else {
      ++s.modified;
      if (db.files[f.file].conffile) ++s.conffiles;
    }
  }
  return s;
}

std::string VerifyText(const PackageDb& db, const VerifyReport& report) {
  std::string out;
  for (size_t i = 0; i < report.findings.size(); ++i) {
    if (SameAsPrevious(db, report, i)) continue;
    const FileFinding& f = report.findings[i];
    const OwnedFile& file = db.files[f.file];
    const Package& pkg = db.packages[file.package_index];
    std::string what;
    switch (f.problem) {
      case FileProblem::kMissing:
        out += "D  ";
        what = "missing";
        break;
      case FileProblem::kContent:
        out += "M  ";
        break;
      case FileProblem::kType:
        out += "T  ";
        what = "not a regular file: " +
               std::string(f.entry ? EntryTypeName(f.entry->type) : std::string_view("unknown"));
        break;
    }
    out += EscapePath(file.path);
    out += "  (";
    if (file.conffile) what = what.empty() ? "conffile" : "conffile, " + what;
    if (!what.empty()) out += what + ", ";
    out += "package " + EscapePath(pkg.name) + " " + EscapePath(pkg.version) + ")\n";
  }
  VerifySummary s = SummarizeVerify(db, report);
  out += std::to_string(s.modified) + " modified (" + std::to_string(s.conffiles) +
         " conffiles), " + std::to_string(s.missing) + " missing; " +
         std::to_string(s.paths_checked) + " paths of " + std::to_string(s.packages) +
         " packages checked\n";
  return out;
}

std::string VerifyJson(const std::string& root, const PackageDb& db, const VerifyReport& report) {
  VerifySummary s = SummarizeVerify(db, report);
  std::string out = "{\"root\":" + JsonString(root) +
                    ",\"summary\":{\"packages\":" + std::to_string(s.packages) +
                    ",\"paths_checked\":" + std::to_string(s.paths_checked) +
                    ",\"files_hashed\":" + std::to_string(report.files_hashed) +
                    ",\"bytes_hashed\":" + std::to_string(report.bytes_hashed) +
                    ",\"modified\":" + std::to_string(s.modified) +
                    ",\"conffiles_modified\":" + std::to_string(s.conffiles) +
                    ",\"missing\":" + std::to_string(s.missing) +
                    ",\"warnings\":" + std::to_string(report.warnings.size()) + "},\"events\":[";
  bool first = true;
  for (size_t i = 0; i < report.findings.size(); ++i) {
    if (SameAsPrevious(db, report, i)) continue;
    const FileFinding& f = report.findings[i];
    const OwnedFile& file = db.files[f.file];
    const Package& pkg = db.packages[file.package_index];
    DriftEvent e = packages::FindingToEvent(file, f);
    if (!first) out += ",";
    first = false;
    out += "{\"path\":" + JsonString(e.path) + ",\"kind\":" + JsonString(DriftKindName(e.kind)) +
           ",\"problem\":" + JsonString(packages::FileProblemName(f.problem)) +
           ",\"severity\":" + JsonString(SeverityName(e.severity)) +
           ",\"manager\":" + JsonString(pkg.manager) + ",\"package\":" + JsonString(pkg.name) +
           ",\"version\":" + JsonString(pkg.version) +
           ",\"conffile\":" + (file.conffile ? "true" : "false") +
           ",\"rule\":" + JsonString(e.rule) + ",\"expected\":" + JsonString(file.expected.Hex());
    if (f.problem == FileProblem::kContent) out += ",\"actual\":" + JsonString(f.actual.Hex());
    if (f.entry) out += ",\"type\":" + JsonString(EntryTypeName(f.entry->type));
    out += "}";
  }
  out += "],\"warnings\":[";
  for (size_t i = 0; i < report.warnings.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(report.warnings[i]);
  }
  out += "]}\n";
  return out;
}

}  // namespace driftwatch::cli
