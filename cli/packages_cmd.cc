#include "cli/packages_cmd.h"

#include <charconv>
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/packages_output.h"
#include "packages/installed.h"
#include "packages/verify.h"

namespace driftwatch::cli {
namespace {

int Error(std::ostream& err, const Status& s) {
  err << "driftwatch: " << s.message() << "\n";
  return kExitError;
}

constexpr char kUsage[] =
    "usage: driftwatch packages [--root DIR] [--format text|json]\n"
    "       driftwatch packages verify [--root DIR] [--format text|json] [--jobs N]\n";

}  // namespace

int RunPackages(const std::vector<std::string>& args, Host& host, std::ostream& out,
                std::ostream& err) {
  auto parsed = Args::Parse(args, {{"root"}, {"format"}, {"jobs"}, {"help", false}});
  if (!parsed.ok()) return Error(err, parsed.status());
  const Args& a = *parsed;
  if (a.Has("help")) {
    out << kUsage;
    return kExitOk;
  }
  bool verify = false;
  if (!a.positional().empty()) {
    if (a.positional().size() > 1 || a.positional()[0] != "verify") {
      err << "driftwatch: unknown packages subcommand '" << a.positional()[0] << "'\n" << kUsage;
      return kExitError;
    }
    verify = true;
  }
  std::string root = a.GetOr("root", "/");
  std::string format = a.GetOr("format", "text");
  if (format != "text" && format != "json") {
    return Error(err,
                 Status::InvalidArgument("--format must be text or json, not '" + format + "'"));
  }
  int jobs = 0;
  if (auto j = a.Get("jobs")) {
    if (!verify) return Error(err, Status::InvalidArgument("--jobs applies to 'packages verify'"));
    auto [p, ec] = std::from_chars(j->data(), j->data() + j->size(), jobs);
    if (ec != std::errc() || p != j->data() + j->size() || jobs < 1 || jobs > 64) {
      return Error(err, Status::InvalidArgument("--jobs must be a number from 1 to 64"));
    }
  }

  if (!verify) {
    auto packages = packages::ReadInstalledPackages(host, root);
    if (!packages.ok()) return Error(err, packages.status());
    out << (format == "json" ? PackagesJson(root, *packages) : PackagesText(*packages));
    return kExitOk;
  }

  auto db = packages::ReadPackageDb(host, root, /*with_files=*/true);
  if (!db.ok()) return Error(err, db.status());
  auto report = packages::VerifyOwnedFiles(host, root, db->files, jobs);
  if (!report.ok()) return Error(err, report.status());
  if (format == "json") {
    out << VerifyJson(root, *db, *report);
  } else {
    out << VerifyText(*db, *report);
    for (const std::string& w : report->warnings) err << "driftwatch: warning: " << w << "\n";
  }
  out.flush();
  return report->findings.empty() ? kExitOk : kExitDrift;
}

int RunPackagesCommand(const std::vector<std::string>& args) {
  return RunPackages(args, DefaultHost(), std::cout, std::cerr);
}

}  // namespace driftwatch::cli
