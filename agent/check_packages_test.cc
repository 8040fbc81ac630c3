// `check --verify-packages` and the package verification cache: a check
// over a root with a dpkg database reports the modified package file, keeps
// the cache, and the next check takes unchanged files' digests from it (no
// package file read) while still seeing a rewrite that keeps size and mtime.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "agent/check.h"
#include "packages/test_util.h"
#include "packages/verify_cache_file.h"
#include "tests/testing/fault_host.h"

namespace driftwatch::agent {
namespace {

using packages::testing::TempRoot;
using testutil::FaultHost;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/**
    check: content
    severity: high
)";

std::string Md5Hex(std::string_view data) {
  return packages::DigestHasher::Of(packages::DigestAlgo::kMd5, data).Hex().substr(4);
}

class CheckPackagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_.Write("etc/tool.conf", "x = 1\n");
    root_.Write("usr/bin/tool", "tool v1\n");
    root_.Write("usr/lib/libz.so", "zlib\n");
    root_.Write("var/lib/dpkg/status",
                "Package: tool\nStatus: install ok installed\nVersion: 1\n\n");
    root_.Write("var/lib/dpkg/info/tool.list",
                "/.\n/usr\n/usr/bin\n/usr/bin/tool\n/usr/lib\n"
                "/usr/lib/libz.so\n");
    root_.Write("var/lib/dpkg/info/tool.md5sums", Md5Hex("tool v1\n") + "  usr/bin/tool\n" +
                                                      Md5Hex("zlib\n") + "  usr/lib/libz.so\n");
    state_.Write("rules.yaml", kRules);
    // A clock a minute ahead: the files just written count as settled and
    // get cache rows (verify_cache.h, racy files).
    host_.SetClock([] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             60'000'000'000;
    });
    options_.host = &host_;
    options_.db_path = state_.Abs("agent.db");
    options_.rules_path = state_.Abs("rules.yaml");
    options_.root = root_.path();
    options_.jobs = 2;
    options_.verify_packages = true;
    options_.package_cache = state_.Abs("packages-verify.cache");
  }

  // The package-file-modified paths of one check.
  std::vector<std::string> Check(Host& host) {
    CheckOptions o = options_;
    o.host = &host;
    auto r = RunCheck(o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    EXPECT_EQ(r->warnings, std::vector<std::string>{});
    for (const DriftEvent& e : r->events) {
      if (e.kind == DriftKind::kPackageFileModified) out.push_back(e.path);
    }
    return out;
  }

  TempRoot root_;
  TempRoot state_;
  FaultHost host_{DefaultHost()};
  CheckOptions options_;
};

TEST_F(CheckPackagesTest, UsesTheVerificationCacheAndStillSeesARewrite) {
  ASSERT_TRUE(CreateBaseline(options_, "test", "first").ok());
  root_.Write("usr/bin/tool", "tool v2\n");  // same size, other content
  EXPECT_EQ(Check(host_), std::vector<std::string>{"/usr/bin/tool"});
  struct stat st {};
  ASSERT_EQ(::stat(options_.package_cache.c_str(), &st), 0) << "cache not written";

  // Unchanged: the digests come from the cache; a host that fails every
  // read of a package file changes nothing and no fault fires.
  FaultHost no_reads(static_cast<Host&>(host_));
  for (const char* name : {"tool", "libz.so"}) {
    no_reads.FailOn(FaultHost::Op::kRead, name, EIO);
  }
  EXPECT_EQ(Check(no_reads), std::vector<std::string>{"/usr/bin/tool"});
  EXPECT_EQ(no_reads.fired(), std::vector<std::string>{});

  // libz.so rewritten with the same size, its mtime put back: ctime moved,
  // so the cache does not vouch for it.
  const std::string lib = root_.Abs("usr/lib/libz.so");
  ASSERT_EQ(::stat(lib.c_str(), &st), 0);
  root_.Write("usr/lib/libz.so", "zlob\n");
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, lib.c_str(), times, 0), 0);
  EXPECT_EQ(Check(host_), (std::vector<std::string>{"/usr/bin/tool", "/usr/lib/libz.so"}));

  // "-": no cache, nothing read from or written to one.
  ASSERT_EQ(::unlink(options_.package_cache.c_str()), 0);
  options_.package_cache = "-";
  EXPECT_EQ(Check(host_), (std::vector<std::string>{"/usr/bin/tool", "/usr/lib/libz.so"}));
  EXPECT_NE(::stat(state_.Abs("packages-verify.cache").c_str(), &st), 0);
}

TEST(DefaultVerifyCachePathTest, BesideTheStoreForTheHostOnly) {
  EXPECT_EQ(packages::DefaultVerifyCachePath("/", "/var/lib/driftwatch/agent.db"),
            "/var/lib/driftwatch/packages-verify.cache");
  EXPECT_EQ(packages::DefaultVerifyCachePath("/", "agent.db"), "./packages-verify.cache");
  EXPECT_EQ(packages::DefaultVerifyCachePath("/", "/agent.db"), "/packages-verify.cache");
  EXPECT_EQ(packages::DefaultVerifyCachePath("/srv/rootfs", "/var/lib/driftwatch/agent.db"), "");
}

}  // namespace
}  // namespace driftwatch::agent
