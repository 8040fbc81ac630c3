#include "core/normal_path.h"

#include <gtest/gtest.h>

#include <string>

namespace driftwatch {
namespace {

TEST(NormalPathTest, AcceptsNormalPaths) {
  const std::string ok[] = {
      "/",
      "/etc",
      "/etc/passwd",
      "/etc/nginx/sites-enabled/default",
      "/etc/.hidden",
      "/etc/...",
      "/etc/..x",
      "/etc/a b\tc\\d",
      "/etc/x[1]*?",
      "/etc/\xff\xfe",
      "/" + std::string(kMaxPathBytes - 1, 'a'),
  };
  for (const std::string& p : ok) EXPECT_TRUE(CheckNormalPath(p).ok()) << p;
  std::string deepest;
  for (size_t i = 0; i < kMaxPathComponents; ++i) deepest += "/a";
  EXPECT_TRUE(CheckNormalPath(deepest).ok());
}

TEST(NormalPathTest, RefusesWithTheReason) {
  std::string too_deep;
  for (size_t i = 0; i <= kMaxPathComponents; ++i) too_deep += "/a";
  const std::pair<std::string, std::string> bad[] = {
      {"", "must be an absolute path (start with '/')"},
      {"etc/passwd", "must be an absolute path (start with '/')"},
      {"./etc", "must be an absolute path (start with '/')"},
      {"container:web:/etc", "must be an absolute path (start with '/')"},
      {std::string("/etc/a\0b", 8), "contains a NUL byte"},
      {"/" + std::string(kMaxPathBytes, 'a'), "longer than 4096 bytes"},
      {"//etc", "empty path component"},
      {"/etc//passwd", "empty path component"},
      {"/etc/", "empty path component"},
      {"/..", "'.' and '..' components are not allowed"},
      {"/etc/../shadow", "'.' and '..' components are not allowed"},
      {"/etc/./passwd", "'.' and '..' components are not allowed"},
      {"/etc/..", "'.' and '..' components are not allowed"},
      {too_deep, "more than 128 components"},
  };
  for (const auto& [path, reason] : bad) {
    Status s = CheckNormalPath(path);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(s.message(), reason) << path;
  }
}

TEST(NormalPathTest, Components) {
  EXPECT_TRUE(CheckPathComponent("a").ok());
  EXPECT_TRUE(CheckPathComponent("...").ok());
  EXPECT_EQ(CheckPathComponent("").message(), "empty path component");
  EXPECT_EQ(CheckPathComponent(".").message(), "'.' and '..' components are not allowed");
  EXPECT_EQ(CheckPathComponent("..").message(), "'.' and '..' components are not allowed");
}

TEST(PathComponentsTest, SplitsAndSkipsEmptyComponents) {
  using V = std::vector<std::string>;
  EXPECT_EQ(PathComponents("/etc/ssh/sshd_config"), (V{"etc", "ssh", "sshd_config"}));
  EXPECT_EQ(PathComponents("/"), V{});
  EXPECT_EQ(PathComponents(""), V{});
  EXPECT_EQ(PathComponents("//a///b/"), (V{"a", "b"}));
  EXPECT_EQ(PathComponents("relative/x"), (V{"relative", "x"}));
}

}  // namespace
}  // namespace driftwatch
