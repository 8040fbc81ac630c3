#include "core/private_file.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

struct stat Stat(mode_t mode) {
  struct stat st {};
  st.st_mode = mode;
  return st;
}

TEST(PrivateFileTest, AnyGroupOrOtherBitIsOpen) {
  EXPECT_FALSE(OpenToOthers(S_IFREG | 0600));
  EXPECT_FALSE(OpenToOthers(S_IFREG | 0400));
  EXPECT_FALSE(OpenToOthers(S_IFDIR | 0700));
  EXPECT_TRUE(OpenToOthers(S_IFREG | 0640));
  EXPECT_TRUE(OpenToOthers(S_IFREG | 0601));
  EXPECT_TRUE(OpenToOthers(S_IFDIR | 0710));
}

TEST(PrivateFileTest, OctalModeIsWhatChmodTakes) {
  EXPECT_EQ(OctalMode(S_IFREG | 0644), "0644");
  EXPECT_EQ(OctalMode(S_IFREG | 0600), "0600");
  EXPECT_EQ(OctalMode(S_IFDIR | 01777), "1777");
  EXPECT_EQ(OctalMode(S_IFREG | 04755), "4755");
}

TEST(PrivateFileTest, RefusalNamesModeAndFix) {
  EXPECT_TRUE(CheckPrivate(Stat(S_IFREG | 0600), "/t", "the token", "use").ok());
  Status file = CheckPrivate(Stat(S_IFREG | 0644), "/etc/dw/t", "the token", "use");
  EXPECT_EQ(file.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(file.message(),
            "/etc/dw/t: mode 0644 lets other users read the token; refusing to use it. Fix: "
            "chmod 600 /etc/dw/t");
  Status dir = CheckPrivate(Stat(S_IFDIR | 0755), "/srv/dw", "its list of files", "use");
  EXPECT_EQ(dir.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dir.message(),
            "/srv/dw: mode 0755 lets other users read its list of files; refusing to use it. "
            "Fix: chmod 700 /srv/dw");
}

TEST(PrivateFileTest, FileTypeNames) {
  EXPECT_STREQ(FileTypeName(S_IFDIR | 0755), "a directory");
  EXPECT_STREQ(FileTypeName(S_IFIFO | 0600), "a FIFO");
  EXPECT_STREQ(FileTypeName(S_IFCHR | 0666), "a character device");
  EXPECT_STREQ(FileTypeName(S_IFREG | 0600), "a regular file");
}

}  // namespace
}  // namespace driftwatch
