#include "collector/tree_walk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/testing/memory_tree_store.h"

namespace driftwatch::collector {
namespace {

using ::testing::ElementsAre;
using testutil::MemoryTreeStore;
using testutil::TestFile;
using testutil::TreeBuilder;

std::vector<std::string> Names(const Level& level) {
  std::vector<std::string> out;
  for (size_t i = 0; i < level.size(); ++i) out.emplace_back(level.name(i));
  return out;
}

TEST(LevelTest, MergesNamesAndTellsAgreementAndSplitsApart) {
  MemoryTreeStore store;
  TreeBuilder h0;
  h0.Add("/a", TestFile("x")).Add("/same", TestFile("s")).Add("/d/f1", TestFile("1"));
  TreeBuilder h1 = h0;
  h1.Add("/d/f1", TestFile("2")).Add("/extra", TestFile("e"));
  TreeBuilder h2;
  h2.Add("/a", TestFile("y")).Add("/same", TestFile("s")).Add("/d", TestFile("z"));
  // h3 is h0 again: one group of two hosts.
  const std::vector<Hash128> roots = {
      testutil::StoreBuilt(store, h0), testutil::StoreBuilt(store, h1),
      testutil::StoreBuilt(store, h2), testutil::StoreBuilt(store, h0)};
  std::vector<TreeGroup> groups = GroupRoots(roots);
  ASSERT_EQ(groups.size(), 3u);
  auto level = Level::Load(store, std::move(groups));
  ASSERT_TRUE(level.ok()) << level.status().message();
  EXPECT_THAT(Names(*level), ElementsAre("a", "d", "extra", "same"));
  const size_t a = *level->Find("a"), d = *level->Find("d"), extra = *level->Find("extra"),
               same = *level->Find("same");
  EXPECT_TRUE(level->Agree(same));
  EXPECT_FALSE(level->Agree(a));      // y on h2
  EXPECT_FALSE(level->Agree(d));      // a file on h2
  EXPECT_FALSE(level->Agree(extra));  // on h1 only
  EXPECT_TRUE(level->Splits(d));      // two subtrees among the directories
  EXPECT_FALSE(level->Splits(a));
  const std::vector<TreeGroup> children = level->Children(d);
  ASSERT_EQ(children.size(), 2u);
  std::vector<uint32_t> dir_hosts;
  for (const TreeGroup& g : children) {
    dir_hosts.insert(dir_hosts.end(), g.hosts.begin(), g.hosts.end());
  }
  std::sort(dir_hosts.begin(), dir_hosts.end());
  EXPECT_THAT(dir_hosts, ElementsAre(0u, 1u, 3u));
  // Sides of `a`: x on three hosts, y on one.
  const std::vector<PathSide> sides = level->Sides(a);
  ASSERT_EQ(sides.size(), 2u);
  size_t x = sides[0].hosts.size() == 3 ? 0 : 1;
  EXPECT_THAT(sides[x].hosts, ElementsAre(0u, 1u, 3u));
  EXPECT_THAT(sides[1 - x].hosts, ElementsAre(2u));
}

TEST(LevelTest, DirectoriesWithOneSubtreeAgreeAndDoNotSplit) {
  MemoryTreeStore store;
  TreeBuilder h0;
  h0.Add("/a", TestFile("x")).Add("/d/f1", TestFile("1"));
  TreeBuilder h1 = h0;
  h1.Add("/a", TestFile("y"));
  std::vector<TreeGroup> groups =
      GroupRoots({testutil::StoreBuilt(store, h0), testutil::StoreBuilt(store, h1)});
  auto level = Level::Load(store, std::move(groups));
  ASSERT_TRUE(level.ok()) << level.status().message();
  const size_t d = *level->Find("d");
  EXPECT_TRUE(level->Agree(d));
  EXPECT_FALSE(level->Splits(d));
  EXPECT_EQ(level->Children(d).size(), 1u);
  // A host without the level's directory disagrees at every name.
  level->SetAbsent({2});
  EXPECT_FALSE(level->Agree(d));
}

}  // namespace
}  // namespace driftwatch::collector
