#include "container/image_special.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "container/layer_fs.h"

namespace driftwatch::container {
namespace {

TEST(ImageSpecialTest, Actions) {
  struct Case {
    mode_t mode;
    SpecialAction want;
  } cases[] = {
      {S_IFREG | 0755, SpecialAction::kKeep},       {S_IFREG | 04755, SpecialAction::kClearBits},
      {S_IFREG | 02755, SpecialAction::kClearBits}, {S_IFREG | 06711, SpecialAction::kClearBits},
      {S_IFDIR | 02775, SpecialAction::kKeep},      {S_IFDIR | 01777, SpecialAction::kKeep},
      {S_IFLNK | 0777, SpecialAction::kKeep},       {S_IFCHR | 0666, SpecialAction::kRemove},
      {S_IFBLK | 0660, SpecialAction::kRemove},     {S_IFIFO | 0644, SpecialAction::kKeep},
      {S_IFSOCK | 0755, SpecialAction::kKeep},      {S_IFREG | 01755, SpecialAction::kKeep},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SpecialFileAction(c.mode), c.want) << std::oct << c.mode;
  }
}

TEST(ImageSpecialTest, NeutralisesATree) {
  char tmpl[] = "/tmp/dw-special-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_EQ(mkdir((dir + "/bin").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir + "/shared").c_str(), 02775), 0);
  ASSERT_EQ(chmod((dir + "/shared").c_str(), 02775), 0);
  for (const char* f : {"/bin/su", "/bin/plain", "/shared/x"}) {
    int fd = open((dir + f).c_str(), O_WRONLY | O_CREAT, 0755);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  ASSERT_EQ(chmod((dir + "/bin/su").c_str(), 06755), 0);
  ASSERT_EQ(symlink("/bin/su", (dir + "/bin/sulink").c_str()), 0);
  const bool root = geteuid() == 0;
  uint64_t devices = 0, caps = 0;
  if (root) {
    ASSERT_EQ(mknod((dir + "/disk").c_str(), S_IFBLK | 0666, makedev(8, 0)), 0);
    ASSERT_EQ(mknod((dir + "/bin/mem").c_str(), S_IFCHR | 0666, makedev(1, 1)), 0);
    devices = 2;
    // cap_net_raw+ep (VFS_CAP_REVISION_2).
    const unsigned char cap[20] = {0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0x20};
    if (setxattr((dir + "/bin/plain").c_str(), "security.capability", cap, sizeof cap, 0) == 0)
      caps = 1;
  }
  auto counts = NeutraliseSpecialFiles(dir);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (SpecialFileCounts{devices, 1, caps}));
  struct stat st;
  ASSERT_EQ(stat((dir + "/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(stat((dir + "/shared").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02775u);  // setgid directories keep group inheritance
  EXPECT_NE(lstat((dir + "/disk").c_str(), &st), 0);
  EXPECT_NE(lstat((dir + "/bin/mem").c_str(), &st), 0);
  EXPECT_LT(getxattr((dir + "/bin/plain").c_str(), "security.capability", nullptr, 0), 0);
  ASSERT_EQ(lstat((dir + "/bin/sulink").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  RemoveTree(dir).IgnoreError();
}

}  // namespace
}  // namespace driftwatch::container
