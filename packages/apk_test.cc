#include "packages/apk.h"

#include <gtest/gtest.h>

#include "core/hash.h"

namespace driftwatch::packages {
namespace {

constexpr std::string_view kSrc = "lib/apk/db/installed";

TEST(ApkChecksumTest, Forms) {
  // SHA-1("abc") = a9993e36...; base64 of its 20 bytes.
  auto q1 = ParseApkChecksum("Q1qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  ASSERT_TRUE(q1.ok()) << q1.status().message();
  EXPECT_EQ(q1->Hex(), "sha1:a9993e364706816aba3e25717850c26c9cd0d89d");
  auto q2 = ParseApkChecksum("Q2ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  ASSERT_TRUE(q2.ok()) << q2.status().message();
  EXPECT_EQ(q2->Hex(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto md5 = ParseApkChecksum("900150983cd24fb0d6963f7d28e17f72");
  ASSERT_TRUE(md5.ok());
  EXPECT_EQ(md5->Hex(), "md5:900150983cd24fb0d6963f7d28e17f72");

  EXPECT_EQ(ParseApkChecksum("Q1Zm9").status().message(),
            "checksum 'Q1Zm9': base64: length 3 is not a multiple of 4");
  EXPECT_EQ(ParseApkChecksum("Q1Zm9vYg==").status().message(),
            "checksum 'Q1Zm9vYg==' has 4 bytes, expected 20");
  EXPECT_EQ(ParseApkChecksum("X1abc").status().message(), "unsupported checksum 'X1abc'");
}

TEST(ApkInstalledTest, Parses) {
  constexpr std::string_view kDb =
      "C:Q1Mrs5a1fGzKzcIEIdNSp8dc6yPNs=\n"
      "P:zlib\n"
      "V:1.3.1-r0\n"
      "A:x86_64\n"
      "S:53721\n"
      "T:A compression/decompression Library\n"
      "F:lib\n"
      "R:libz.so.1\n"
      "a:0:0:777\n"
      "Z:Q1qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\n"
      "R:libz.so.1.3.1\n"
      "a:0:0:755\n"
      "Z:Q1qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\n"
      "\n"
      "P:alpine-baselayout\n"
      "V:3.4.3-r2\n"
      "A:x86_64\n"
      "F:etc\n"
      "R:motd\n"
      "Z:Q2ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=\n"
      "F:etc/apk/\n"
      "M:0:0:755\n"
      "R:world\n"
      "\n";
  auto r = ParseApkInstalled(kDb, kSrc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<Package> want = {{"apk", "alpine-baselayout", "3.4.3-r2", "x86_64", "installed"},
                               {"apk", "zlib", "1.3.1-r0", "x86_64", "installed"}};
  EXPECT_EQ(r->packages, want);
  struct WantFile {
    std::string path, package, expected;
    size_t index;
  };
  std::vector<WantFile> want_files = {
      {"/etc/motd", "alpine-baselayout",
       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 0},
      {"/etc/apk/world", "alpine-baselayout", "", 0},
      {"/lib/libz.so.1", "zlib", "sha1:a9993e364706816aba3e25717850c26c9cd0d89d", 1},
      {"/lib/libz.so.1.3.1", "zlib", "sha1:a9993e364706816aba3e25717850c26c9cd0d89d", 1},
  };
  ASSERT_EQ(r->files.size(), want_files.size());
  for (size_t i = 0; i < want_files.size(); ++i) {
    SCOPED_TRACE(want_files[i].path);
    EXPECT_EQ(r->files[i].path, want_files[i].path);
    EXPECT_EQ(r->files[i].package, want_files[i].package);
    EXPECT_EQ(r->files[i].expected.Hex(), want_files[i].expected);
    EXPECT_EQ(r->files[i].package_index, want_files[i].index);
    EXPECT_EQ(r->files[i].rule, "apk installed");
    EXPECT_TRUE(r->files[i].link_digest);
    EXPECT_FALSE(r->files[i].conffile);
  }
}

TEST(ApkInstalledTest, RejectsCorruptInput) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case kCases[] = {
      {"P:a\nnot a field\n", "lib/apk/db/installed:2: expected 'X:value', got 'not a field'"},
      {"P:a\nF:x\nZ:Q1qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\n",
       "lib/apk/db/installed:3: Z: without a preceding R:"},
      {"P:a\nF:x\nR:y\nZ:Q1qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\nZ:Q1qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\n",
       "lib/apk/db/installed:5: second Z: for one R:"},
      {"P:a\nF:x\nR:y\nZ:Q1!!!!\n",
       "lib/apk/db/installed:4: checksum 'Q1!!!!': base64: bad character at offset 0"},
      {"V:1\nA:x86_64\n\n", "lib/apk/db/installed:1: package has no P: field"},
      {"P:a\nF:x\nR:y/z\n", "lib/apk/db/installed:3: bad file name 'y/z'"},
      {"P:\n", "lib/apk/db/installed:1: empty package name"},
  };
  for (const Case& c : kCases) {
    auto r = ParseApkInstalled(c.text, kSrc);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(r.status().message(), c.message) << c.text;
  }
}

}  // namespace
}  // namespace driftwatch::packages
