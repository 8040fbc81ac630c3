#include "container/report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/testing/container_row.h"

namespace driftwatch::container {
namespace {

TEST(ReportTest, ContainerTableColumnsFitTheirWidestValue) {
  std::vector<DiscoveredContainer> found(3);
  for (DiscoveredContainer& c : found) c.drift_known = true;
  DriftEvent added;
  added.path = "/etc/x";
  added.kind = DriftKind::kAdded;
  found[1].events.push_back(added);
  found[2].drift_known = false;
  std::vector<ContainerInfo> rows = {
      testing::ContainerRow("web-1", "a", "docker", "busybox:1", "", true, 0),
      testing::ContainerRow("shop-web-7d9/nginx", "b", "containerd",
                            "registry.example.com/shop/nginx:1.27.3-bookworm",
                            "sha256:9c92d9cbbe7c754d7db35114a099a67b3dc2c97e475bfa11", true, 1),
      testing::ContainerRow("db", "c", "podman", "", "", false, 0)};
  rows[2].note = "root is btrfs\twithout\nan upper layer";
  std::istringstream text(DiscoveredText(found, rows));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  // Every column starts where its header does, however wide the values
  // (NOTE: rows without one end at DRIFT).
  for (const char* header : {"NAME", "IMAGE", "DIGEST", "DRIFT"}) {
    const size_t at = lines[0].find(header);
    ASSERT_NE(at, std::string::npos) << header;
    for (size_t i = 1; i < lines.size(); ++i) {
      ASSERT_GT(lines[i].size(), at) << header << " in " << lines[i];
      EXPECT_EQ(lines[i][at - 1], ' ') << header << " in " << lines[i];
      EXPECT_NE(lines[i][at], ' ') << header << " in " << lines[i];
    }
  }
  EXPECT_NE(
      lines[2].find("registry.example.com/shop/nginx:1.27.3-bookworm  9c92d9cbbe7c  1A/0C/0D"),
      std::string::npos)
      << lines[2];
  EXPECT_EQ(lines[3].find("root is btrfs without an upper layer"), lines[0].find("NOTE"))
      << lines[3];
  EXPECT_NE(lines[1].find("none"), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace driftwatch::container
