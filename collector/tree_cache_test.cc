#include "collector/tree_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/tree_compare.h"
#include "collector/tree_outliers.h"
#include "tests/testing/memory_tree_store.h"

namespace driftwatch::collector {
namespace {

using ::testing::IsEmpty;
using testutil::MemoryTreeStore;
using testutil::TestFile;
using testutil::TreeBuilder;

// A one-entry tree told apart by its file's name.
Tree OneFile(const std::string& name) {
  Tree t;
  Entry e = TestFile(name);
  e.name = name;
  t.entries.push_back(e);
  return t;
}

Hash128 Id(int i) { return HashBytes("object " + std::to_string(i)); }

TEST(TreeCacheTest, GetAfterPutHandsBackTheSameTree) {
  TreeCache cache(1000);
  EXPECT_EQ(cache.Get(Id(1)), nullptr);
  auto put = cache.Put(Id(1), OneFile("a"), 100);
  ASSERT_NE(put, nullptr);
  auto got = cache.Get(Id(1));
  EXPECT_EQ(got, put);
  ASSERT_EQ(got->entries.size(), 1u);
  EXPECT_EQ(got->entries[0].name, "a");
  EXPECT_EQ(cache.Get(Id(2)), nullptr);
  const TreeCacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 2);
  EXPECT_EQ(s.objects, 1u);
  EXPECT_EQ(s.bytes, 100u);
}

TEST(TreeCacheTest, EvictsTheLeastRecentlyUsedByBytes) {
  TreeCache cache(300);
  cache.Put(Id(1), OneFile("a"), 100);
  cache.Put(Id(2), OneFile("b"), 100);
  cache.Put(Id(3), OneFile("c"), 100);
  EXPECT_EQ(cache.stats().bytes, 300u);
  // 1 is used again: 2 is now the least recently used, and goes first.
  ASSERT_NE(cache.Get(Id(1)), nullptr);
  cache.Put(Id(4), OneFile("d"), 100);
  EXPECT_EQ(cache.Get(Id(2)), nullptr);
  EXPECT_NE(cache.Get(Id(1)), nullptr);
  EXPECT_NE(cache.Get(Id(3)), nullptr);
  EXPECT_NE(cache.Get(Id(4)), nullptr);
  EXPECT_EQ(cache.stats().evictions, 1);
  EXPECT_EQ(cache.stats().bytes, 300u);
  // A large one makes room for itself by evicting as many as it needs:
  // 1, 3 and 4 were used in that order, so 1 and 3 go.
  cache.Put(Id(5), OneFile("e"), 250);
  EXPECT_EQ(cache.Get(Id(1)), nullptr);
  EXPECT_EQ(cache.Get(Id(3)), nullptr);
  EXPECT_EQ(cache.stats().objects, 1u);
  EXPECT_EQ(cache.stats().bytes, 250u);
  EXPECT_EQ(cache.stats().evictions, 4);
  EXPECT_NE(cache.Get(Id(5)), nullptr);
}

TEST(TreeCacheTest, TreeLargerThanTheBudgetIsHandedBackNotKept) {
  TreeCache cache(100);
  cache.Put(Id(1), OneFile("a"), 60);
  auto big = cache.Put(Id(2), OneFile("big"), 101);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->entries[0].name, "big");
  EXPECT_EQ(cache.Get(Id(2)), nullptr);
  // What was held stays.
  EXPECT_NE(cache.Get(Id(1)), nullptr);
  EXPECT_EQ(cache.stats().bytes, 60u);
}

TEST(TreeCacheTest, ZeroBudgetKeepsNothing) {
  TreeCache cache(0);
  EXPECT_NE(cache.Put(Id(1), OneFile("a"), 1), nullptr);
  EXPECT_EQ(cache.Get(Id(1)), nullptr);
  EXPECT_EQ(cache.stats().objects, 0u);
}

TEST(TreeCacheTest, SecondPutOfAnIdKeepsTheFirstAndChargesOnce) {
  TreeCache cache(1000);
  auto first = cache.Put(Id(1), OneFile("a"), 100);
  auto second = cache.Put(Id(1), OneFile("a"), 100);
  EXPECT_EQ(first, second);
  EXPECT_EQ(cache.stats().bytes, 100u);
  EXPECT_EQ(cache.stats().objects, 1u);
}

TEST(TreeCacheTest, EvictedTreeStaysValidForItsHolder) {
  TreeCache cache(100);
  auto held = cache.Put(Id(1), OneFile("a"), 100);
  cache.Put(Id(2), OneFile("b"), 100);
  EXPECT_EQ(cache.Get(Id(1)), nullptr);
  ASSERT_EQ(held->entries.size(), 1u);
  EXPECT_EQ(held->entries[0].name, "a");
}

TEST(TreeCacheTest, CostCountsTheSerializedBytesAndTheEntries) {
  Tree t = OneFile("a-name-longer-than-the-small-string-buffer");
  const size_t cost = TreeCost(t, 500);
  EXPECT_GE(cost, 500 + sizeof(Entry) + t.entries[0].name.size());
  Tree more = t;
  more.entries.push_back(more.entries[0]);
  EXPECT_GT(TreeCost(more, 500), cost);
}

// A group of hosts whose /etc differ by their hostname only, but for one.
struct Fleet {
  MemoryTreeStore store;
  std::vector<HostTree> hosts;
};
void MakeFleet(Fleet* f, int n) {
  for (int i = 0; i < n; ++i) {
    const std::string id = "web" + std::to_string(i);
    f->store.AddHost(id, "web");
    TreeBuilder b;
    b.Add("/etc/hostname", TestFile(id + "\n"))
        .Add("/etc/ssh/sshd_config", TestFile(i == 2 ? "PermitRootLogin yes\n" : "no\n"))
        .Add("/etc/passwd", TestFile("root:x:0:0\n"))
        .Add("/usr/bin/nginx", TestFile("ELF"));
    if (i == 3) b.Add("/etc/cron.d/extra", TestFile("* * * * * root true\n"));
    HostTree h;
    h.host_id = id;
    h.root = testutil::StoreBuilt(f->store, b);
    h.host_specific = {"/etc/hostname"};
    f->hosts.push_back(h);
  }
}

std::vector<std::string> Paths(const OutlierReport& r) {
  std::vector<std::string> out;
  for (const OutlierPath& p : r.paths) {
    std::string s = p.path + " " + std::to_string(p.holders);
    for (const Outlier& o : p.outliers) s += " " + o.host_id;
    out.push_back(s);
  }
  return out;
}

TEST(TreeCacheTest, OutliersWithTheCacheAreTheSameAndReadNothingTheSecondTime) {
  Fleet f;
  MakeFleet(&f, 6);
  auto plain = FindOutliers(f.store, f.hosts, "/", 1000);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  const std::vector<std::string> want = {"/etc/cron.d 5 web3", "/etc/ssh/sshd_config 5 web2"};
  EXPECT_EQ(Paths(*plain), want);

  TreeCache cache(size_t{1} << 20);
  f.store.ClearReads();
  auto cold = FindOutliers(f.store, f.hosts, "/", 1000, &cache);
  ASSERT_TRUE(cold.ok()) << cold.status().message();
  EXPECT_EQ(Paths(*cold), want);
  EXPECT_EQ(cold->ignored, plain->ignored);
  EXPECT_EQ(cold->differing_hosts, plain->differing_hosts);
  EXPECT_EQ(f.store.reads().size(), static_cast<size_t>(plain->objects_loaded));

  f.store.ClearReads();
  auto warm = FindOutliers(f.store, f.hosts, "/", 1000, &cache);
  ASSERT_TRUE(warm.ok()) << warm.status().message();
  EXPECT_EQ(Paths(*warm), want);
  EXPECT_EQ(warm->objects_loaded, plain->objects_loaded);
  EXPECT_THAT(f.store.reads(), IsEmpty());
  EXPECT_EQ(f.store.get_calls(), 0);
  EXPECT_GE(cache.stats().hits, plain->objects_loaded);
}

TEST(TreeCacheTest, TinyCacheGivesTheSameAnswerAndReadsAgain) {
  Fleet f;
  MakeFleet(&f, 6);
  auto plain = FindOutliers(f.store, f.hosts, "/", 1000);
  ASSERT_TRUE(plain.ok());
  TreeCache tiny(1);
  for (int round = 0; round < 2; ++round) {
    f.store.ClearReads();
    auto r = FindOutliers(f.store, f.hosts, "/", 1000, &tiny);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(Paths(*r), Paths(*plain));
    EXPECT_EQ(f.store.reads().size(), static_cast<size_t>(plain->objects_loaded));
  }
  EXPECT_EQ(tiny.stats().objects, 0u);
}

TEST(TreeCacheTest, CompareWithTheCacheMatchesWithout) {
  Fleet f;
  MakeFleet(&f, 4);
  TreeCache cache(size_t{1} << 20);
  for (int round = 0; round < 2; ++round) {
    auto plain = ComparePaths(f.store, f.hosts[2].root, f.hosts[3].root, "/", 1000);
    auto cached = ComparePaths(f.store, f.hosts[2].root, f.hosts[3].root, "/", 1000, &cache);
    ASSERT_TRUE(plain.ok() && cached.ok());
    ASSERT_EQ(cached->paths.size(), plain->paths.size());
    for (size_t i = 0; i < plain->paths.size(); ++i) {
      EXPECT_EQ(cached->paths[i].path, plain->paths[i].path);
      EXPECT_EQ(cached->paths[i].a, plain->paths[i].a);
      EXPECT_EQ(cached->paths[i].b, plain->paths[i].b);
    }
  }
}

}  // namespace
}  // namespace driftwatch::collector
