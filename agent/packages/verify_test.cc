#include "agent/packages/verify.h"

#include <gtest/gtest.h>

#include <sstream>

#include "agent/packages/packages_cmd.h"
#include "agent/packages/test_util.h"
#include "core/fault_host.h"
#include "core/hash.h"

namespace driftwatch::packages {
namespace {

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

// A small Debian root: two packages, one multiarch, with conffiles.
void BuildDpkgRoot(const TempRoot& root) {
  const std::string tool_bin = "#!/bin/sh\necho tool\n";
  const std::string tool_conf = "setting = 1\n";
  const std::string readme = "read me\n";
  const std::string old_conf = "old\n";
  const std::string libz =
      "\x7f"
      "ELF libz";
  root.Write("usr/bin/tool", tool_bin);
  root.Write("etc/tool.conf", tool_conf);
  root.Write("etc/tool-old.conf", old_conf);
  root.Write("usr/share/doc/tool/README", readme);
  root.Write("usr/lib/libz.so.1.3", libz);
  root.Symlink("libz.so.1.3", "usr/lib/libz.so.1");
  root.Write("var/lib/dpkg/status",
             "Package: libz\nStatus: install ok installed\nMulti-Arch: same\n"
             "Architecture: amd64\nVersion: 1:1.3-1\n\n"
             "Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2\n"
             "Conffiles:\n /etc/tool.conf " +
                 Md5Hex(tool_conf) + "\n /etc/tool-old.conf " + Md5Hex(old_conf) +
                 " obsolete\n"
                 "Description: a tool\n multi-line\n");
  root.Write("var/lib/dpkg/info/tool.list",
             "/.\n/etc\n/etc/tool.conf\n/etc/tool-old.conf\n/usr\n/usr/bin\n/usr/bin/tool\n"
             "/usr/share\n/usr/share/doc\n/usr/share/doc/tool\n/usr/share/doc/tool/README\n");
  root.Write(
      "var/lib/dpkg/info/tool.md5sums",
      Md5Hex(tool_bin) + "  usr/bin/tool\n" + Md5Hex(readme) + "  usr/share/doc/tool/README\n");
  root.Write("var/lib/dpkg/info/libz:amd64.list",
             "/.\n/usr\n/usr/lib\n/usr/lib/libz.so.1.3\n/usr/lib/libz.so.1\n");
  root.Write("var/lib/dpkg/info/libz:amd64.md5sums", Md5Hex(libz) + "  usr/lib/libz.so.1.3\n");
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
}  // namespace driftwatch::packages
