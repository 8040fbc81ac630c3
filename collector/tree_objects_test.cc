// Checks on tree objects and the GC mark (tree_objects.h), with a recording
// loader: shared subtrees are read once, cycles end, unknown objects are
// left out.
#include "collector/tree_objects.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/testing/tree_objects.h"

namespace driftwatch::collector {
namespace {

using testing::Dir;
using testing::DirEntry;
using testing::FileEntry;

TEST(ParseTreeIdTest, OnlyThirtyTwoLowercaseHexDigits) {
  auto id = ParseTreeId("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->Hex(), "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  for (const char* bad :
       {"", "0F1E2D3C4B5A69788796A5B4C3D2E1F0", "0f1e2d3c4b5a69788796a5b4c3d2e1f",
        "0f1e2d3c4b5a69788796a5b4c3d2e1f00", "0f1e2d3c4b5a69788796a5b4c3d2e1fg"}) {
    auto r = ParseTreeId(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(TreeChildrenTest, TheSubtreesOfDirectoriesInEntryOrder) {
  const TreeObject a = Dir({FileEntry("f", "1")});
  const TreeObject b = Dir({});
  const TreeObject parent =
      Dir({DirEntry("b", b), FileEntry("file", "x"), DirEntry("a", a)});  // sorted: a, b, file
  auto children = TreeChildren(parent.data);
  ASSERT_TRUE(children.ok()) << children.status().message();
  EXPECT_EQ(*children, (std::vector<Hash128>{a.id, b.id}));
  // A directory the agent did not descend names no object.
  Entry undescended = DirEntry("skipped", b);
  undescended.subtree = Hash128{};
  auto none = TreeChildren(Dir({undescended}).data);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(TreeChildren("junk").status().code(), StatusCode::kInvalidArgument);
}

TEST(MissingChildrenTest, ChildrenNotEarlierAndNotHeldEachOnce) {
  const TreeObject leaf = Dir({FileEntry("f", "1")});
  const TreeObject other = Dir({FileEntry("g", "2")});
  const TreeObject mid = Dir({DirEntry("leaf", leaf), DirEntry("other", other)});
  const TreeObject top = Dir({DirEntry("mid", mid), DirEntry("other", other)});
  std::vector<std::vector<Hash128>> asked;
  const HeldFn held_other = [&](const std::vector<Hash128>& ids) -> Result<std::vector<bool>> {
    asked.push_back(ids);
    std::vector<bool> out;
    for (const Hash128& id : ids) out.push_back(id == other.id);
    return out;
  };
  // leaf comes first, other is held: nothing missing; other asked once.
  auto missing = MissingChildren({leaf, mid, top}, held_other);
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  EXPECT_EQ(asked, (std::vector<std::vector<Hash128>>{{other.id}}));
  // The parent before its child: the child is missing.
  asked.clear();
  missing = MissingChildren({mid, leaf}, held_other);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::vector<Hash128>{leaf.id});
  // No children at all: the store is not asked.
  asked.clear();
  missing = MissingChildren({leaf}, held_other);
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  EXPECT_TRUE(asked.empty());
  TreeObject junk{HashBytes("junk"), "junk"};
  EXPECT_EQ(MissingChildren({junk}, held_other).status().code(), StatusCode::kInvalidArgument);
}

// A loader over a map that records every id it was asked for.
struct Recorder {
  std::map<Hash128, std::string> objects;
  std::vector<Hash128> reads;
  int calls = 0;
  LoadFn Fn() {
    return
        [this](const std::vector<Hash128>& ids) -> Result<std::vector<std::optional<std::string>>> {
          ++calls;
          std::vector<std::optional<std::string>> out;
          for (const Hash128& id : ids) {
            reads.push_back(id);
            auto it = objects.find(id);
            out.push_back(it == objects.end() ? std::nullopt : std::optional(it->second));
          }
          return out;
        };
  }
  void Add(const TreeObject& o) { objects[o.id] = o.data; }
};

TEST(MarkTreesTest, ReadsEachSharedObjectOnceAndLeavesOutUnknownOnes) {
  const TreeObject leaf = Dir({FileEntry("f", "1")});
  const TreeObject a = Dir({DirEntry("x", leaf)});
  const TreeObject b = Dir({DirEntry("y", leaf), FileEntry("z", "2")});
  const TreeObject root1 = Dir({DirEntry("a", a), DirEntry("b", b)});
  const TreeObject root2 = Dir({DirEntry("b", b)});
  const TreeObject gone = Dir({FileEntry("gone", "3")});
  const TreeObject dangling = Dir({DirEntry("gone", gone)});
  const TreeObject stray = Dir({FileEntry("stray", "4")});
  Recorder r;
  for (const TreeObject& o : {leaf, a, b, root1, root2, dangling, stray}) r.Add(o);
  auto kept = MarkTrees({root1.id, root2.id, dangling.id, root1.id}, r.Fn(), 2);
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ(*kept, (Hash128Set{leaf.id, a.id, b.id, root1.id, root2.id, dangling.id}));
  // Every object read once (gone asked once and not held), in batches of 2.
  EXPECT_EQ(r.reads.size(), 7u);
  EXPECT_EQ(Hash128Set(r.reads.begin(), r.reads.end()).size(), 7u);
  EXPECT_EQ(r.calls, 4);
}

TEST(MarkTreesTest, ACycleEnds) {
  // Ids are content hashes, so a real cycle cannot be built; a store that
  // answers a child's id with its parent's bytes makes one.
  const TreeObject child = Dir({FileEntry("f", "1")});
  const TreeObject parent = Dir({DirEntry("c", child)});
  Recorder r;
  r.Add(parent);
  r.objects[child.id] = parent.data;  // child names child
  auto kept = MarkTrees({parent.id}, r.Fn());
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, (Hash128Set{parent.id, child.id}));
  EXPECT_EQ(r.reads.size(), 2u);
}

}  // namespace
}  // namespace driftwatch::collector
