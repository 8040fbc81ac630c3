#include "agent/store_stat_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;

std::vector<CachedStat> SampleRows() {
  return {
      CachedStat{"a", 2049, 131, 4096, 1'700'000'000'123'456'789, 1'700'000'001'000'000'000,
                 1'700'000'002'000'000'000, Hasher::Of(HashAlgo::kSha256, "a"), true,
                 HashBytes("xattrs")},
      // Times before 1970 and a file that was not hashed (no digest).
      CachedStat{std::string("b\0\xff", 3), 0, UINT64_MAX, 0, -5, -1'000'000'000, 0, Digest(),
                 false, Hash128()},
      CachedStat{"c", 1, 2, 3, 4, 5, 6, Hasher::Of(HashAlgo::kXxh128, "c"), false, Hash128()},
  };
}

void ExpectSameRows(const std::vector<CachedStat>& got, const std::vector<CachedStat>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].name, want[i].name) << i;
    EXPECT_EQ(got[i].dev, want[i].dev) << i;
    EXPECT_EQ(got[i].ino, want[i].ino) << i;
    EXPECT_EQ(got[i].size, want[i].size) << i;
    EXPECT_EQ(got[i].mtime_ns, want[i].mtime_ns) << i;
    EXPECT_EQ(got[i].ctime_ns, want[i].ctime_ns) << i;
    EXPECT_EQ(got[i].scan_ns, want[i].scan_ns) << i;
    EXPECT_EQ(got[i].digest, want[i].digest) << i;
    EXPECT_EQ(got[i].has_xattrs, want[i].has_xattrs) << i;
    EXPECT_EQ(got[i].xattrs, want[i].xattrs) << i;
  }
}

TEST(StatRowsTest, RoundTripsEveryField) {
  const std::vector<CachedStat> rows = SampleRows();
  auto back = DecodeStatRows(EncodeStatRows(rows));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameRows(*back, rows);
  auto none = DecodeStatRows(EncodeStatRows({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(StatRowsTest, EveryTruncationAndTrailingBytesAreRefused) {
  const std::string bytes = EncodeStatRows(SampleRows());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeStatRows(bytes.substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  EXPECT_FALSE(DecodeStatRows(bytes + "x").ok());
  std::string other_format = bytes;
  other_format[0] = 2;
  EXPECT_FALSE(DecodeStatRows(other_format).ok());
}

TEST(StatRowsTest, UnknownDigestAlgorithmIsRefused) {
  std::vector<CachedStat> rows = {SampleRows()[2]};
  std::string bytes = EncodeStatRows(rows);
  // name "c" (2 bytes), six varints of one byte each: the algorithm follows.
  const size_t algo = 1 + 1 + 2 + 6;
  ASSERT_EQ(static_cast<uint8_t>(bytes[algo]), static_cast<uint8_t>(HashAlgo::kXxh128));
  bytes[algo] = 9;
  EXPECT_FALSE(DecodeStatRows(bytes).ok());
}

TEST(StatRowsTest, StoreKeepsOneRowPerDirectoryAndADamagedRowReadsEmpty) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  {
    auto store = Store::Open(DefaultHost(), path);
    ASSERT_TRUE(store.ok()) << store.status().message();
    ASSERT_TRUE((*store)->StoreDir("/srv", SampleRows()).ok());
    ASSERT_TRUE((*store)->StoreDir("/etc", {SampleRows()[0]}).ok());
    ASSERT_TRUE((*store)->Flush().ok());
    auto rows = (*store)->LoadDir("/srv");
    ASSERT_TRUE(rows.ok());
    ExpectSameRows(*rows, SampleRows());
  }
  {
    auto db = sqlite::Db::Open(path, AgentDbOptions());
    ASSERT_TRUE(db.ok());
    auto n = (*db)->Prepare("SELECT count(*) FROM stat_cache");
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(*n->Step());
    EXPECT_EQ(n->Int(0), 2);
    ASSERT_TRUE(
        (*db)->Exec("UPDATE stat_cache SET rows = x'01ff' WHERE dir = CAST('/srv' AS BLOB)").ok());
  }
  auto store = Store::Open(DefaultHost(), path);
  ASSERT_TRUE(store.ok());
  auto damaged = (*store)->LoadDir("/srv");
  ASSERT_TRUE(damaged.ok());
  EXPECT_TRUE(damaged->empty());  // every file re-read: nothing vouched for
  EXPECT_EQ((*store)->LoadDir("/etc")->size(), 1u);
}

TEST(StatRowsTest, MigrationFromV6DropsThePerFileRows) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  { ASSERT_TRUE(Store::Open(DefaultHost(), path).ok()); }
  {
    auto db = sqlite::Db::Open(path, AgentDbOptions());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("DROP TABLE stat_cache;"
                   "CREATE TABLE stat_cache(dir BLOB NOT NULL, name BLOB NOT NULL,"
                   " dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,"
                   " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
                   " scan_ns INTEGER NOT NULL, digest BLOB NOT NULL, xattrs BLOB,"
                   " PRIMARY KEY(dir, name)) WITHOUT ROWID;"
                   "INSERT INTO stat_cache VALUES('/etc', 'a', 1, 2, 3, 4, 5, 6, x'00', NULL);"
                   "UPDATE schema_versions SET version = 6 WHERE component = 'store'")
            .ok());
  }
  auto store = Store::Open(DefaultHost(), path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto rows = (*store)->LoadDir("/etc");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_TRUE(rows->empty());
  ASSERT_TRUE((*store)->StoreDir("/etc", SampleRows()).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  ExpectSameRows(*(*store)->LoadDir("/etc"), SampleRows());
}

}  // namespace
}  // namespace driftwatch::agent
