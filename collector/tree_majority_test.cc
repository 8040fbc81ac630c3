#include "collector/tree_majority.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/tree_compare.h"
#include "tests/testing/memory_tree_store.h"

namespace driftwatch::collector {
namespace {

using ::testing::IsEmpty;
using testutil::MemoryTreeStore;
using testutil::TestDir;
using testutil::TestFile;
using testutil::TreeBuilder;

TreeBuilder WebHost(const std::string& name) {
  TreeBuilder b;
  b.Add("/etc/hostname", TestFile(name + "\n"))
      .Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin no\n", 0600))
      .Add("/etc/cron.d/backup", TestFile("0 3 * * * root backup\n"))
      .Add("/usr/bin/nginx", TestFile("ELF nginx", 0755))
      .Add("/var/empty", TestDir());
  return b;
}

HostSpecificPaths Skip(std::vector<std::string> paths) {
  HostTree h;
  h.host_specific = std::move(paths);
  return HostSpecificPaths({h});
}

// The paths where the built tree and `want` differ ("" when none).
std::string DiffFrom(MemoryTreeStore& store, const Hash128& got, const TreeBuilder& want) {
  const Hash128 w = testutil::StoreBuilt(store, want);
  auto r = ComparePaths(store, w, got, "/", 100);
  if (!r.ok()) return "error: " + r.status().message();
  std::string out;
  for (const PathDiff& d : r->paths) out += d.path + " ";
  return out;
}

TEST(MajorityTreeTest, GroupOfFive) {
  MemoryTreeStore store;
  std::vector<Hash128> roots;
  for (int i = 1; i <= 5; ++i) {
    TreeBuilder b = WebHost("web" + std::to_string(i));
    if (i == 2) b.Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin yes\n", 0600));
    if (i == 4) b.Add("/etc/cron.d/extra", TestFile("x"));
    if (i == 5) b.Remove("/var/empty").Add("/usr/bin/nginx", TestFile("ELF nginx", 0700));
    roots.push_back(testutil::StoreBuilt(store, b));
  }
  const size_t before = store.object_count();
  auto root = StoreMajorityTree(store, roots, Skip({"/etc/hostname"}), 0);
  ASSERT_TRUE(root.ok()) << root.status().message();
  // The common tree, without the host-specific path: the very tree of a
  // host like the others without its hostname.
  TreeBuilder want = WebHost("any");
  want.Remove("/etc/hostname");
  EXPECT_EQ(DiffFrom(store, *root, want), "");
  EXPECT_EQ(*root, want.Build().root);
  // New objects: the root and /etc only (/etc/ssh, /etc/cron.d, /usr and
  // /var are the majority's own trees).
  EXPECT_EQ(store.object_count(), before + 2);
}

TEST(MajorityTreeTest, IdenticalHostsReuseTheirRoot) {
  MemoryTreeStore store;
  const Hash128 r = testutil::StoreBuilt(store, WebHost("same"));
  auto built = BuildMajorityTree(store, {r, r, r}, HostSpecificPaths());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->root, r);
  EXPECT_THAT(built->objects, IsEmpty());
  EXPECT_EQ(built->objects_loaded, 0);
}

TEST(MajorityTreeTest, OneHostWithoutItsHostSpecificPaths) {
  MemoryTreeStore store;
  const Hash128 r = testutil::StoreBuilt(store, WebHost("web1"));
  auto root = StoreMajorityTree(store, {r}, Skip({"/etc/hostname", "/var/empty"}), 0);
  ASSERT_TRUE(root.ok());
  TreeBuilder want = WebHost("web1");
  want.Remove("/etc/hostname").Remove("/var/empty");
  EXPECT_EQ(*root, want.Build().root);
}

TEST(MajorityTreeTest, AbsentOnMostIsLeftOutAndTiesAreStable) {
  for (bool reversed : {false, true}) {
    SCOPED_TRACE(reversed);
    MemoryTreeStore store;
    TreeBuilder a, b, c;
    a.Add("/etc/only-a", TestFile("a"))
        .Add("/etc/tie", TestFile("long"))
        .Add("/d/x", TestFile("1"));
    b.Add("/etc/tie", TestFile("s")).Add("/d/x", TestFile("22"));
    c.Add("/d/x", TestFile("22"));
    std::vector<Hash128> roots = {testutil::StoreBuilt(store, a), testutil::StoreBuilt(store, b),
                                  testutil::StoreBuilt(store, c)};
    if (reversed) std::swap(roots[0], roots[2]);
    auto root = StoreMajorityTree(store, roots, HostSpecificPaths(), 0);
    ASSERT_TRUE(root.ok());
    // /etc is on a and b, not c: its entries are chosen between a and b.
    // /etc/only-a ties with its absence, which has the smallest key and
    // wins; /etc/tie ties "long" against "s", the smaller size wins.
    TreeBuilder want;
    want.Add("/etc/tie", TestFile("s")).Add("/d/x", TestFile("22"));
    EXPECT_EQ(DiffFrom(store, *root, want), "");
  }
}

TEST(MajorityTreeTest, DirectoryAttributesFromTheMajorityContentFromAllHolders) {
  MemoryTreeStore store;
  TreeBuilder a, b, c;
  a.Add("/srv", TestDir(0700)).Add("/srv/f", TestFile("f"));
  b.Add("/srv", TestDir(0700)).Add("/srv/f", TestFile("g"));
  c.Add("/srv", TestDir(0755)).Add("/srv/f", TestFile("g"));
  auto root = StoreMajorityTree(store,
                                {testutil::StoreBuilt(store, a), testutil::StoreBuilt(store, b),
                                 testutil::StoreBuilt(store, c)},
                                HostSpecificPaths(), 0);
  ASSERT_TRUE(root.ok());
  TreeBuilder want;
  want.Add("/srv", TestDir(0700)).Add("/srv/f", TestFile("g"));
  EXPECT_EQ(*root, want.Build().root);
}

TEST(MajorityTreeTest, NoHostsAndMissingObjects) {
  MemoryTreeStore store;
  auto none = BuildMajorityTree(store, {}, HostSpecificPaths());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  const Hash128 stored = testutil::StoreBuilt(store, WebHost("a"));
  auto missing = BuildMajorityTree(store, {stored, WebHost("b").Build().root}, HostSpecificPaths());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace driftwatch::collector
