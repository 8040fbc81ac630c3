#include "cli/packages_cmd.h"

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

struct PackagesFlags {
  std::string root = "/";
  std::string format = "text";
  int jobs = 0;
};

int Packages(const PackagesFlags& f, bool verify, Host& host, std::ostream& out,
             std::ostream& err) {
  const std::string& root = f.root;
  const bool json = f.format == "json";
  if (!verify) {
    auto packages = packages::ReadInstalledPackages(host, root);
    if (!packages.ok()) return Error(err, packages.status());
    out << (json ? PackagesJson(root, *packages) : PackagesText(*packages));
    return kExitOk;
  }

  auto db = packages::ReadPackageDb(host, root, /*with_files=*/true);
  if (!db.ok()) return Error(err, db.status());
  auto report = packages::VerifyOwnedFiles(host, root, db->files, f.jobs);
  if (!report.ok()) return Error(err, report.status());
  if (json) {
    out << VerifyJson(root, *db, *report);
  } else {
    out << VerifyText(*db, *report);
    for (const std::string& w : report->warnings) err << "driftwatch: warning: " << w << "\n";
  }
  out.flush();
  return report->findings.empty() ? kExitOk : kExitDrift;
}

void AddRootAndFormat(CLI::App* cmd, PackagesFlags* f) {
  cmd->add_option("--root", f->root, "the system root whose package databases are read")
      ->type_name("DIR");
  AddFormatFlag(cmd, &f->format);
}

}  // namespace

void AddPackages(CLI::App& root, Host& host, std::ostream& out, std::ostream& err) {
  auto list = std::make_shared<PackagesFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "packages", "installed packages (dpkg, rpm, apk); packages verify",
      [list, &host, &out, &err] { return Packages(*list, false, host, out, err); });
  AddRootAndFormat(cmd, list.get());
  auto v = std::make_shared<PackagesFlags>();
  CLI::App* verify = cmdline::AddCommand(
      *cmd, "verify",
      "package-owned files that differ from the package managers' checksums (exit 1)",
      [v, &host, &out, &err] { return Packages(*v, true, host, out, err); });
  AddRootAndFormat(verify, v.get());
  verify->add_option("--jobs", v->jobs, "files hashed in parallel")
      ->type_name("N")
      ->check(cmdline::IntegerRange(1, 64));
}

int RunPackages(const std::vector<std::string>& args, Host& host, std::ostream& out,
                std::ostream& err) {
  cmdline::Program program("driftwatch", "", cmdline::Manual{});
  AddPackages(program, host, out, err);
  std::vector<std::string> all = {"packages"};
  all.insert(all.end(), args.begin(), args.end());
  return program.Run(all, out, err);
}

void AddPackagesCommand(CLI::App& root) { AddPackages(root, DefaultHost(), std::cout, std::cerr); }

}  // namespace driftwatch::cli
