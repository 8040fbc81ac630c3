// End to end against dpkg itself: builds a small .deb with dpkg-deb, installs
// it with `dpkg --root` into a throw-away root, tampers with the installed
// files, and checks that `driftwatch packages verify` flags exactly the paths
// `dpkg --verify --root` flags.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "cli/packages_cmd.h"
#include "packages/installed.h"
#include "packages/test_util.h"
#include "packages/verify.h"
#include "tests/testing/fault_host.h"

namespace driftwatch::packages {
namespace {

using testing::TempRoot;

struct Run {
  int status = -1;
  std::string out;
};

// Runs a shell command, capturing stdout (stderr goes to the test log).
Run Shell(const std::string& cmd) {
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool HaveTool(const char* name) {
  return Shell(std::string("command -v ") + name + " >/dev/null 2>&1").status == 0;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// Paths in `dpkg --verify` output: "%.9s %c %s" per line.
std::set<std::string> DpkgVerifyPaths(const std::string& root) {
  Run r = Shell("dpkg --verify --root=" + Quote(root));
  std::set<std::string> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 12) out.insert(line.substr(12));
  }
  return out;
}

class DpkgVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: dpkg --root installs files as root";
    if (!HaveTool("dpkg") || !HaveTool("dpkg-deb")) GTEST_SKIP() << "dpkg not installed";
    const TempRoot& w = work_;
    w.Write("src/usr/bin/dwtest", "#!/bin/sh\necho dwtest\n");
    w.Write("src/etc/dwtest.conf", "level = 1\n");
    w.Write("src/etc/dwtest.d/extra.conf", "extra = yes\n");
    w.Write("src/usr/share/doc/dwtest/README", "read me\n");
    for (int i = 1; i <= 6; ++i) {
      w.Write("src/usr/lib/dwtest/data" + std::to_string(i), "data " + std::to_string(i) + "\n");
    }
    w.Symlink("data1", "src/usr/lib/dwtest/link");
    w.Write(
        "src/DEBIAN/control",
        "Package: dwtest\nVersion: 1.0-1\nArchitecture: all\n"
        "Maintainer: Driftwatch Tests <tests@example.org>\nDescription: verification fixture\n");
    w.Write("src/DEBIAN/conffiles", "/etc/dwtest.conf\n/etc/dwtest.d/extra.conf\n");
    // Like dh_md5sums: every regular file except conffiles.
    ASSERT_EQ(Shell("cd " + Quote(w.Abs("src")) +
                    " && find usr -type f -exec md5sum {} + > DEBIAN/md5sums")
                  .status,
              0);
    ASSERT_EQ(Shell("dpkg-deb --root-owner-group --build " + Quote(w.Abs("src")) + " " +
                    Quote(w.Abs("dwtest.deb")) + " >/dev/null")
                  .status,
              0);
    root_ = w.Abs("root");
    w.Mkdir("root/var/lib/dpkg/info");
    w.Mkdir("root/var/lib/dpkg/updates");
    w.Write("root/var/lib/dpkg/status", "");
    ASSERT_EQ(Shell("dpkg --root=" + Quote(root_) + " --force-script-chrootless -i " +
                    Quote(w.Abs("dwtest.deb")) + " >/dev/null")
                  .status,
              0);
  }

  std::set<std::string> OurPaths() {
    std::vector<std::string> warnings;
    auto events = VerifyPackageFiles(DefaultHost(), root_, 2, &warnings);
    EXPECT_TRUE(events.ok()) << events.status().message();
    EXPECT_EQ(warnings, std::vector<std::string>{});
    std::set<std::string> out;
    if (events.ok()) {
      for (const DriftEvent& e : *events) out.insert(e.path);
    }
    return out;
  }

  // The paths flagged by a verification with the cache of the previous
  // call, on a clock a minute ahead (so the files just installed count as
  // settled and get cache rows).
  std::set<std::string> CachedPaths(VerifyReport* report) {
    testutil::FaultHost host(DefaultHost());
    host.SetClock([] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             60'000'000'000;
    });
    auto db = ReadPackageDb(host, root_, true);
    EXPECT_TRUE(db.ok()) << db.status().message();
    VerifyOptions o;
    o.jobs = 2;
    o.cache = &cache_;
    auto r = VerifyOwnedFiles(host, root_, db->files, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::set<std::string> out;
    if (!r.ok()) return out;
    EXPECT_EQ(r->warnings, std::vector<std::string>{});
    for (const FileFinding& f : r->findings) out.insert(db->files[f.file].path);
    *report = *r;
    return out;
  }

  void Divert(const std::string& from, const std::string& to) {
    ASSERT_EQ(Shell("dpkg-divert --root=" + Quote(root_) + " --local --rename --divert " + to +
                    " --add " + from + " >/dev/null")
                  .status,
              0);
  }

  TempRoot work_;
  std::string root_;
  std::string cache_;
};

TEST_F(DpkgVerifyTest, CleanInstallAgrees) {
  EXPECT_EQ(DpkgVerifyPaths(root_), std::set<std::string>{});
  EXPECT_EQ(OurPaths(), std::set<std::string>{});
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunPackages({"verify", "--root", root_}, DefaultHost(), out, err), 0) << err.str();
}

TEST_F(DpkgVerifyTest, TamperedFilesAgreeWithDpkg) {
  const TempRoot& w = work_;
  w.Write("root/usr/bin/dwtest", "#!/bin/sh\necho tampered\n");  // binary changed
  w.Write("root/etc/dwtest.conf", "level = 9\n");                // conffile changed
  w.Remove("root/usr/lib/dwtest/data2");                         // file removed
  std::filesystem::remove_all(w.Abs("root/usr/share/doc"));      // directories removed
  w.Remove("root/usr/lib/dwtest/data3");
  w.Symlink("data4", "root/usr/lib/dwtest/data3");   // file became a symlink
  w.Write("root/usr/lib/dwtest/data5", "data 5\n");  // rewritten, same bytes
  // A local diversion: data6 now lives at data6.distrib, and is gone from there.
  Divert("/usr/lib/dwtest/data6", "/usr/lib/dwtest/data6.distrib");
  w.Remove("root/usr/lib/dwtest/data6.distrib");

  const std::set<std::string> want = {
      "/etc/dwtest.conf",
      "/usr/bin/dwtest",
      "/usr/lib/dwtest/data2",
      "/usr/lib/dwtest/data3",
      "/usr/lib/dwtest/data6.distrib",
      "/usr/share/doc",
      "/usr/share/doc/dwtest",
      "/usr/share/doc/dwtest/README",
  };
  EXPECT_EQ(DpkgVerifyPaths(root_), want);
  EXPECT_EQ(OurPaths(), want);

  std::ostringstream out, err;
  EXPECT_EQ(cli::RunPackages({"verify", "--root", root_}, DefaultHost(), out, err), 1);
  EXPECT_EQ(out.str(),
            "M  /etc/dwtest.conf  (conffile, package dwtest 1.0-1)\n"
            "M  /usr/bin/dwtest  (package dwtest 1.0-1)\n"
            "D  /usr/lib/dwtest/data2  (missing, package dwtest 1.0-1)\n"
            "T  /usr/lib/dwtest/data3  (not a regular file: symlink, package dwtest 1.0-1)\n"
            "D  /usr/lib/dwtest/data6.distrib  (missing, package dwtest 1.0-1)\n"
            "D  /usr/share/doc  (missing, package dwtest 1.0-1)\n"
            "D  /usr/share/doc/dwtest  (missing, package dwtest 1.0-1)\n"
            "D  /usr/share/doc/dwtest/README  (missing, package dwtest 1.0-1)\n"
            "3 modified (1 conffiles), 5 missing; 20 paths of 1 packages checked\n");
}

// Cold, then from the cache, then after changes the cache must not hide: the
// same paths as dpkg every time.
TEST_F(DpkgVerifyTest, CachedVerdictsAgreeWithDpkg) {
  const TempRoot& w = work_;
  w.Write("root/usr/bin/dwtest", "#!/bin/sh\necho tampered\n");
  w.Remove("root/usr/lib/dwtest/data2");
  VerifyReport report;
  const std::set<std::string> first = {"/usr/bin/dwtest", "/usr/lib/dwtest/data2"};
  EXPECT_EQ(DpkgVerifyPaths(root_), first);
  EXPECT_EQ(CachedPaths(&report), first);  // cold: builds the cache
  EXPECT_EQ(report.files_cached, 0u);
  const uint64_t hashed = report.files_hashed;
  EXPECT_EQ(CachedPaths(&report), first);  // from the cache
  EXPECT_EQ(report.files_hashed, 0u);
  EXPECT_EQ(report.files_cached, hashed);

  // Same size, mtime put back as `touch -d` would; and one replaced by rename.
  struct stat st {};
  ASSERT_EQ(::lstat(w.Abs("root/usr/lib/dwtest/data1").c_str(), &st), 0);
  w.Write("root/usr/lib/dwtest/data1", "DATA 1\n");
  timespec times[2] = {st.st_mtim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, w.Abs("root/usr/lib/dwtest/data1").c_str(), times, 0), 0);
  w.Write("root/usr/lib/dwtest/data4.new", "DATA 4\n");
  std::filesystem::rename(w.Abs("root/usr/lib/dwtest/data4.new"),
                          w.Abs("root/usr/lib/dwtest/data4"));
  const std::set<std::string> second = {"/usr/bin/dwtest", "/usr/lib/dwtest/data1",
                                        "/usr/lib/dwtest/data2", "/usr/lib/dwtest/data4"};
  EXPECT_EQ(DpkgVerifyPaths(root_), second);
  EXPECT_EQ(CachedPaths(&report), second);
  EXPECT_EQ(report.files_hashed, 2u);
}

// dpkg attaches md5sums to the original path, so `dpkg --verify` only checks
// that a diverted file exists; driftwatch also checks its content at the
// divert-to path (docs/packages.md).
TEST_F(DpkgVerifyTest, DivertedFileContentIsCheckedBeyondDpkg) {
  Divert("/usr/lib/dwtest/data6", "/usr/lib/dwtest/data6.distrib");
  EXPECT_EQ(DpkgVerifyPaths(root_), std::set<std::string>{});
  EXPECT_EQ(OurPaths(), std::set<std::string>{});
  work_.Write("root/usr/lib/dwtest/data6.distrib", "data 6 changed\n");
  EXPECT_EQ(DpkgVerifyPaths(root_), std::set<std::string>{});
  EXPECT_EQ(OurPaths(), std::set<std::string>{"/usr/lib/dwtest/data6.distrib"});
}

}  // namespace
}  // namespace driftwatch::packages
