#include "agent/restore_fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/testing/mem_host.h"

namespace driftwatch::agent {
namespace {

using testutil::MemHost;

Entry FileEntry(uint32_t mode, uint32_t uid, uint32_t gid) {
  Entry e;
  e.type = EntryType::kFile;
  e.mask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrXattrs;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  return e;
}

std::optional<Entry> NoBaseline(const std::string&) { return std::nullopt; }

TEST(RestoreFsTest, WritesThroughATemporaryFileSyncedAndRenamed) {
  MemHost host;
  host.PutFile("/r/etc/app.conf", "new\n");
  host.ClearLog();
  auto fs = RestoreFs::Open(host, "/r", false);
  ASSERT_TRUE(fs.ok()) << fs.status().message();
  auto dir = fs->OpenParent("/etc/app.conf", NoBaseline);
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  const std::string content = "old\nline\n";
  const std::vector<Xattr> xattrs = {{"user.k", "v"}};
  ASSERT_TRUE(fs->Create(dir->get(), "app.conf", FileEntry(0640, 7, 8), &content, &xattrs).ok());
  const std::string tmp = "/r/etc/.app.conf.restore." + std::to_string(getpid()) + ".1";
  EXPECT_EQ(host.log(), (std::vector<std::string>{
                            "create " + tmp + " 0600",
                            "chown " + tmp + " 7:8",
                            "setxattr " + tmp + " user.k",
                            "chmod " + tmp + " 0640",
                            "fsync " + tmp + " 9 bytes",
                            "rename " + tmp + " /r/etc/app.conf",
                            "fsync /r/etc 0 bytes",
                        }));
  EXPECT_EQ(host.Contents("/r/etc/app.conf"), content);
  EXPECT_EQ(host.Mode("/r/etc/app.conf"), 0640u);
}

TEST(RestoreFsTest, RefusesASymlinkInAParentAndWritesNothing) {
  MemHost host;
  host.PutDir("/r/etc");
  host.PutDir("/outside");
  host.PutSymlink("/r/etc/app", "/outside");
  host.ClearLog();
  auto fs = RestoreFs::Open(host, "/r", false);
  ASSERT_TRUE(fs.ok());
  auto dir = fs->OpenParent("/etc/app/x.conf", NoBaseline);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dir.status().message(),
            "/etc/app is a symlink now (to /outside), not a directory: not followed out of the "
            "tree");
  EXPECT_TRUE(host.log().empty());
}

TEST(RestoreFsTest, MakesMissingParentsFromTheBaseline) {
  MemHost host;
  host.PutDir("/r");
  host.ClearLog();
  auto fs = RestoreFs::Open(host, "/r", false);
  ASSERT_TRUE(fs.ok());
  BaselineLookup lookup = [](const std::string& p) -> Result<std::optional<Entry>> {
    if (p != "/etc" && p != "/etc/app") return std::optional<Entry>();
    Entry e = FileEntry(p == "/etc" ? 0755 : 0700, 0, 0);
    e.type = EntryType::kDir;
    e.mask &= ~kAttrXattrs;
    return std::optional<Entry>(e);
  };
  auto dir = fs->OpenParent("/etc/app/x.conf", lookup);
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_EQ(host.Mode("/r/etc/app"), 0700u);
  EXPECT_FALSE(fs->OpenParent("/nope/x", lookup).ok());
}

TEST(RestoreFsTest, RemovesADirectoryWithContentsAndStopsAtTheDepthCap) {
  MemHost host;
  host.PutFile("/r/added/a/b/file", "x");
  host.PutSymlink("/r/added/link", "/etc");
  host.PutFile("/etc/passwd", "keep");
  auto fs = RestoreFs::Open(host, "/r", false);
  ASSERT_TRUE(fs.ok());
  auto root = host.OpenAt(AT_FDCWD, "/r", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(root.ok());
  uint64_t removed = 0;
  ASSERT_TRUE(fs->RemoveTree(root->get(), "added", &removed).ok());
  EXPECT_EQ(removed, 5u);
  EXPECT_FALSE(host.Exists("/r/added"));
  EXPECT_EQ(host.Contents("/etc/passwd"), "keep");  // the symlink went, not its target

  std::string deep = "/r/deep";
  for (size_t i = 0; i <= kMaxRemoveDepth; ++i) deep += "/d";
  host.PutFile(deep + "/f", "x");
  Status s = fs->RemoveTree(root->get(), "deep", &removed);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("directory levels to remove"), std::string::npos);
}

TEST(RestoreFsTest, DryRunChangesNothing) {
  MemHost host;
  host.PutFile("/r/etc/app.conf", "new\n");
  host.PutFile("/r/added/f", "x");
  host.ClearLog();
  auto fs = RestoreFs::Open(host, "/r", true);
  ASSERT_TRUE(fs.ok());
  auto dir = fs->OpenParent("/etc/app.conf", NoBaseline);
  ASSERT_TRUE(dir.ok());
  const std::string content = "old\n";
  EXPECT_TRUE(fs->Create(dir->get(), "app.conf", FileEntry(0600, 0, 0), &content, nullptr).ok());
  EXPECT_TRUE(fs->Chmod(dir->get(), "app.conf", FileEntry(0600, 0, 0)).ok());
  auto root = host.OpenAt(AT_FDCWD, "/r", O_RDONLY | O_DIRECTORY);
  uint64_t removed = 0;
  EXPECT_TRUE(fs->RemoveTree(root->get(), "added", &removed).ok());
  EXPECT_EQ(removed, 2u);
  EXPECT_TRUE(host.log().empty());
  EXPECT_EQ(host.Contents("/r/etc/app.conf"), "new\n");
}

}  // namespace
}  // namespace driftwatch::agent
