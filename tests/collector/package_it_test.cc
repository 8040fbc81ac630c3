// `driftwatch-collector package agent` (docs/collector.md "Agent packages"):
// a small but real agent .deb built with dpkg-deb, repacked with an
// enrollment, inspected with dpkg-deb and md5sum, and its token used against
// a running collector.
#include <dirent.h>
#include <sys/stat.h>

#include <regex>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Entries of a directory, "." and ".." aside.
std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
    }
    closedir(d);
  }
  return out;
}

class PackageAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testutil::Run("command -v dpkg-deb >/dev/null").exit_code != 0) {
      GTEST_SKIP() << "dpkg-deb is not installed";
    }
    // The agent package as scripts/package builds it, in miniature: a
    // binary, a conffile, and the control files.
    const std::string src = dir_ / "agent-src";
    testutil::Run("mkdir -p " + Q(src + "/DEBIAN") + " " + Q(src + "/usr/bin") + " " +
                  Q(src + "/etc/driftwatch"));
    WriteFile(src + "/usr/bin/driftwatch", "#!/bin/sh\necho driftwatch\n");
    WriteFile(src + "/etc/driftwatch/agent.yaml", "version: 1\n");
    WriteFile(src + "/DEBIAN/control",
              "Package: driftwatch\nVersion: 1.2.3-1\nArchitecture: amd64\nInstalled-Size: 7\n"
              "Maintainer: driftwatch <driftwatch@example.org>\n"
              "Description: configuration drift agent\n"
              " Watches files, packages and containers.\n");
    WriteFile(src + "/DEBIAN/conffiles", "/etc/driftwatch/agent.yaml\n");
    testutil::Run("chmod 0755 " + Q(src + "/usr/bin/driftwatch") + "; cd " + Q(src) +
                  " && md5sum usr/bin/driftwatch > DEBIAN/md5sums");
    deb_ = dir_ / "driftwatch_1.2.3-1_amd64.deb";
    auto b = testutil::Run("dpkg-deb --root-owner-group -b " + Q(src) + " " + Q(deb_) + " 2>&1");
    ASSERT_EQ(b.exit_code, 0) << b.out;
    testutil::Run("mkdir -p " + Q(dir_ / "out") + " " + Q(dir_ / "tmp"));
    WriteFile(dir_ / "ca.pem",
              "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n");
  }

  // Runs the collector binary; stdout and stderr apart.
  testutil::RunResult Collector(const std::string& args, std::string* err) {
    auto r = testutil::Run("TMPDIR=" + Q(dir_ / "tmp") + " " + Q(CollectorBin()) + " " + args +
                           " 2>" + Q(dir_ / "err.txt"));
    *err = ReadAll(dir_ / "err.txt");
    return r;
  }

  TempDir dir_;
  std::string deb_;
};

TEST_F(PackageAgentTest, RepacksTheAgentWithAnEnrollmentThatEnrollsAsOftenAsAllowed) {
  collector_it::Collector c(dir_);
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  std::string err;
  auto r = Collector("package agent --url https://collector.example:8443 --group web --ca-file " +
                         Q(dir_ / "ca.pem") + " --uses 2 --expires 7d --out " + Q(dir_ / "out") +
                         " --deb " + Q(deb_) + " " + c.StoreFlags(),
                     &err);
  ASSERT_EQ(r.exit_code, 0) << r.out << err;
  const std::string pkg = dir_ / "out/driftwatch-enroll-web_1.2.3-1_amd64.deb";
  EXPECT_EQ(r.out, pkg + "\n");
  EXPECT_TRUE(std::regex_search(err, std::regex("2 uses, expires 20[0-9-]+T"))) << err;
  EXPECT_TRUE(List(dir_ / "tmp").empty()) << "the scratch directory is removed";

  // Modes and owners as installed.
  auto contents = testutil::Run("dpkg-deb -c " + Q(pkg));
  ASSERT_EQ(contents.exit_code, 0);
  EXPECT_TRUE(std::regex_search(contents.out,
                                std::regex("-rw------- root/root +[0-9]+ .* \\./etc/driftwatch/"
                                           "enroll\\.token\n")))
      << contents.out;
  EXPECT_TRUE(std::regex_search(
      contents.out, std::regex("-rw-r--r-- root/root .* \\./etc/driftwatch/enroll\\.yaml\n")))
      << contents.out;
  EXPECT_TRUE(std::regex_search(
      contents.out, std::regex("-rw-r--r-- root/root .* \\./etc/driftwatch/enroll-ca\\.pem\n")))
      << contents.out;
  EXPECT_TRUE(std::regex_search(contents.out,
                                std::regex("-rwxr-xr-x root/root .* \\./usr/bin/driftwatch\n")))
      << contents.out;

  // Same package name and version; the description says where it enrolls.
  auto info = testutil::Run("dpkg-deb -I " + Q(pkg));
  EXPECT_NE(info.out.find(" Package: driftwatch\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find(" Version: 1.2.3-1\n"), std::string::npos) << info.out;
  // Three files of under 1 KiB each: apt tells it from the plain build.
  EXPECT_NE(info.out.find(" Installed-Size: 10\n"), std::string::npos) << info.out;
  EXPECT_NE(
      info.out.find("  Watches files, packages and containers.\n  .\n  This build enrolls with the "
                    "collector at https://collector.example:8443 in group web.\n"),
      std::string::npos)
      << info.out;
  EXPECT_EQ(testutil::Run("dpkg-deb -I " + Q(pkg) + " conffiles").out,
            "/etc/driftwatch/agent.yaml\n/etc/driftwatch/enroll.yaml\n"
            "/etc/driftwatch/enroll-ca.pem\n/etc/driftwatch/enroll.token\n");

  // Every file, the added ones too, matches DEBIAN/md5sums.
  const std::string x = dir_ / "x";
  ASSERT_EQ(testutil::Run("dpkg-deb -x " + Q(pkg) + " " + Q(x) + " && dpkg-deb -e " + Q(pkg) + " " +
                          Q(x + "/DEBIAN"))
                .exit_code,
            0);
  auto sums = testutil::Run("cd " + Q(x) + " && md5sum -c DEBIAN/md5sums 2>&1");
  EXPECT_EQ(sums.exit_code, 0) << sums.out;
  EXPECT_EQ(sums.out,
            "usr/bin/driftwatch: OK\netc/driftwatch/enroll.yaml: OK\n"
            "etc/driftwatch/enroll-ca.pem: OK\netc/driftwatch/enroll.token: OK\n");
  EXPECT_EQ(ReadAll(x + "/etc/driftwatch/enroll.yaml"),
            "# The agent enrolls with this collector on its first start, then deletes\n"
            "# the token file (docs/collector.md \"Agent packages\").\n"
            "version: 1\n"
            "collector: \"https://collector.example:8443\"\n"
            "group: \"web\"\n"
            "ca_file: /etc/driftwatch/enroll-ca.pem\n"
            "token_file: /etc/driftwatch/enroll.token\n");
  EXPECT_EQ(ReadAll(x + "/etc/driftwatch/enroll-ca.pem"), ReadAll(dir_ / "ca.pem"));
  std::string token = ReadAll(x + "/etc/driftwatch/enroll.token");
  ASSERT_TRUE(std::regex_match(token, std::regex("dw_[0-9a-f]{64}\n"))) << token;
  token.pop_back();
  EXPECT_EQ(r.out.find(token), std::string::npos);
  EXPECT_EQ(err.find(token), std::string::npos);
  EXPECT_EQ(ReadAll(c.log()).find(token), std::string::npos);

  // The token enrolls twice (--uses 2), then says it is used up.
  EXPECT_NE(c.EnrollApi(token, "web-1", "web"), "");
  EXPECT_NE(c.EnrollApi(token, "web-2", "web"), "");
  Answer third = Http("POST", c.url() + "/api/v1/enroll", token, R"({"host":"web-3"})");
  EXPECT_EQ(third.status, 401) << third.body;
  EXPECT_EQ(third.json().at("error").as_string(), "token_used_up") << third.body;
  EXPECT_EQ(c.Stop(), 0);
}

TEST_F(PackageAgentTest, RefusesBadInputWithoutLeavingFiles) {
  const std::string store = "--db " + Q(dir_ / "c.db");
  const std::string base = " --deb " + Q(deb_) + " " + store;
  struct Case {
    std::string args, error;
  };
  const Case cases[] = {
      {"--url ftp://x --out " + Q(dir_ / "out") + base, "--url: expected http://"},
      {"--url http://c:8080 --group 'a b' --out " + Q(dir_ / "out") + base, "--group: expected"},
      {"--url http://c:8080 --out " + Q(dir_ / "missing/out") + base,
       "--out " + (dir_ / "missing/out")},
      {"--url http://c:8080 --ca-file " + Q(dir_ / "ca.pem") + " --out " + Q(dir_ / "out") + base,
       "--ca-file goes with an https:// --url"},
      {"--url http://c:8080 --uses 0 --out " + Q(dir_ / "out") + base, "--uses: expected"},
      {"--url http://c:8080 --out " + Q(dir_ / "out") + " --deb " + Q(dir_ / "ca.pem") + " " +
           store,
       "dpkg-deb -R failed"},
      {"--url http://c:8080 --out " + Q(dir_ / "out") + " --deb " + Q(deb_),
       "package agent: expected the store"},
  };
  for (const Case& c : cases) {
    std::string err;
    auto r = Collector("package agent " + c.args, &err);
    EXPECT_EQ(r.exit_code, 2) << c.args;
    EXPECT_NE(err.find(c.error), std::string::npos) << c.args << " -> " << err;
  }
  EXPECT_TRUE(List(dir_ / "out").empty());
  EXPECT_TRUE(List(dir_ / "tmp").empty());
}

}  // namespace
}  // namespace driftwatch::collector_it
