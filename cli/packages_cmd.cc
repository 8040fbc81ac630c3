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

namespace driftwatch::cli {
namespace {

int Error(std::ostream& err, const Status& s) {
  err << "driftwatch: " << s.message() << "\n";
  return kExitError;
}

// A cache file larger than this is not read (about 60 bytes a file are
// expected: a whole distribution stays far below).
constexpr size_t kMaxCacheBytes = 256 << 20;

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
  if (f.root != "/") return "";
  std::string dir = "/var/lib/driftwatch";
  if (const char* db = std::getenv("DRIFTWATCH_DB"); db != nullptr && *db != '\0') {
    std::string p = db;
    size_t slash = p.rfind('/');
    dir = slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
  }
  return dir + "/packages-verify.cache";
}

// Writes a file in pieces beside `path` and renames it over `path` at the
// end (as Host::WriteFileAtomic does for a whole string): readers see the
// old cache or the new, never a part. Mode 0600 (OpenAt's for new files).
class CacheFileWriter {
 public:
  CacheFileWriter(Host& host, std::string path) : host_(host), path_(std::move(path)) {}
  ~CacheFileWriter() { Abandon(); }

  Status Write(std::string_view piece) {
    if (!status_.ok()) return status_;
    if (!fd_.valid()) {
      const size_t slash = path_.rfind('/');
      if (slash != std::string::npos && slash > 0) {
        status_ = MakeDirs(host_, path_.substr(0, slash), 0755);
        if (!status_.ok()) return status_;
      }
      tmp_ = path_ + ".tmp." + std::to_string(::getpid());
      (void)host_.Remove(tmp_);  // left by a run that was killed
      auto fd = host_.OpenAt(AT_FDCWD, tmp_, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW);
      if (!fd.ok()) return status_ = fd.status();
      fd_ = std::move(fd).value();
    }
    return status_ = host_.Write(fd_.get(), piece);
  }
  // Syncs and renames; a writer that never got a piece writes nothing.
  Status Commit() {
    if (status_.ok() && fd_.valid()) status_ = host_.Fsync(fd_.get());
    fd_ = UniqueFd();
    if (status_.ok() && !tmp_.empty()) status_ = host_.Rename(tmp_, path_);
    if (status_.ok()) tmp_.clear();
    Abandon();
    return status_;
  }
  void Abandon() {
    fd_ = UniqueFd();
    if (!tmp_.empty()) (void)host_.Remove(tmp_);
    tmp_.clear();
  }

 private:
  Host& host_;
  std::string path_;
  std::string tmp_;
  UniqueFd fd_;
  Status status_;
};

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
  const std::string cache_path = CachePath(f);
  std::vector<std::string> cache_warnings;
  // Neither cache is held whole: the old one is read in pieces, the new one
  // written in pieces to a temporary file renamed over the old at the end.
  UniqueFd old_cache;
  std::optional<CacheFileWriter> new_cache;
  if (!cache_path.empty()) {
    if (!f.full) {
      auto fd = host.OpenAt(AT_FDCWD, cache_path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
      struct stat st;
      if (!fd.ok()) {
        if (fd.status().code() != StatusCode::kNotFound) {
          cache_warnings.push_back("verification cache not read: " + fd.status().message());
        }
      } else if (Status s = host.Fstat(fd->get(), &st); !s.ok()) {
        cache_warnings.push_back("verification cache not read: " + s.message());
      } else if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > kMaxCacheBytes) {
        cache_warnings.push_back("verification cache not read: " + cache_path +
                                 ": not a regular file of at most " +
                                 std::to_string(kMaxCacheBytes) + " bytes");
      } else {
        old_cache = std::move(fd).value();
        options.cache_fd = old_cache.get();
        options.cache_size = static_cast<uint64_t>(st.st_size);
      }
    }
    new_cache.emplace(host, cache_path);
    options.cache_sink = [&](std::string_view piece) { return new_cache->Write(piece); };
  }
  std::optional<VerifyProgressLine> progress;
  if (tty) {
    progress.emplace(err);
    options.progress = [&](const packages::VerifyProgress& p) { progress->Update(p); };
  }
  auto report = packages::VerifyOwnedFiles(host, root, db->files, options);
  if (progress) progress->Done();
  old_cache = UniqueFd();
  if (!report.ok()) {
    if (new_cache) new_cache->Abandon();
    return Error(err, report.status());
  }
  if (new_cache) {
    Status saved = new_cache->Commit();
    if (!saved.ok()) cache_warnings.push_back("verification cache not saved: " + saved.message());
  }
  for (std::string& w : cache_warnings) report->warnings.push_back(std::move(w));
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
