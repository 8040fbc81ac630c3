#include "container/volume_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>

#include "container/layer_fs.h"

namespace driftwatch::container {
namespace {

TEST(VolumeSourceTest, PathText) {
  struct Case {
    const char* path;
    bool ok;
  } cases[] = {
      {"/srv/data", true},    {"/srv", true},         {"/srv/data/", false}, {"/srv//data", false},
      {"/srv/./data", false}, {"/srv/../etc", false}, {"srv/data", false},   {"", false},
      {"/srv/data/.", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CheckVolumeSourcePath(c.path).ok(), c.ok) << c.path;
  }
}

class VolumeSourceFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw-volsrc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/real").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/real/sub").c_str(), 0755), 0);
    ASSERT_EQ(symlink((dir_ + "/real").c_str(), (dir_ + "/link").c_str()), 0);
    ASSERT_EQ(symlink("/", (dir_ + "/rootlink").c_str()), 0);
  }
  void TearDown() override { RemoveTree(dir_).IgnoreError(); }
  std::string dir_;
};

TEST_F(VolumeSourceFsTest, SymlinksAnywhereAreRefusedByBothResolvers) {
  for (auto open_fn : {&OpenVolumeSource, &OpenVolumeSourceByComponent}) {
    auto ok = open_fn(dir_ + "/real/sub");
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    struct stat a, b;
    ASSERT_EQ(fstat(ok->get(), &a), 0);
    ASSERT_EQ(stat((dir_ + "/real/sub").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);

    auto last = open_fn(dir_ + "/link");
    ASSERT_FALSE(last.ok());
    EXPECT_EQ(last.status().message(),
              "volume source " + dir_ + "/link is a symlink; give the real path (refused)");
    auto middle = open_fn(dir_ + "/link/sub");
    ASSERT_FALSE(middle.ok());
    EXPECT_EQ(middle.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(middle.status().message(), "volume source " + dir_ + "/link/sub: " + dir_ +
                                             "/link is a symlink; give the real path (refused)");
    auto trailing = open_fn(dir_ + "/link/");
    ASSERT_FALSE(trailing.ok());
    EXPECT_NE(trailing.status().message().find("trailing '/'"), std::string::npos);
    auto root = open_fn("/");
    ASSERT_FALSE(root.ok());
    EXPECT_EQ(root.status().message(), "volume source / is the host root; refused");
    auto via_link = open_fn(dir_ + "/rootlink");
    EXPECT_FALSE(via_link.ok());
    auto missing = open_fn(dir_ + "/real/none");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    // Magic links of /proc are symlinks too.
    EXPECT_FALSE(open_fn("/proc/self/root").ok());
  }
}

}  // namespace
}  // namespace driftwatch::container
