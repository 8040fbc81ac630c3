#include "packages/verify.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/hash.h"
#include "packages/test_util.h"
#include "tests/testing/fault_host.h"

namespace driftwatch::packages {
namespace {

using testutil::FaultHost;

using testing::BuildDpkgRoot;
using testing::Md5Hex;
using testing::TempRoot;

// The whole event as one line, so tests compare complete outcomes.
std::string Describe(const DriftEvent& e) {
  std::string s = e.path + " | " + std::string(DriftKindName(e.kind)) + " | " +
                  std::string(SeverityName(e.severity)) +
                  " | changed=" + std::to_string(e.changed) + " | " + e.rule +
                  " | package=" + e.package;
  if (!e.from_version.empty() || !e.to_version.empty() || !e.cause.empty()) {
    s += " | " + e.from_version + "->" + e.to_version + " " + e.cause;
  }
  if (e.old_entry) s += " | old=" + std::string(EntryTypeName(e.old_entry->type));
  if (e.new_entry) {
    s += " | new=" + std::string(EntryTypeName(e.new_entry->type)) + ":" + e.new_entry->name + ":" +
         std::to_string(e.new_entry->size);
  }
  return s;
}

std::vector<std::string> DescribeAll(const std::vector<DriftEvent>& events) {
  std::vector<std::string> out;
  for (const DriftEvent& e : events) out.push_back(Describe(e));
  return out;
}

TEST(VerifyDpkgTest, CleanRootHasNoEvents) {
  TempRoot root;
  BuildDpkgRoot(root);
  std::vector<std::string> warnings;
  auto events = VerifyPackageFiles(DefaultHost(), root.path(), 2, &warnings);
  ASSERT_TRUE(events.ok()) << events.status().message();
  EXPECT_EQ(DescribeAll(*events), std::vector<std::string>{});
  EXPECT_EQ(warnings, std::vector<std::string>{});
}

TEST(VerifyDpkgTest, BinaryConffileAndRemovedFile) {
  TempRoot root;
  BuildDpkgRoot(root);
  root.Write("usr/bin/tool", "#!/bin/sh\necho pwned\n");  // binary changed
  root.Write("etc/tool.conf", "setting = 2\n");           // conffile edited
  root.Remove("usr/lib/libz.so.1.3");                     // file removed
  root.Write("etc/tool-old.conf", "edited obsolete\n");   // obsolete: not reported
  for (int jobs : {1, 2, 4}) {
    SCOPED_TRACE(jobs);
    std::vector<std::string> warnings;
    auto events = VerifyPackageFiles(DefaultHost(), root.path(), jobs, &warnings);
    ASSERT_TRUE(events.ok()) << events.status().message();
    EXPECT_EQ(DescribeAll(*events),
              (std::vector<std::string>{
                  "/etc/tool.conf | package-file-modified | high | changed=2048 | dpkg conffiles "
                  "| package=tool | new=file:tool.conf:12",
                  "/usr/bin/tool | package-file-modified | medium | changed=2048 | dpkg md5sums | "
                  "package=tool | new=file:tool:21",
                  "/usr/lib/libz.so.1.3 | package-file-modified | medium | changed=0 | dpkg "
                  "md5sums | package=libz",
              }));
    EXPECT_EQ(warnings, std::vector<std::string>{});
  }
}

TEST(VerifyDpkgTest, MissingDirectoryAndTypeChange) {
  TempRoot root;
  BuildDpkgRoot(root);
  std::filesystem::remove_all(root.Abs("usr/share/doc"));
  root.Remove("usr/bin/tool");
  root.Mkdir("usr/bin/tool");  // a directory where a file belongs
  struct stat st;
  ASSERT_EQ(::lstat(root.Abs("usr/bin/tool").c_str(), &st), 0);
  auto events = VerifyPackageFiles(DefaultHost(), root.path(), 2);
  ASSERT_TRUE(events.ok()) << events.status().message();
  EXPECT_EQ(DescribeAll(*events),
            (std::vector<std::string>{
                "/usr/bin/tool | package-file-modified | medium | changed=1 | dpkg md5sums | "
                "package=tool | new=dir:tool:" +
                    std::to_string(st.st_size),
                "/usr/share/doc | package-file-modified | medium | changed=0 | dpkg list | "
                "package=tool",
                "/usr/share/doc/tool | package-file-modified | medium | changed=0 | dpkg list | "
                "package=tool",
                "/usr/share/doc/tool/README | package-file-modified | medium | changed=0 | dpkg "
                "md5sums | package=tool",
            }));
}

TEST(VerifyDpkgTest, DiversionIsFollowed) {
  TempRoot root;
  BuildDpkgRoot(root);
  // "wrap" diverts tool's binary to /usr/bin/tool.real and ships its own.
  std::string real = "#!/bin/sh\necho tool\n";
  std::string wrapper = "#!/bin/sh\nexec tool.real\n";
  root.Write("usr/bin/tool.real", real);
  root.Write("usr/bin/tool", wrapper);
  root.Write("var/lib/dpkg/diversions", "/usr/bin/tool\n/usr/bin/tool.real\nwrap\n");
  std::string status = *DefaultHost().ReadFile(root.Abs("var/lib/dpkg/status"), 1 << 20);
  root.Write("var/lib/dpkg/status",
             status +
                 "\nPackage: wrap\nStatus: install ok installed\nArchitecture: all\n"
                 "Version: 0.1\n");
  root.Write("var/lib/dpkg/info/wrap.list", "/usr/bin/tool\n");
  root.Write("var/lib/dpkg/info/wrap.md5sums", Md5Hex(wrapper) + "  usr/bin/tool\n");
  auto clean = VerifyPackageFiles(DefaultHost(), root.path(), 2);
  ASSERT_TRUE(clean.ok()) << clean.status().message();
  EXPECT_EQ(DescribeAll(*clean), std::vector<std::string>{});

  root.Write("usr/bin/tool.real", "tampered\n");
  auto events = VerifyPackageFiles(DefaultHost(), root.path(), 2);
  ASSERT_TRUE(events.ok()) << events.status().message();
  EXPECT_EQ(DescribeAll(*events),
            (std::vector<std::string>{"/usr/bin/tool.real | package-file-modified | medium | "
                                      "changed=2048 | dpkg md5sums | package=tool | "
                                      "new=file:tool.real:9"}));
}

TEST(VerifyDpkgTest, NeverFollowsSymlinksOutOfTheRoot) {
  TempRoot outside;
  std::string secret = "outside content\n";
  outside.Write("secret", secret);
  TempRoot root;
  root.Write("usr/lib/real.so", "lib\n");
  root.Symlink("/usr/lib", "lib");  // merged-/usr style absolute link, resolved inside root
  root.Symlink(outside.Abs("secret"), "etc/app.conf");  // last component: never followed
  root.Write("var/lib/dpkg/status",
             "Package: app\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n");
  root.Write("var/lib/dpkg/info/app.md5sums",
             Md5Hex("lib\n") + "  lib/real.so\n" + Md5Hex(secret) + "  etc/app.conf\n");
  auto events = VerifyPackageFiles(DefaultHost(), root.path(), 1);
  ASSERT_TRUE(events.ok()) << events.status().message();
  std::string link_size = std::to_string(outside.Abs("secret").size());
  EXPECT_EQ(DescribeAll(*events),
            (std::vector<std::string>{"/etc/app.conf | package-file-modified | medium | changed=1 "
                                      "| dpkg md5sums | package=app | new=symlink:app.conf:" +
                                      link_size}));
}

TEST(VerifyDpkgTest, UnreadableAndVanishingFiles) {
  TempRoot root;
  BuildDpkgRoot(root);
  FaultHost host(DefaultHost());
  // Unreadable: warnings, not findings. "tool" is also the directory of README.
  host.FailOn(FaultHost::Op::kOpen, "tool", EACCES);
  host.FailOn(FaultHost::Op::kRead, "libz.so.1.3", EIO);
  host.BeforeOnce(FaultHost::Op::kOpen, "tool.conf",
                  [&] { root.Remove("etc/tool.conf"); });  // vanishes after lstat
  std::vector<std::string> warnings;
  auto events = VerifyPackageFiles(host, root.path(), 2, &warnings);
  ASSERT_TRUE(events.ok()) << events.status().message();
  EXPECT_EQ(DescribeAll(*events),
            (std::vector<std::string>{"/etc/tool.conf | package-file-modified | medium | "
                                      "changed=0 | dpkg conffiles | package=tool"}));
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "/usr/bin/tool: tool: Permission denied",
                          "/usr/lib/libz.so.1.3: read libz.so.1.3: Input/output error",
                          "/usr/share/doc/tool/README: tool: Permission denied",
                      }));
}

TEST(VerifyDpkgTest, RootThatDoesNotExist) {
  auto events = VerifyPackageFiles(DefaultHost(), "/nonexistent/driftwatch-root", 1);
  EXPECT_EQ(events.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(events.status().message(), "/nonexistent/driftwatch-root: No such file or directory");
  auto direct = VerifyOwnedFiles(DefaultHost(), "/nonexistent/driftwatch-root", {}, 1);
  EXPECT_EQ(direct.status().code(), StatusCode::kNotFound);
}

std::string Q1(std::string_view data) {
  std::string raw = DigestHasher::Of(DigestAlgo::kSha1, data).bytes;
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Q1";
  for (size_t i = 0; i < raw.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(raw[i]) << 16;
    if (i + 1 < raw.size()) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
    if (i + 2 < raw.size()) n |= static_cast<unsigned char>(raw[i + 2]);
    out += kB64[n >> 18 & 63];
    out += kB64[n >> 12 & 63];
    out += i + 1 < raw.size() ? kB64[n >> 6 & 63] : '=';
    out += i + 2 < raw.size() ? kB64[n & 63] : '=';
  }
  return out;
}

TEST(VerifyApkTest, OneModifiedFileEndToEnd) {
  TempRoot root;
  std::string busybox = "busybox binary";
  std::string motd = "Welcome to Alpine!\n";
  root.Write("bin/busybox", busybox);
  root.Symlink("/bin/busybox", "bin/sh");
  root.Write("etc/motd", motd);
  root.Write("lib/apk/db/installed",
             "P:busybox\nV:1.36.1-r15\nA:x86_64\nF:bin\nR:busybox\nZ:" + Q1(busybox) +
                 "\nR:sh\nZ:" + Q1("/bin/busybox") +
                 "\n\nP:alpine-base\nV:3.19.1-r0\nA:x86_64\nF:etc\nR:motd\nZ:" + Q1(motd) + "\n\n");
  auto clean = VerifyPackageFiles(DefaultHost(), root.path(), 2);
  ASSERT_TRUE(clean.ok()) << clean.status().message();
  EXPECT_EQ(DescribeAll(*clean), std::vector<std::string>{});

  root.Write("etc/motd", "Welcome, intruder\n");
  root.Remove("bin/sh");
  root.Symlink("/tmp/evil", "bin/sh");
  auto events = VerifyPackageFiles(DefaultHost(), root.path(), 2);
  ASSERT_TRUE(events.ok()) << events.status().message();
  EXPECT_EQ(DescribeAll(*events),
            (std::vector<std::string>{
                "/bin/sh | package-file-modified | medium | changed=2048 | apk installed | "
                "package=busybox | new=symlink:sh:9",
                "/etc/motd | package-file-modified | medium | changed=2048 | apk installed | "
                "package=alpine-base | new=file:motd:18",
            }));
}

}  // namespace
}  // namespace driftwatch::packages
