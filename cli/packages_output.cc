#include "cli/packages_output.h"

#include <algorithm>

#include "core/drift.h"
#include "core/drift_json.h"

namespace driftwatch::cli {

using packages::FileFinding;
using packages::FileProblem;
using packages::OwnedFile;
using web::json::value;
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
  std::vector<value> list;
  list.reserve(packages.size());
  for (const Package& p : packages) {
    value x = PackageInfoToJson({EscapePath(p.manager), EscapePath(p.name), EscapePath(p.version),
                                 EscapePath(p.architecture)});
    x["status"] = value::string(EscapePath(p.status));
    list.push_back(std::move(x));
  }
  value o = value::object();
  o["root"] = value::string(EscapePath(root));
  o["packages"] = value::array(std::move(list));
  return o.serialize() + "\n";
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
  const VerifySummary s = SummarizeVerify(db, report);
  value summary = value::object();
  summary["packages"] = value::number(s.packages);
  summary["paths_checked"] = value::number(s.paths_checked);
  summary["files_hashed"] = value::number(report.files_hashed);
  summary["bytes_hashed"] = value::number(report.bytes_hashed);
  summary["files_cached"] = value::number(report.files_cached);
  summary["modified"] = value::number(s.modified);
  summary["conffiles_modified"] = value::number(s.conffiles);
  summary["missing"] = value::number(s.missing);
  summary["warnings"] = value::number(static_cast<uint64_t>(report.warnings.size()));
  std::vector<value> events;
  for (size_t i = 0; i < report.findings.size(); ++i) {
    if (SameAsPrevious(db, report, i)) continue;
    const FileFinding& f = report.findings[i];
    const OwnedFile& file = db.files[f.file];
    const Package& pkg = db.packages[file.package_index];
    DriftEvent e = packages::FindingToEvent(file, f);
    // Names from the database are shown escaped, as paths are.
    e.package = EscapePath(e.package);
    e.rule = EscapePath(e.rule);
    value x = DriftEventToJson(e);
    x["problem"] = value::string(std::string(packages::FileProblemName(f.problem)));
    x["manager"] = value::string(EscapePath(pkg.manager));
    x["version"] = value::string(EscapePath(pkg.version));
    x["conffile"] = value::boolean(file.conffile);
    x["expected"] = value::string(file.expected.Hex());
    if (f.problem == FileProblem::kContent) x["actual"] = value::string(f.actual.Hex());
    events.push_back(std::move(x));
  }
  std::vector<std::string> warnings;
  warnings.reserve(report.warnings.size());
  for (const std::string& w : report.warnings) warnings.push_back(EscapePath(w));
  value o = value::object();
  o["root"] = value::string(EscapePath(root));
  o["summary"] = std::move(summary);
  o["events"] = value::array(std::move(events));
  o["warnings"] = StringsToJson(warnings);
  return o.serialize() + "\n";
}

}  // namespace driftwatch::cli
