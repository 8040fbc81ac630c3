#include "core/fanotify_mounts.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

constexpr char kMountinfo[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 22 0:25 / /etc/my\\040dir rw shared:5 - tmpfs tmpfs rw\n"
    "garbage\n"
    "31 22 0:26 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw\n";

TEST(ParseMountPointsTest, DecodesEscapesAndSkipsMalformedLines) {
  EXPECT_EQ(ParseMountPoints(kMountinfo),
            (std::vector<std::string>{"/", "/etc/my dir", "/var/lib/docker/overlay2/x/merged"}));
  EXPECT_TRUE(ParseMountPoints("").empty());
}

TEST(MountChangeGapTest, OnlyMountsAtUnderOrAboveWatchedPaths) {
  const std::vector<std::string> base = {"/", "/proc", "/run"};
  const std::vector<std::string> watched = {"/etc/nginx", "/usr/bin"};
  auto with = [&base](std::string m) {
    auto v = base;
    v.push_back(std::move(m));
    return v;
  };
  EXPECT_EQ(MountChangeGap(base, with("/var/lib/docker/x/merged"), watched), "");
  EXPECT_EQ(MountChangeGap(base, with("/etc/nginxx"), watched), "");
  EXPECT_EQ(MountChangeGap(base, with("/etc/nginx/conf.d"), watched),
            "filesystem mounted at /etc/nginx/conf.d");
  EXPECT_EQ(MountChangeGap(base, with("/etc/nginx"), watched), "filesystem mounted at /etc/nginx");
  EXPECT_EQ(MountChangeGap(base, with("/etc"), watched), "filesystem mounted at /etc");
  EXPECT_EQ(MountChangeGap(with("/usr"), base, watched), "filesystem unmounted from /usr");
  EXPECT_EQ(MountChangeGap(base, base, watched), "");
  // A second mount stacked on the same point counts.
  auto twice = with("/etc");
  twice.push_back("/etc");
  EXPECT_EQ(MountChangeGap(with("/etc"), twice, watched), "filesystem mounted at /etc");
}

}  // namespace
}  // namespace driftwatch
