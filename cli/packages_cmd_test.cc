#include "cli/packages_cmd.h"

#include <gtest/gtest.h>

#include <sstream>

#include "packages/test_util.h"

namespace driftwatch::cli {
namespace {

using packages::testing::BuildDpkgRoot;
using packages::testing::Md5Hex;
using packages::testing::TempRoot;

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
  EXPECT_EQ(out.str(), "{\"root\":\"" + root.path() +
                           "\",\"packages\":[{\"manager\":\"dpkg\",\"name\":\"libz\",\"version\":"
                           "\"1:1.3-1\",\"architecture\":\"amd64\",\"status\":\"installed\"},{"
                           "\"manager\":\"dpkg\",\"name\":\"tool\",\"version\":\"1.2\","
                           "\"architecture\":\"amd64\",\"status\":\"installed\"}]}\n");

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
            "{\"root\":\"" + root.path() +
                "\",\"summary\":{\"packages\":2,\"paths_checked\":12,\"files_hashed\":3,"
                "\"bytes_hashed\":40,\"modified\":1,\"conffiles_modified\":1,\"missing\":1,"
                "\"warnings\":0},\"events\":["
                "{\"path\":\"/etc/tool.conf\",\"kind\":\"package-file-modified\",\"problem\":"
                "\"content\",\"severity\":\"high\",\"manager\":\"dpkg\",\"package\":\"tool\","
                "\"version\":\"1.2\",\"conffile\":true,\"rule\":\"dpkg conffiles\",\"expected\":"
                "\"md5:" +
                expected + "\",\"actual\":\"md5:" + actual +
                "\",\"type\":\"file\"},"
                "{\"path\":\"/usr/lib/libz.so.1.3\",\"kind\":\"package-file-modified\","
                "\"problem\":\"missing\",\"severity\":\"medium\",\"manager\":\"dpkg\","
                "\"package\":\"libz\",\"version\":\"1:1.3-1\",\"conffile\":false,\"rule\":\"dpkg "
                "md5sums\",\"expected\":\"md5:" +
                libz + "\"}],\"warnings\":[]}\n");
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
            "driftwatch: unknown packages subcommand 'frobnicate'\n"
            "usage: driftwatch packages [--root DIR] [--format text|json]\n"
            "       driftwatch packages verify [--root DIR] [--format text|json] [--jobs N]\n");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"verify", "--jobs", "0"}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(), "driftwatch: --jobs must be a number from 1 to 64\n");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"--format", "xml"}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(), "driftwatch: --format must be text or json, not 'xml'\n");
  err.str("");
  EXPECT_EQ(cli::RunPackages({"--bogus"}, DefaultHost(), out, err), 2);
  EXPECT_EQ(err.str(), "driftwatch: unknown flag --bogus\n");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace driftwatch::cli
