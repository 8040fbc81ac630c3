#include "collector/tree_compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tests/testing/memory_tree_store.h"

namespace driftwatch::collector {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using testutil::MemoryTreeStore;
using testutil::TestDir;
using testutil::TestFile;
using testutil::TestLink;
using testutil::TreeBuilder;

// A host's tree with a few levels and a deep file.
TreeBuilder Base() {
  TreeBuilder b;
  b.Add("/etc/hostname", TestFile("web1\n"))
      .Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin no\n", 0600))
      .Add("/etc/cron.d/backup", TestFile("0 3 * * * root backup\n"))
      .Add("/etc/motd", TestLink("/run/motd"))
      .Add("/usr/share/app/conf/deep/x.conf", TestFile("x=1\n"))
      .Add("/usr/share/app/conf/deep/y.conf", TestFile("y=1\n"))
      .Add("/usr/bin/tool", TestFile("ELF", 0755))
      .Add("/var/empty", TestDir());
  return b;
}

// "path status changed-attrs", one line per PathDiff.
std::vector<std::string> Lines(const CompareReport& r) {
  std::vector<std::string> out;
  for (const PathDiff& d : r.paths) {
    std::string s = d.path + (!d.a ? " only_b" : !d.b ? " only_a" : " differ");
    std::string attrs;
    for (std::string_view n : AttrNames(d.changed))
      attrs += (attrs.empty() ? "" : ",") + std::string(n);
    if (!attrs.empty()) s += " " + attrs;
    out.push_back(s);
  }
  return out;
}

struct Case {
  const char* name;
  std::function<void(TreeBuilder&)> edit_b;
  std::string prefix;
  size_t limit;
  std::vector<std::string> want;
  bool truncated;
};

TEST(ComparePathsTest, Table) {
  const std::vector<Case> cases = {
      {"identical trees", [](TreeBuilder&) {}, "/", 1000, {}, false},
      {"one changed file deep down",
       [](TreeBuilder& b) { b.Add("/usr/share/app/conf/deep/x.conf", TestFile("x=2\n")); },
       "/",
       1000,
       {"/usr/share/app/conf/deep/x.conf differ hash"},
       false},
      {"changed mode and size",
       [](TreeBuilder& b) {
         b.Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin yes\n", 0644));
       },
       "/",
       1000,
       {"/etc/ssh/sshd_config differ perm,size,hash"},
       false},
      {"added subtree is one path",
       [](TreeBuilder& b) {
         b.Add("/opt/new/bin/a", TestFile("a")).Add("/opt/new/bin/b", TestFile("b"));
       },
       "/",
       1000,
       {"/opt only_b"},
       false},
      {"added subtree inside a shared directory",
       [](TreeBuilder& b) { b.Add("/usr/share/other/x", TestFile("x")); },
       "/",
       1000,
       {"/usr/share/other only_b"},
       false},
      {"removed subtree",
       [](TreeBuilder& b) { b.Remove("/usr/share/app"); },
       "/",
       1000,
       {"/usr/share/app only_a"},
       false},
      {"emptied directory",
       [](TreeBuilder& b) { b.Remove("/etc/cron.d/backup"); },
       "/",
       1000,
       {"/etc/cron.d/backup only_a"},
       false},
      {"file became a directory",
       [](TreeBuilder& b) { b.Remove("/usr/bin/tool").Add("/usr/bin/tool/inner", TestFile("")); },
       "/",
       1000,
       {"/usr/bin/tool differ type"},
       false},
      {"symlink target",
       [](TreeBuilder& b) { b.Add("/etc/motd", TestLink("/etc/motd.d")); },
       "/",
       1000,
       {"/etc/motd differ link"},
       false},
      {"directory mode and content",
       [](TreeBuilder& b) {
         b.Add("/etc/cron.d", TestDir(0700)).Add("/etc/cron.d/backup", TestFile("changed"));
       },
       "/",
       1000,
       {"/etc/cron.d differ perm", "/etc/cron.d/backup differ size,hash"},
       false},
      {"several, in path order",
       [](TreeBuilder& b) {
         b.Add("/usr/bin/tool", TestFile("ELF2", 0755))
             .Add("/etc/hostname", TestFile("web2\n"))
             .Add("/etc/cron.d/zz", TestFile("z"))
             .Remove("/var/empty");
       },
       "/",
       1000,
       {"/etc/cron.d/zz only_b", "/etc/hostname differ hash", "/usr/bin/tool differ size,hash",
        "/var/empty only_a"},
       false},
      {"prefix keeps what is beneath it",
       [](TreeBuilder& b) {
         b.Add("/usr/bin/tool", TestFile("ELF2", 0755)).Add("/etc/hostname", TestFile("web2\n"));
       },
       "/etc",
       1000,
       {"/etc/hostname differ hash"},
       false},
      {"prefix naming a file",
       [](TreeBuilder& b) {
         b.Add("/etc/hostname", TestFile("web2\n")).Add("/etc/hosts", TestFile("h"));
       },
       "/etc/hostname",
       1000,
       {"/etc/hostname differ hash"},
       false},
      {"prefix naming a path only one side has",
       [](TreeBuilder& b) { b.Add("/opt/new/a", TestFile("a")); },
       "/opt/new",
       1000,
       {"/opt/new only_b"},
       false},
      {"prefix deep under a directory only one side has",
       [](TreeBuilder& b) { b.Add("/opt/new/a", TestFile("a")); },
       "/opt/new/a",
       1000,
       {"/opt/new/a only_b"},
       false},
      {"prefix that neither has",
       [](TreeBuilder& b) { b.Add("/etc/x", TestFile("x")); },
       "/nowhere/at/all",
       1000,
       {},
       false},
      {"a limit reached",
       [](TreeBuilder& b) {
         b.Add("/etc/a", TestFile("a")).Add("/etc/b", TestFile("b")).Add("/etc/c", TestFile("c"));
       },
       "/",
       2,
       {"/etc/a only_b", "/etc/b only_b"},
       true},
      {"a limit just met",
       [](TreeBuilder& b) { b.Add("/etc/a", TestFile("a")).Add("/etc/b", TestFile("b")); },
       "/",
       2,
       {"/etc/a only_b", "/etc/b only_b"},
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryTreeStore store;
    TreeBuilder a = Base();
    TreeBuilder b = Base();
    c.edit_b(b);
    const Hash128 ra = testutil::StoreBuilt(store, a);
    const Hash128 rb = testutil::StoreBuilt(store, b);
    ASSERT_FALSE(ra.IsZero());
    ASSERT_FALSE(rb.IsZero());
    store.ClearReads();
    auto r = ComparePaths(store, ra, rb, c.prefix, c.limit);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_THAT(Lines(*r), ElementsAreArray(c.want));
    EXPECT_EQ(r->truncated, c.truncated);
    // Each object is read at most once.
    const std::vector<Hash128> reads = store.reads();
    EXPECT_EQ(std::set<Hash128>(reads.begin(), reads.end()).size(), reads.size());
    EXPECT_EQ(r->objects_loaded, static_cast<int64_t>(reads.size()));
  }
}

TEST(ComparePathsTest, IdenticalTreesReadNothing) {
  MemoryTreeStore store;
  const Hash128 root = testutil::StoreBuilt(store, Base());
  store.ClearReads();
  auto r = ComparePaths(store, root, root, "/", 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->paths, IsEmpty());
  EXPECT_THAT(store.reads(), IsEmpty());
}

TEST(ComparePathsTest, ReadsOnlyTheObjectsOnTheChangedPath) {
  MemoryTreeStore store;
  TreeBuilder b = Base();
  b.Add("/usr/share/app/conf/deep/x.conf", TestFile("x=2\n"));
  const Hash128 ra = testutil::StoreBuilt(store, Base());
  const Hash128 rb = testutil::StoreBuilt(store, b);
  store.ClearReads();
  auto r = ComparePaths(store, ra, rb, "/", 1000);
  ASSERT_TRUE(r.ok());
  // Root, usr, share, app, conf, deep: two objects each, one call per level.
  EXPECT_EQ(store.reads().size(), 12u);
  EXPECT_EQ(store.get_calls(), 6);
  ASSERT_EQ(r->paths.size(), 1u);
  const PathDiff& d = r->paths[0];
  ASSERT_TRUE(d.a && d.b);
  EXPECT_EQ(d.a->name, "x.conf");
  EXPECT_EQ(d.a->content, TestFile("x=1\n").content);
  EXPECT_EQ(d.b->content, TestFile("x=2\n").content);
}

TEST(ComparePathsTest, DirectoryEntriesCarryTheirOwnSubtrees) {
  MemoryTreeStore store;
  TreeBuilder b = Base();
  b.Add("/etc/cron.d", TestDir(0700)).Add("/etc/cron.d/backup", TestFile("other"));
  TreeBuilder::Built ba = Base().Build();
  TreeBuilder::Built bb = b.Build();
  ASSERT_TRUE(store.PutTrees(ba.objects, 0).ok());
  ASSERT_TRUE(store.PutTrees(bb.objects, 0).ok());
  auto r = ComparePaths(store, ba.root, bb.root, "/etc/cron.d", 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->paths.size(), 2u);
  ASSERT_TRUE(r->paths[0].a && r->paths[0].b);
  EXPECT_NE(r->paths[0].a->subtree, r->paths[0].b->subtree);
  EXPECT_FALSE(r->paths[0].a->subtree.IsZero());
  EXPECT_FALSE(r->paths[0].b->subtree.IsZero());
}

TEST(ComparePathsTest, BadPrefixAndMissingObjects) {
  MemoryTreeStore store;
  const Hash128 ra = testutil::StoreBuilt(store, Base());
  TreeBuilder b = Base();
  b.Add("/etc/x", TestFile("x"));
  const TreeBuilder::Built bb = b.Build();  // never stored
  for (const char* bad : {"", "etc", "/etc/", "/etc/../x", "/a//b"}) {
    auto r = ComparePaths(store, ra, ra, bad, 10);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto r = ComparePaths(store, ra, bb.root, "/", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr(bb.root.Hex()));
}

}  // namespace
}  // namespace driftwatch::collector
