#include "cli/packages_cmd.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/packages_output.h"
#include "packages/test_util.h"

namespace driftwatch::cli {
namespace {

using packages::testing::BuildDpkgRoot;
using packages::testing::Md5Hex;
using packages::testing::TempRoot;

// The "new" attributes verify reports for a file: what lstat says now.
std::string OnDisk(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  char perm[8];
  std::snprintf(perm, sizeof(perm), "%04o", st.st_mode & 07777);
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return "{\"gid\":" + std::to_string(st.st_gid) + ",\"mtime_ns\":" + std::to_string(mtime_ns) +
         ",\"perm\":\"" + perm + "\",\"size\":" + std::to_string(st.st_size) +
         ",\"type\":\"file\",\"uid\":" + std::to_string(st.st_uid) + "}";
}

TEST(PackagesCommandTest, ListAndVerifyOutputs) {
  TempRoot root;
  BuildDpkgRoot(root);
  std::ostringstream out, err;
  int rc = cli::RunPackages({"--root", root.path()}, DefaultHost(), out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(out.str(),
            "MANAGER  NAME  VERSION  ARCH   STATUS\n"
            "dpkg     libz  1:1.3-1  amd64  installed\n"
            "dpkg     tool  1.2      amd64  installed\n");

  out.str("");
  rc = cli::RunPackages({"--root=" + root.path(), "--format", "json"}, DefaultHost(), out, err);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out.str(),
            "{\"packages\":[{\"arch\":\"amd64\",\"manager\":\"dpkg\",\"name\":\"libz\","
            "\"status\":\"installed\",\"version\":\"1:1.3-1\"},{\"arch\":\"amd64\",\"manager\":"
            "\"dpkg\",\"name\":\"tool\",\"status\":\"installed\",\"version\":\"1.2\"}],"
            "\"root\":\"" +
                root.path() + "\"}\n");

  out.str("");
  rc = cli::RunPackages({"verify", "--root", root.path()}, DefaultHost(), out, err);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out.str(), "0 modified (0 conffiles), 0 missing; 12 paths of 2 packages checked\n");

  root.Write("etc/tool.conf", "setting = 2\n");
  root.Remove("usr/lib/libz.so.1.3");
  out.str("");
  rc = cli::RunPackages({"verify", "--root", root.path(), "--jobs", "2"}, DefaultHost(), out, err);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out.str(),
            "M  /etc/tool.conf  (conffile, package tool 1.2)\n"
            "D  /usr/lib/libz.so.1.3  (missing, package libz 1:1.3-1)\n"
            "1 modified (1 conffiles), 1 missing; 12 paths of 2 packages checked\n");

  out.str("");
  rc = cli::RunPackages({"verify", "--root", root.path(), "--format", "json"}, DefaultHost(), out,
                        err);
  EXPECT_EQ(rc, 1);
  std::string actual = Md5Hex("setting = 2\n");
  std::string expected = Md5Hex("setting = 1\n");
  std::string libz = Md5Hex(
      "\x7f"
      "ELF libz");
  EXPECT_EQ(out.str(),
            "{\"events\":["
            "{\"actual\":\"md5:" +
                actual + "\",\"attributes\":[\"hash\"],\"conffile\":true,\"expected\":\"md5:" +
                expected + "\",\"kind\":\"package-file-modified\",\"manager\":\"dpkg\",\"new\":" +
                OnDisk(root.Abs("etc/tool.conf")) +
                ",\"package\":\"tool\",\"path\":\"/etc/tool.conf\",\"problem\":\"content\","
                "\"rule\":\"dpkg conffiles\",\"severity\":\"high\",\"version\":\"1.2\"},"
                "{\"attributes\":[],\"conffile\":false,\"expected\":\"md5:" +
                libz +
                "\",\"kind\":\"package-file-modified\",\"manager\":\"dpkg\",\"package\":\"libz\","
                "\"path\":\"/usr/lib/libz.so.1.3\",\"problem\":\"missing\",\"rule\":\"dpkg "
                "md5sums\",\"severity\":\"medium\",\"version\":\"1:1.3-1\"}],"
                "\"root\":\"" +
                root.path() +
                "\",\"summary\":{\"bytes_hashed\":40,\"conffiles_modified\":1,\"files_cached\":0,"
                "\"files_hashed\":3,"
                "\"missing\":1,\"modified\":1,\"packages\":2,\"paths_checked\":12,\"warnings\":0},"
                "\"warnings\":[]}\n");
}

TEST(PackagesOutputTest, VerifyJsonEscapesEveryStringOnce) {
  // Odd bytes in the database and on disk: a path with a newline, a package
  // with an invalid byte, a warning with a quote. Each is EscapePath'd, then
  // JSON-escaped by the codec.
  PackageDb db;
  db.packages.push_back({"dpkg", "t\xffol", "1.0\t", "amd64", "installed"});
  db.files.push_back({"/etc/a\nb", "t\xffol", {}, false, false, 0, "dpkg list"});
  Entry link;
  link.name = "a\nb";
  link.type = EntryType::kSymlink;
  link.mask = kAttrType | kAttrLink;
  link.link_target = "/x\\y";
  VerifyReport report;
  report.findings.push_back({0, packages::FileProblem::kType, {}, link});
  report.warnings = {"/etc/\"q\": permission denied"};
  report.paths_checked = 1;
  EXPECT_EQ(VerifyJson("/r\xff", db, report),
            R"({"events":[{"attributes":["type"],"conffile":false,"expected":"",)"
            R"("kind":"package-file-modified","manager":"dpkg",)"
            R"("new":{"link":"/x\\\\y","type":"symlink"},"package":"t\\xffol",)"
            R"("path":"/etc/a\\nb","problem":"type","rule":"dpkg list","severity":"medium",)"
            R"("version":"1.0\\t"}],"root":"/r\\xff","summary":{"bytes_hashed":0,)"
            R"("conffiles_modified":0,"files_cached":0,"files_hashed":0,"missing":0,"modified":1,)"
            R"("packages":1,)"
            R"("paths_checked":1,"warnings":1},"warnings":["/etc/\"q\": permission denied"]})"
            "\n");
  EXPECT_EQ(VerifyText(db, report),
            "T  /etc/a\\nb  (not a regular file: symlink, package t\\xffol 1.0\\t)\n"
            "1 modified (0 conffiles), 0 missing; 1 paths of 1 packages checked\n");
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PackagesCommandTest, VerificationCacheFile) {
  TempRoot root, state;
  BuildDpkgRoot(root);
  const std::string cache = state.Abs("sub/verify.cache");
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunPackages({"verify", "--root", root.path(), "--cache", cache}, DefaultHost(),
                             out, err),
            0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(Slurp(cache).substr(0, 8), "DWPKGVC1");  // directory created, cache written

  // A damaged cache: a warning, every file read, a good cache written back.
  state.Write("sub/verify.cache", "garbage");
  out.str("");
  EXPECT_EQ(cli::RunPackages({"verify", "--root", root.path(), "--cache", cache}, DefaultHost(),
                             out, err),
            0);
  EXPECT_EQ(err.str(),
            "driftwatch: warning: verification cache: not a driftwatch verification cache; "
            "every file is read\n");
  EXPECT_EQ(out.str(), "0 modified (0 conffiles), 0 missing; 12 paths of 2 packages checked\n");
  EXPECT_EQ(Slurp(cache).substr(0, 8), "DWPKGVC1");

  // --full does not read it (no warning) but rewrites it.
  state.Write("sub/verify.cache", "garbage");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"verify", "--root", root.path(), "--cache", cache, "--full"},
                             DefaultHost(), out, err),
            0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(Slurp(cache).substr(0, 8), "DWPKGVC1");

  // --no-cache neither reads nor writes; other roots have no default cache
  // (nothing new appears in the state directory).
  EXPECT_EQ(
      cli::RunPackages({"verify", "--root", root.path(), "--no-cache"}, DefaultHost(), out, err),
      0);
  EXPECT_EQ(cli::RunPackages({"verify", "--root", root.path()}, DefaultHost(), out, err), 0);
  EXPECT_EQ(err.str(), "");
  size_t entries = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(state.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2u);  // sub/ and sub/verify.cache
}

TEST(PackagesCommandTest, Errors) {
  TempRoot root;
  root.Write("var/lib/dpkg/status", "Package: a\nStatus: installed\n");
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunPackages({"--root", root.path()}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(),
            "driftwatch: var/lib/dpkg/status:2: Status 'installed' is not 'want flag state'\n");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"frobnicate"}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(),
            "driftwatch packages: unknown command 'frobnicate' (expected verify)\n"
            "run 'driftwatch packages --help' for usage\n");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"verify", "--jobs", "0"}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(),
            "driftwatch packages verify: --jobs: expected an integer from 1 to 64, not '0'\n"
            "run 'driftwatch packages verify --help' for usage\n");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"--format", "xml"}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(),
            "driftwatch packages: --format: expected text or json, not 'xml'\n"
            "run 'driftwatch packages --help' for usage\n");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"--bogus"}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(),
            "driftwatch packages: unknown flag --bogus\n"
            "run 'driftwatch packages --help' for usage\n");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace driftwatch::cli
