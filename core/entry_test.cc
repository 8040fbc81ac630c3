#include "core/entry.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

Entry File(std::string name, uint32_t mask) {
  Entry e;
  e.name = std::move(name);
  e.type = EntryType::kFile;
  e.mask = mask;
  e.mode = 0644;
  e.uid = 1;
  e.gid = 2;
  e.size = 3;
  e.mtime_ns = -5;  // before 1970 must survive
  e.ctime_ns = 7;
  e.inode = 99;
  e.nlink = 1;
  e.content = Hasher::Of(HashAlgo::kXxh128, "abc");
  e.xattrs = HashBytes("x");
  e.ApplyMask();
  return e;
}

TEST(EntryTest, TreeRoundTripKeepsMaskedAttributes) {
  Tree t;
  t.entries.push_back(File("a", kAllAttrs));
  Entry dir;
  dir.name = "d";
  dir.type = EntryType::kDir;
  dir.mask = kAttrType | kAttrPerm;
  dir.mode = 0755;
  dir.subtree = HashBytes("sub");
  t.entries.push_back(dir);
  Entry link;
  link.name = "l\n\xff";
  link.type = EntryType::kSymlink;
  link.mask = kAttrType | kAttrLink;
  link.link_target = "../a";
  t.entries.push_back(link);
  std::string bytes = SerializeTree(t);
  auto parsed = ParseTree(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->entries, t.entries);
}

TEST(EntryTest, UnmaskedAttributesDoNotChangeTheHash) {
  const uint32_t mask = kAttrType | kAttrPerm | kAttrHash;
  Entry a = File("f", mask);
  Entry b = File("f", mask);
  b.inode = 12345;  // volatile; zeroed by ApplyMask anyway
  b.ApplyMask();
  Tree ta{{a}}, tb{{b}};
  EXPECT_EQ(TreeHash(SerializeTree(ta)), TreeHash(SerializeTree(tb)));
  b.mode = 0600;
  Tree tc{{b}};
  EXPECT_NE(TreeHash(SerializeTree(ta)), TreeHash(SerializeTree(tc)));
  EXPECT_EQ(ChangedAttrs(a, b), kAttrPerm);
}

TEST(EntryTest, ParseRejectsCorruptInput) {
  Tree t{{File("a", kAllAttrs), File("b", kAllAttrs)}};
  std::string bytes = SerializeTree(t);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(ParseTree(bytes.substr(0, cut)).ok()) << cut;
  }
  std::string v2 = bytes;
  v2[0] = 2;
  EXPECT_EQ(ParseTree(v2).status().code(), StatusCode::kUnsupported);
  Tree unsorted{{File("b", kAllAttrs), File("a", kAllAttrs)}};
  EXPECT_FALSE(ParseTree(SerializeTree(unsorted)).ok());
}

TEST(EntryTest, AttrNamesRoundTrip) {
  for (uint32_t bit = 1; bit <= kAttrGrowing; bit <<= 1) {
    EXPECT_EQ(AttrFromName(AttrName(static_cast<Attr>(bit))), bit);
  }
  EXPECT_EQ(AttrFromName("bogus"), 0u);
  EXPECT_EQ(JoinPath("", "etc"), "/etc");
  EXPECT_EQ(JoinPath("/etc", "x"), "/etc/x");
}

}  // namespace
}  // namespace driftwatch
