#include "packages/dpkg.h"

#include <gtest/gtest.h>

#include "packages/test_util.h"

namespace driftwatch::packages {
namespace {

constexpr std::string_view kSrc = "var/lib/dpkg/status";

FileDigest Md5(std::string_view hex) { return *FileDigest::FromHex(DigestAlgo::kMd5, hex); }

TEST(DpkgStatusTest, ParsesStanzas) {
  constexpr std::string_view kStatus =
      "Package: base-files\n"
      "Status: install ok installed\n"
      "Priority: required\n"
      "Architecture: amd64\n"
      "Version: 12.4+deb12u5\n"
      "Conffiles:\n"
      " /etc/debian_version 7f2b8f4d4c5b8d4b0c6d0e0c0f0a0b0c\n"
      " /etc/old file.conf 00112233445566778899aabbccddeeff obsolete\n"
      " /etc/gone.conf 00112233445566778899aabbccddeeff remove-on-upgrade\n"
      " /etc/new.conf newconffile\n"
      "Description: Debian base system miscellaneous files\n"
      " This package contains the basic filesystem hierarchy.\n"
      " .\n"
      " More: not a field.\n"
      "\n"
      "\n"
      "package: libc6\n"
      "STATUS: hold ok unpacked\n"
      "Multi-Arch: same\n"
      "Architecture: i386\n"
      "Version: 2.36-9\n"
      "\n"
      "Package: gone\n"
      "Status: purge ok not-installed\n";
  auto r = ParseDpkgStatus(kStatus, kSrc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<DpkgStanza> want = {
      {{"dpkg", "base-files", "12.4+deb12u5", "amd64", "installed"},
       "install",
       {{"/etc/debian_version", Md5("7f2b8f4d4c5b8d4b0c6d0e0c0f0a0b0c"), false, false},
        {"/etc/old file.conf", Md5("00112233445566778899aabbccddeeff"), true, false},
        {"/etc/gone.conf", Md5("00112233445566778899aabbccddeeff"), false, true},
        {"/etc/new.conf", FileDigest(), false, false}},
       1},
      {{"dpkg", "libc6", "2.36-9", "i386", "unpacked"}, "hold", {}, 17},
      {{"dpkg", "gone", "", "", "not-installed"}, "purge", {}, 23},
  };
  EXPECT_EQ(*r, want);
}

TEST(DpkgStatusTest, EmptyAndBlankOnly) {
  EXPECT_TRUE(ParseDpkgStatus("", kSrc)->empty());
  EXPECT_TRUE(ParseDpkgStatus("\n \n\t\n", kSrc)->empty());
}

TEST(DpkgStatusTest, RejectsCorruptInput) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case kCases[] = {
      {" leading continuation\n", "var/lib/dpkg/status:1: continuation line outside a field"},
      {"Package: a\nStatus: install ok installed\nno colon here\n",
       "var/lib/dpkg/status:3: expected 'Field: value', got 'no colon here'"},
      {"Package: a\nBad Field: x\n",
       "var/lib/dpkg/status:2: expected 'Field: value', got 'Bad Field: x'"},
      {"Package: a\nStatus: install ok installed\n\nVersion: 1\nStatus: install ok installed\n",
       "var/lib/dpkg/status:4: stanza has no Package field"},
      {"Package: a\nVersion: 1\n", "var/lib/dpkg/status:1: package 'a' has no Status field"},
      {"Package: a\nStatus: install installed\n",
       "var/lib/dpkg/status:2: Status 'install installed' is not 'want flag state'"},
      {"Package:\n", "var/lib/dpkg/status:1: empty Package field"},
      {"Package: a\nStatus: install ok installed\nConffiles:\n /etc/a\n",
       "var/lib/dpkg/status:4: conffile line '/etc/a' needs a path and a hash"},
      {"Package: a\nStatus: install ok installed\nConffiles:\n etc/a "
       "00112233445566778899aabbccddeeff\n",
       "var/lib/dpkg/status:4: conffile path 'etc/a' is not absolute"},
      {"Package: a\nStatus: install ok installed\nConffiles:\n /etc/a 0011\n",
       "var/lib/dpkg/status:4: conffile /etc/a: expected 32 hex digits for md5, got '0011'"},
      {"Package: a\nStatus: install ok installed\nConffiles: /etc/a\n",
       "var/lib/dpkg/status:3: Conffiles entries must be on continuation lines"},
  };
  for (const Case& c : kCases) {
    auto r = ParseDpkgStatus(c.text, kSrc);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << c.text;
    EXPECT_EQ(r.status().message(), c.message) << c.text;
  }
}

TEST(DpkgMd5sumsTest, Parses) {
  auto r = ParseDpkgMd5sums(
      "900150983cd24fb0d6963f7d28e17f72  usr/bin/abc\n"
      "\n"
      "d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/with space/x\n"
      "d41d8cd98f00b204e9800998ecf8427e  /usr/lib/leading-slash",
      "var/lib/dpkg/info/a.md5sums");
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<DpkgFileHash> want = {
      {"/usr/bin/abc", Md5("900150983cd24fb0d6963f7d28e17f72")},
      {"/usr/share/doc/with space/x", Md5("d41d8cd98f00b204e9800998ecf8427e")},
      {"/usr/lib/leading-slash", Md5("d41d8cd98f00b204e9800998ecf8427e")},
  };
  EXPECT_EQ(*r, want);
}

TEST(DpkgMd5sumsTest, Rejects) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case kCases[] = {
      {"900150983cd24fb0d6963f7d28e17f72usr/bin/abc\n",
       "info/a.md5sums:1: expected '<md5>  <path>', got "
       "'900150983cd24fb0d6963f7d28e17f72usr/bin/abc'"},
      {"ok\n", "info/a.md5sums:1: expected '<md5>  <path>', got 'ok'"},
      {"x00150983cd24fb0d6963f7d28e17f72  usr/bin/abc\n",
       "info/a.md5sums:1: bad hex digest 'x00150983cd24fb0d6963f7d28e17f72'"},
      {"900150983cd24fb0d6963f7d28e17f72  usr/a\n900150983cd24fb0d6963f7d28e17f72   \n",
       "info/a.md5sums:2: missing path"},
  };
  for (const Case& c : kCases) {
    auto r = ParseDpkgMd5sums(c.text, "info/a.md5sums");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(DpkgListTest, ParsesAndRejects) {
  auto r = ParseDpkgList("/.\n/etc\n/etc/foo\n/usr/share/x/.\n\n", "info/a.list");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, (std::vector<std::string>{"/etc", "/etc/foo", "/usr/share/x"}));
  auto bad = ParseDpkgList("/etc\netc/foo\n", "info/a.list");
  EXPECT_EQ(bad.status().message(), "info/a.list:2: path 'etc/foo' is not absolute");
}

TEST(DpkgDiversionsTest, ParsesAndRejects) {
  auto r = ParseDpkgDiversions(
      "/usr/bin/perf\n/usr/bin/perf.wrapper\nlinux-perf\n"
      "/etc/issue\n/etc/issue.orig\n:\n",
      "var/lib/dpkg/diversions");
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<DpkgDiversion> want = {{"/usr/bin/perf", "/usr/bin/perf.wrapper", "linux-perf"},
                                     {"/etc/issue", "/etc/issue.orig", ":"}};
  EXPECT_EQ(*r, want);
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case kCases[] = {
      {"/a\n/b\npkg\n/c\n/d\n", "d:4: incomplete diversion (needs from, to and package lines)"},
      {"/a\nb\npkg\n", "d:2: diverted path 'b' is not absolute"},
      {"/a\n/b\n\n", "d:3: empty package name"},
  };
  for (const Case& c : kCases) {
    auto bad = ParseDpkgDiversions(c.text, "d");
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_EQ(bad.status().message(), c.message);
  }
}

TEST(DpkgDbTest, NoDatabaseIsEmpty) {
  testing::TempRoot root;
  auto db = ReadDpkgDb(DefaultHost(), root.path(), true);
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_TRUE(db->packages.empty());
  EXPECT_TRUE(db->files.empty());
}

TEST(DpkgDbTest, CorruptStatusNamesFileAndLine) {
  testing::TempRoot root;
  root.Write("var/lib/dpkg/status", "Package: a\nStatus: install ok installed\n\nbroken\n");
  auto db = ReadDpkgDb(DefaultHost(), root.path(), false);
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(db.status().message(), "var/lib/dpkg/status:4: expected 'Field: value', got 'broken'");
}

TEST(DpkgDbTest, OwnedFilesMultiarchDiversionsConffiles) {
  testing::TempRoot root;
  root.Write("var/lib/dpkg/status",
             "Package: libfoo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n"
             "Multi-Arch: same\n\n"
             "Package: tool\nStatus: install ok installed\nArchitecture: all\nVersion: 2\n"
             "Conffiles:\n /etc/tool.conf 00112233445566778899aabbccddeeff\n"
             " /etc/tool.old 00112233445566778899aabbccddeeff obsolete\n\n"
             "Package: wrapper\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3\n\n"
             "Package: removed\nStatus: deinstall ok config-files\nVersion: 4\n"
             "Conffiles:\n /etc/removed.conf ffeeddccbbaa99887766554433221100\n\n"
             "Package: purged\nStatus: purge ok not-installed\n");
  root.Write("var/lib/dpkg/info/libfoo:amd64.list", "/.\n/usr\n/usr/lib/libfoo.so.1\n");
  root.Write("var/lib/dpkg/info/libfoo:amd64.md5sums",
             "900150983cd24fb0d6963f7d28e17f72  usr/lib/libfoo.so.1\n");
  root.Write("var/lib/dpkg/info/tool.list",
             "/.\n/etc\n/etc/tool.conf\n/etc/tool.old\n/usr/bin/tool\n");
  root.Write("var/lib/dpkg/info/tool.md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/bin/tool\n");
  root.Write("var/lib/dpkg/info/wrapper.list", "/usr/bin/tool\n");
  root.Write("var/lib/dpkg/info/wrapper.md5sums",
             "0cc175b9c0f1b6a831c399e269772661  usr/bin/tool\n");
  root.Write("var/lib/dpkg/diversions", "/usr/bin/tool\n/usr/bin/tool.real\nwrapper\n");
  auto db = ReadDpkgDb(DefaultHost(), root.path(), true);
  ASSERT_TRUE(db.ok()) << db.status().message();
  std::vector<Package> want_pkgs = {{"dpkg", "libfoo", "1", "amd64", "installed"},
                                    {"dpkg", "removed", "4", "", "config-files"},
                                    {"dpkg", "tool", "2", "all", "installed"},
                                    {"dpkg", "wrapper", "3", "amd64", "installed"}};
  EXPECT_EQ(db->packages, want_pkgs);
  struct Want {
    std::string path, package, expected, rule;
    bool conffile;
    size_t index;
  };
  std::vector<Want> want = {
      {"/usr", "libfoo", "", "dpkg list", false, 0},
      {"/usr/lib/libfoo.so.1", "libfoo", "md5:900150983cd24fb0d6963f7d28e17f72", "dpkg md5sums",
       false, 0},
      {"/etc/removed.conf", "removed", "md5:ffeeddccbbaa99887766554433221100", "dpkg conffiles",
       true, 1},
      {"/etc", "tool", "", "dpkg list", false, 2},
      {"/etc/tool.conf", "tool", "md5:00112233445566778899aabbccddeeff", "dpkg conffiles", true, 2},
      {"/usr/bin/tool.real", "tool", "md5:d41d8cd98f00b204e9800998ecf8427e", "dpkg md5sums", false,
       2},
      {"/usr/bin/tool", "wrapper", "md5:0cc175b9c0f1b6a831c399e269772661", "dpkg md5sums", false,
       3},
  };
  ASSERT_EQ(db->files.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].path);
    const OwnedFile& f = db->files[i];
    EXPECT_EQ(f.path, want[i].path);
    EXPECT_EQ(f.package, want[i].package);
    EXPECT_EQ(f.expected.Hex(), want[i].expected);
    EXPECT_EQ(f.rule, want[i].rule);
    EXPECT_EQ(f.conffile, want[i].conffile);
    EXPECT_EQ(f.package_index, want[i].index);
    EXPECT_FALSE(f.link_digest);
  }
}

}  // namespace
}  // namespace driftwatch::packages
