#include "cli/packages_cmd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/packages_output.h"
#include "core/hash.h"
#include "packages/installed.h"
#include "packages/verify.h"
#include "packages/verify_cache_file.h"

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
  bool full = false;
  bool no_cache = false;
  std::string cache;  // empty: the default for root "/", none for other roots
};

// Where the verification cache of `root` lives: --cache, else for the host
// itself ("/") packages-verify.cache beside the agent store
// ($DRIFTWATCH_DB's directory, else /var/lib/driftwatch). Other roots
// (a container's rootfs) have no default: they come and go.
std::string CachePath(const PackagesFlags& f) {
  if (f.no_cache) return "";
  if (!f.cache.empty()) return f.cache;
  std::string db = "/var/lib/driftwatch/agent.db";
  if (const char* env = std::getenv("DRIFTWATCH_DB"); env != nullptr && *env != '\0') db = env;
  return packages::DefaultVerifyCachePath(f.root, db);
}

// "verifying: 51234 of 146169 paths (35%), 12034 cached, 410.2 MB/s, ~6 s left"
// redrawn in place on a terminal; cleared when done.
class VerifyProgressLine {
 public:
  explicit VerifyProgressLine(std::ostream& err)
      : err_(err), start_(std::chrono::steady_clock::now()) {}
  void Update(const packages::VerifyProgress& p) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (secs <= 0 || p.paths_total == 0) return;
    double share = static_cast<double>(p.paths_done) / static_cast<double>(p.paths_total);
    double rate = static_cast<double>(p.paths_done) / secs;
    double left = rate > 0 ? static_cast<double>(p.paths_total - p.paths_done) / rate : 0;
    char line[200];
    std::snprintf(line, sizeof line,
                  "\r\033[K  verifying: %llu of %llu paths (%.0f%%), %llu cached, %.1f MB/s, "
                  "~%.0f s left",
                  static_cast<unsigned long long>(p.paths_done),
                  static_cast<unsigned long long>(p.paths_total), share * 100,
                  static_cast<unsigned long long>(p.files_cached),
                  static_cast<double>(p.bytes_hashed) / secs / 1e6, left);
    err_ << line << std::flush;
    drawn_ = true;
  }
  void Done() {
    if (drawn_) err_ << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  std::ostream& err_;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

int Packages(const PackagesFlags& f, bool verify, bool tty, Host& host, std::ostream& out,
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
  packages::VerifyOptions options;
  options.jobs = f.jobs;
  options.full = f.full;
  std::optional<VerifyProgressLine> progress;
  if (tty) {
    progress.emplace(err);
    options.progress = [&](const packages::VerifyProgress& p) { progress->Update(p); };
  }
  auto report = packages::VerifyWithCacheFile(host, root, db->files, options, CachePath(f));
  if (progress) progress->Done();
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

void AddPackages(CLI::App& root, Host& host, std::ostream& out, std::ostream& err, bool tty) {
  auto list = std::make_shared<PackagesFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "packages", "installed packages (dpkg, rpm, apk); packages verify",
      [list, &host, &out, &err] { return Packages(*list, false, false, host, out, err); });
  AddRootAndFormat(cmd, list.get());
  auto v = std::make_shared<PackagesFlags>();
  CLI::App* verify = cmdline::AddCommand(
      *cmd, "verify",
      "package-owned files that differ from the package managers' checksums (exit 1)",
      [v, &host, &out, &err, tty] { return Packages(*v, true, tty, host, out, err); });
  AddRootAndFormat(verify, v.get());
  verify->add_option("--jobs", v->jobs, "files hashed in parallel")
      ->type_name("N")
      ->check(cmdline::IntegerRange(1, 64));
  verify->add_flag("--full", v->full,
                   "re-read every file, whatever the verification cache says (the cache is "
                   "rewritten)");
  verify
      ->add_option("--cache", v->cache,
                   "the verification cache (default for --root /: packages-verify.cache "
                   "beside the agent store; other roots: none)")
      ->type_name("FILE");
  verify->add_flag("--no-cache", v->no_cache, "neither read nor write a verification cache");
}

int RunPackages(const std::vector<std::string>& args, Host& host, std::ostream& out,
                std::ostream& err) {
  cmdline::Program program("driftwatch", "", cmdline::Manual{});
  AddPackages(program, host, out, err);
  std::vector<std::string> all = {"packages"};
  all.insert(all.end(), args.begin(), args.end());
  return program.Run(all, out, err);
}

void AddPackagesCommand(CLI::App& root) {
  AddPackages(root, DefaultHost(), std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1);
}

}  // namespace driftwatch::cli
