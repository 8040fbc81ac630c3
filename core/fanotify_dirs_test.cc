#include "core/fanotify_dirs.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

TEST(PathAtOrUnderTest, ComponentBoundaries) {
  EXPECT_TRUE(PathAtOrUnder("/etc", "/etc"));
  EXPECT_TRUE(PathAtOrUnder("/etc/x", "/etc"));
  EXPECT_FALSE(PathAtOrUnder("/etcx", "/etc"));
  EXPECT_FALSE(PathAtOrUnder("/et", "/etc"));
  EXPECT_TRUE(PathAtOrUnder("/anything", "/"));
  EXPECT_TRUE(PathAtOrUnder("/", "/"));
}

TEST(DirHandleCacheTest, ForgetTreeTakesThePathAndEverythingUnderIt) {
  DirHandleCache cache;
  cache.Insert("h1", "/etc");
  cache.Insert("h2", "/etc/a");
  cache.Insert("h3", "/etc/a/b");
  cache.Insert("h4", "/etc/a-b");
  cache.Insert("h5", "/etc/a.d");
  cache.Insert("h6", "/etc/ab");
  cache.ForgetTree("/etc/a");
  EXPECT_EQ(cache.Find("h2"), nullptr);
  EXPECT_EQ(cache.Find("h3"), nullptr);
  ASSERT_NE(cache.Find("h1"), nullptr);
  EXPECT_EQ(*cache.Find("h1"), "/etc");
  EXPECT_EQ(*cache.Find("h4"), "/etc/a-b");
  EXPECT_EQ(*cache.Find("h5"), "/etc/a.d");
  EXPECT_EQ(*cache.Find("h6"), "/etc/ab");
  EXPECT_EQ(cache.size(), 4u);
  cache.ForgetTree("/");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(DirHandleCacheTest, ReinsertReplacesBothWaysAndStaysBounded) {
  DirHandleCache cache(3);
  cache.Insert("h1", "/a");
  cache.Insert("h1", "/b");  // moved
  EXPECT_EQ(*cache.Find("h1"), "/b");
  cache.Insert("h2", "/b");  // another directory now at /b
  EXPECT_EQ(cache.Find("h1"), nullptr);
  EXPECT_EQ(*cache.Find("h2"), "/b");
  cache.ForgetTree("/a");
  EXPECT_EQ(cache.size(), 1u);
  cache.Insert("h3", "/c");
  cache.Insert("h4", "/d");
  EXPECT_EQ(cache.size(), 3u);
  cache.Insert("h5", "/e");
  EXPECT_LE(cache.size(), 3u);
  EXPECT_EQ(*cache.Find("h5"), "/e");
}

}  // namespace
}  // namespace driftwatch
