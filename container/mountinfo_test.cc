#include "container/mountinfo.h"

#include <gtest/gtest.h>

namespace driftwatch::container {
namespace {

TEST(MountInfoTest, ParsesTable) {
  struct Case {
    const char* line;
    MountInfo want;
  };
  const Case cases[] = {
      {"26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
       {26, 1, 254, 0, "/", "/", "rw,relatime", {}, "ext4", "/dev/vda", "rw,discard"}},
      {"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime shared:9 master:2 - cgroup cgroup rw,cpu",
       {31,
        30,
        0,
        28,
        "/",
        "/sys/fs/cgroup/cpu",
        "rw,relatime",
        {"shared:9", "master:2"},
        "cgroup",
        "cgroup",
        "rw,cpu"}},
      {"40 26 0:50 /sub\\040dir /mnt/with\\040space\\011tab rw - tmpfs my\\134src rw",
       {40, 26, 0, 50, "/sub dir", "/mnt/with space\ttab", "rw", {}, "tmpfs", "my\\src", "rw"}},
      {"41 26 0:51 / /new\\012line rw - overlay overlay "
       "rw,lowerdir=/img,upperdir=/c/upper,workdir=/c/work",
       {41,
        26,
        0,
        51,
        "/",
        "/new\nline",
        "rw",
        {},
        "overlay",
        "overlay",
        "rw,lowerdir=/img,upperdir=/c/upper,workdir=/c/work"}},
  };
  for (const Case& c : cases) {
    auto got = ParseMountInfo(c.line);
    ASSERT_TRUE(got.ok()) << c.line << ": " << got.status().ToString();
    ASSERT_EQ(got->size(), 1u) << c.line;
    EXPECT_EQ((*got)[0], c.want) << c.line;
  }
}

TEST(MountInfoTest, ParsesSeveralLinesAndSkipsBlank) {
  auto got =
      ParseMountInfo("1 0 0:1 / / rw - rootfs rootfs rw\n\n2 1 0:2 / /proc rw - proc proc rw\n");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[1].mount_point, "/proc");
  EXPECT_EQ(FindMount(*got, "/proc"), &(*got)[1]);
  EXPECT_EQ(FindMount(*got, "/nope"), nullptr);
}

TEST(MountInfoTest, RejectsMalformedWithLineNumber) {
  const char* bad[] = {
      "1 0 0:1 / / rw rootfs rootfs rw x y",  // no separator
      "x 0 0:1 / / rw - rootfs rootfs rw",    // bad id
      "1 0 01 / / rw - rootfs rootfs rw",     // bad device
      "1 0 0:1 / / rw - rootfs rootfs",       // missing super options
      "1 0 0:1 /",                            // too short
      "1 0 0:1 / mnt rw - tmpfs tmpfs rw",    // relative mount point
      "1 0 0:1 / \\040 rw - tmpfs tmpfs rw",  // a space, not a path
  };
  for (const char* line : bad) {
    std::string text = std::string("1 0 0:1 / / rw - rootfs rootfs rw\n") + line + "\n";
    auto got = ParseMountInfo(text);
    ASSERT_FALSE(got.ok()) << line;
    EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
    EXPECT_NE(got.status().message().find("mountinfo:2:"), std::string::npos)
        << got.status().message();
  }
}

TEST(MountInfoTest, CapsInputSize) {
  std::string huge(kMaxMountInfoBytes + 1, ' ');
  EXPECT_EQ(ParseMountInfo(huge).status().code(), StatusCode::kResourceExhausted);
}

TEST(MountInfoTest, OverlayLayers) {
  MountInfo m;
  m.fstype = "overlay";
  m.super_options = "rw,lowerdir=/l1:/l\\:2,upperdir=/u\\,x,workdir=/w,redirect_dir=on";
  auto layers = OverlayLayersOf(m);
  ASSERT_TRUE(layers.has_value());
  EXPECT_EQ(layers->lower, (std::vector<std::string>{"/l1", "/l:2"}));
  EXPECT_EQ(layers->upper, "/u,x");
  EXPECT_EQ(layers->work, "/w");

  m.super_options = "ro,lowerdir+=/a,lowerdir+=/b";
  layers = OverlayLayersOf(m);
  ASSERT_TRUE(layers.has_value());
  EXPECT_EQ(layers->lower, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(layers->upper, "");

  m.fstype = "ext4";
  EXPECT_FALSE(OverlayLayersOf(m).has_value());
}

}  // namespace
}  // namespace driftwatch::container
