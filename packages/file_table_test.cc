#include "packages/file_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace driftwatch::packages {
namespace {

OwnedFile File(std::string path, std::string package, size_t index, std::string rule,
               FileDigest expected = {}, bool conffile = false, bool link = false) {
  OwnedFile f;
  f.path = std::move(path);
  f.package = std::move(package);
  f.package_index = index;
  f.rule = std::move(rule);
  f.expected = std::move(expected);
  f.conffile = conffile;
  f.link_digest = link;
  return f;
}

void ExpectSame(const OwnedFile& got, const OwnedFile& want) {
  EXPECT_EQ(got.path, want.path);
  EXPECT_EQ(got.package, want.package);
  EXPECT_EQ(got.package_index, want.package_index);
  EXPECT_EQ(got.rule, want.rule);
  EXPECT_EQ(got.expected, want.expected);
  EXPECT_EQ(got.conffile, want.conffile);
  EXPECT_EQ(got.link_digest, want.link_digest);
}

TEST(FileTableTest, KeepsEveryFieldInDatabaseOrder) {
  const FileDigest md5 = DigestHasher::Of(DigestAlgo::kMd5, "a");
  const FileDigest sha256 = DigestHasher::Of(DigestAlgo::kSha256, "b");
  std::vector<OwnedFile> want = {
      File("/usr/bin/a", "a", 0, "dpkg md5sums", md5),
      File("/etc/a.conf", "a", 0, "dpkg conffiles", md5, /*conffile=*/true),
      File("/usr", "a", 0, "dpkg list"),
      File("/lib/x", "b", 1, "apk installed", sha256, false, /*link=*/true),
      // Back to a package seen before: a chunk of its own, same answers.
      File("/usr/share/a", "a", 0, "a rule of its own", md5),
      File("/usr/share/a2", "a", 0, "rpm filedigests"),
  };
  FileTable t;
  for (const OwnedFile& f : want) t.push_back(f);
  ASSERT_EQ(t.size(), want.size());
  EXPECT_EQ(t.chunks().size(), 3u);
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].path);
    ExpectSame(t[i], want[i]);
    FileRef ref = t.Ref(i);
    EXPECT_EQ(t.Index(ref), i);
    EXPECT_EQ(t.path(ref), want[i].path);
    EXPECT_EQ(t.digest(ref), want[i].expected.bytes);
  }
  size_t n = 0;
  for (const OwnedFile& f : t) ExpectSame(f, want[n++]);
  EXPECT_EQ(n, want.size());
}

TEST(FileTableTest, AppendShiftsPackagesAndKeepsRules) {
  FileTable a, b;
  a.push_back(File("/a", "a", 0, "dpkg list"));
  b.push_back(File("/b", "b", 0, "custom"));
  b.push_back(File("/c", "c", 1, "dpkg md5sums", DigestHasher::Of(DigestAlgo::kMd5, "c")));
  FileTable::Chunk empty;
  a.AddChunk(std::move(empty));  // dropped
  a.Append(std::move(b), 5);
  EXPECT_TRUE(b.empty());
  ASSERT_EQ(a.size(), 3u);
  ExpectSame(a[0], File("/a", "a", 0, "dpkg list"));
  ExpectSame(a[1], File("/b", "b", 5, "custom"));
  ExpectSame(a[2], File("/c", "c", 6, "dpkg md5sums", DigestHasher::Of(DigestAlgo::kMd5, "c")));
}

TEST(FileTableTest, ChunkTakenOverWhole) {
  FileTable::Chunk c;
  c.package = "p";
  c.package_index = 3;
  c.Add("/x", DigestAlgo::kNone, {}, 0, FileTable::kRuleDpkgList);
  c.Add("/y", DigestAlgo::kMd5, std::string(16, 'z'), FileTable::kConffile,
        FileTable::kRuleDpkgConffiles);
  FileTable t;
  t.push_back(File("/w", "o", 0, "dpkg list"));
  t.AddChunk(std::move(c));
  ASSERT_EQ(t.size(), 3u);
  ExpectSame(t[2], File("/y", "p", 3, "dpkg conffiles",
                        FileDigest{DigestAlgo::kMd5, std::string(16, 'z')}, true));
  EXPECT_EQ(t.Ref(1).chunk, 1u);
  EXPECT_EQ(t.Ref(1).row, 0u);
}

}  // namespace
}  // namespace driftwatch::packages
