#include "core/bolt.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/testing/bolt_builder.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::bolt {
namespace {

using testutil::BoltBucket;
using testutil::BuildBoltFile;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%05d", i);
  return buf;
}

// v1/default/containers/ with many keys (branch pages), an inline bucket,
// a page-backed bucket and a value spanning overflow pages.
BoltBucket Sample() {
  BoltBucket root;
  BoltBucket& ns = root.Sub("v1").Sub("default");
  BoltBucket& many = ns.Sub("containers");
  for (int i = 0; i < 300; ++i) many.Put(Key(i), "value-" + std::to_string(i));
  ns.Sub("labels").Put("a", "1").Put("b", "2");  // inline
  ns.Sub("paged").AllowInline(false).Put("x", "y");
  ns.Put("big", std::string(10000, 'z'));
  root.Sub("v1").Put("version", "\x03");
  return root;
}

std::unique_ptr<const BoltDb> OpenOk(std::string bytes) {
  auto db = BoltDb::Open(std::move(bytes));
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(*db) : nullptr;
}

TEST(BoltTest, ReadsBucketsValuesBranchesAndOverflow) {
  auto db = OpenOk(BuildBoltFile(Sample(), 9, 4096, 16));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->page_size(), 4096u);
  EXPECT_EQ(db->txid(), 9u);
  auto ns = db->Root().Path({"v1", "default"});
  ASSERT_TRUE(ns.ok() && *ns);

  auto items = (*ns)->Items();
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 4u);
  EXPECT_EQ((*items)[0].key, "big");
  EXPECT_EQ((*items)[0].value, std::string(10000, 'z'));
  EXPECT_FALSE((*items)[0].is_bucket);
  EXPECT_EQ((*items)[1].key, "containers");
  EXPECT_TRUE((*items)[1].is_bucket);
  EXPECT_EQ((*items)[2].key, "labels");
  EXPECT_EQ((*items)[3].key, "paged");

  auto many = (*ns)->Sub("containers");
  ASSERT_TRUE(many.ok() && *many);
  auto all = (*many)->Items();
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 300u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ((*all)[i].key, Key(i));
    EXPECT_EQ((*all)[i].value, "value-" + std::to_string(i));
  }
  for (int i : {0, 15, 16, 17, 150, 299}) {
    auto v = (*many)->Get(Key(i));
    ASSERT_TRUE(v.ok() && *v) << i;
    EXPECT_EQ(**v, "value-" + std::to_string(i));
  }
  for (std::string missing : {"", "a", "k00000x", "k99999", "zzz"}) {
    auto v = (*many)->Get(missing);
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(*v) << missing;
  }
  EXPECT_EQ(*(*many)->Items(300), *all);
  auto capped = (*many)->Items(299);
  ASSERT_FALSE(capped.ok());
  EXPECT_EQ(capped.status().code(), StatusCode::kResourceExhausted);

  auto labels = (*ns)->Sub("labels");
  ASSERT_TRUE(labels.ok() && *labels);
  EXPECT_EQ(**(*labels)->Get("b"), "2");
  auto paged = db->Root().Path({"v1", "default", "paged"});
  ASSERT_TRUE(paged.ok() && *paged);
  EXPECT_EQ(**(*paged)->Get("x"), "y");
  // A bucket is not a value and a value is not a bucket.
  EXPECT_FALSE(*(*ns)->Get("labels"));
  EXPECT_FALSE(*(*ns)->Sub("big"));
  EXPECT_FALSE(*db->Root().Path({"v1", "nope", "containers"}));
  EXPECT_EQ(**(*db->Root().Sub("v1"))->Get("version"), "\x03");
}

TEST(BoltTest, EmptyRootBucket) {
  auto db = OpenOk(BuildBoltFile(BoltBucket()));
  ASSERT_NE(db, nullptr);
  auto items = db->Root().Items();
  ASSERT_TRUE(items.ok());
  EXPECT_TRUE(items->empty());
}

void Put64(std::string& s, size_t off, uint64_t v) { std::memcpy(&s[off], &v, 8); }
void Put32(std::string& s, size_t off, uint32_t v) { std::memcpy(&s[off], &v, 4); }
void Reseal(std::string& s, size_t meta_page, uint32_t ps = 4096) {
  const size_t m = meta_page * ps + 16;
  Put64(s, m + 56, testutil::BoltFileWriter::Fnv(s.substr(m, 56)));
}

TEST(BoltTest, ChoosesTheNewerValidMeta) {
  std::string file = BuildBoltFile(Sample(), 20);
  ASSERT_EQ(OpenOk(file)->txid(), 20u);  // meta 1 (txid 20) over meta 0 (19)
  std::string torn = file;
  torn[4096 + 16 + 50] ^= 1;  // meta 1's txid changed, checksum no longer matches
  ASSERT_EQ(OpenOk(torn)->txid(), 19u);
  std::string no_meta0 = file;
  no_meta0[16 + 20] ^= 1;
  ASSERT_EQ(OpenOk(no_meta0)->txid(), 20u);
  std::string both = torn;
  both[16 + 20] ^= 1;
  auto got = BoltDb::Open(both);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(got.status().message(), "bbolt: no valid meta page (checksum)");
}

TEST(BoltTest, RefusesOtherVersionsAndOtherFiles) {
  std::string file = BuildBoltFile(Sample());
  for (size_t page : {0, 1}) {
    Put32(file, page * 4096 + 16 + 4, 3);
    Reseal(file, page);
  }
  auto v3 = BoltDb::Open(file);
  ASSERT_FALSE(v3.ok());
  EXPECT_EQ(v3.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(v3.status().message(), "unknown bbolt version 3");

  for (std::string junk : {std::string(), std::string("SQLite format 3"), std::string(9000, 'x'),
                           BuildBoltFile(Sample()).substr(0, 70)}) {
    auto got = BoltDb::Open(junk);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kCorruption) << got.status().message();
  }
}

// Finds the leaf element `key` of page `pgid` and returns its offset.
size_t ElementOffset(const std::string& file, uint64_t pgid, std::string_view key) {
  const size_t page = pgid * 4096;
  uint16_t count;
  std::memcpy(&count, &file[page + 10], 2);
  for (size_t i = 0; i < count; ++i) {
    const size_t at = page + 16 + 16 * i;
    uint32_t pos, ksize;
    std::memcpy(&pos, &file[at + 4], 4);
    std::memcpy(&ksize, &file[at + 8], 4);
    if (file.compare(at + pos, ksize, key) == 0) return at;
  }
  return 0;
}

uint64_t RootPage(const std::string& file) {
  uint64_t root;
  std::memcpy(&root, &file[4096 + 16 + 16], 8);
  return root;
}

TEST(BoltTest, CorruptPagesAreErrorsNotCrashesOrLoops) {
  BoltBucket b;
  b.Sub("c").AllowInline(false);
  for (int i = 0; i < 100; ++i) b.Sub("c").Put(Key(i), "v");
  const std::string file = BuildBoltFile(b, 7, 4096, 10);
  const uint64_t root = RootPage(file);
  const size_t elem = ElementOffset(file, root, "c");
  ASSERT_NE(elem, 0u);
  uint32_t pos;
  std::memcpy(&pos, &file[elem + 4], 4);
  const size_t value = elem + pos + 1;  // after the key "c": the bucket header
  uint64_t branch;
  std::memcpy(&branch, &file[value], 8);

  struct Case {
    const char* what;
    std::string bytes;
  };
  std::vector<Case> cases;
  {
    std::string f = file;  // the bucket's branch page points at itself
    Put64(f, branch * 4096 + 16 + 8, branch);
    cases.push_back({"loop", f});
  }
  {
    std::string f = file;  // a child beyond the file
    Put64(f, branch * 4096 + 16 + 8, 1u << 30);
    cases.push_back({"page out of range", f});
  }
  {
    std::string f = file;  // a child that is a meta page
    Put64(f, branch * 4096 + 16 + 8, 1);
    cases.push_back({"meta page as child", f});
  }
  {
    std::string f = file;  // an element whose key runs past its page
    Put32(f, elem + 8, 1u << 20);
    cases.push_back({"key overrun", f});
  }
  {
    std::string f = file;  // a page whose header names another page
    Put64(f, branch * 4096, branch + 1);
    cases.push_back({"page id mismatch", f});
  }
  {
    std::string f = file;  // a page that claims to overflow past the end
    Put32(f, branch * 4096 + 12, 1000);
    cases.push_back({"overflow", f});
  }
  {
    std::string f = file;  // a count larger than the page holds
    std::memcpy(&f[branch * 4096 + 10], "\xff\xff", 2);
    cases.push_back({"count", f});
  }
  {
    std::string f = file;  // the bucket's page is a freelist
    std::memcpy(&f[branch * 4096 + 8], "\x10\x00", 2);
    cases.push_back({"flags", f});
  }
  cases.push_back({"truncated", file.substr(0, file.size() - 4096)});
  for (const Case& c : cases) {
    auto db = BoltDb::Open(c.bytes);
    if (!db.ok()) {
      EXPECT_EQ(db.status().code(), StatusCode::kCorruption) << c.what;
      continue;
    }
    auto sub = (*db)->Root().Sub("c");
    if (!sub.ok()) {
      EXPECT_EQ(sub.status().code(), StatusCode::kCorruption) << c.what;
      continue;
    }
    ASSERT_TRUE(*sub) << c.what;
    auto items = (*sub)->Items();
    ASSERT_FALSE(items.ok()) << c.what;
    EXPECT_EQ(items.status().code(), StatusCode::kCorruption) << c.what;
    auto got = (*sub)->Get(Key(55));
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kCorruption) << c.what;
    }
  }
}

// Every single-byte change of a small file is read or refused, never a
// crash (the sanitized build runs this under AddressSanitizer).
TEST(BoltTest, EveryByteFlipIsSafe) {
  BoltBucket b;
  b.Sub("v1").Sub("ns").Put("image", "busybox").Sub("labels").Put("a", "b");
  b.Sub("v1").Sub("paged").AllowInline(false).Put("k", std::string(5000, 'v'));
  const std::string file = BuildBoltFile(b, 7, 1024, 4);
  size_t readable = 0;
  for (size_t i = 0; i < file.size(); ++i) {
    std::string f = file;
    f[i] ^= 0x5a;
    auto db = BoltDb::Open(f);
    if (!db.ok()) continue;
    std::vector<Bucket> todo = {(*db)->Root()};
    for (size_t n = 0; n < todo.size() && n < 64; ++n) {
      auto items = todo[n].Items();
      if (!items.ok()) continue;
      for (const Item& it : *items) {
        (void)todo[n].Get(it.key);
        auto sub = todo[n].Sub(it.key);
        if (sub.ok() && *sub) todo.push_back(**sub);
      }
    }
    ++readable;
  }
  EXPECT_GT(readable, file.size() / 2);  // most bytes are padding or data
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A database written by a real bbolt: podman's, when podman is installed and
// this runs as root.
TEST(BoltTest, ReadsADatabaseMadeByPodman) {
  if (::geteuid() != 0 || ::access("/usr/bin/podman", X_OK) != 0) {
    GTEST_SKIP() << "needs root and /usr/bin/podman";
  }
  testutil::TempDir dir;
  const std::string cmd =
      "/usr/bin/podman --root " + dir.path() + "/root --runroot " + dir.path() + "/run --tmpdir " +
      dir.path() + "/tmp --events-backend none --storage-driver vfs volume create dwvol1 " +
      ">/dev/null 2>&1 && /usr/bin/podman --root " + dir.path() + "/root --runroot " + dir.path() +
      "/run --tmpdir " + dir.path() +
      "/tmp --events-backend none --storage-driver vfs volume create dwvol2 >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "podman volume create failed here";
  auto db = BoltDb::Open(ReadAll(dir.path() + "/root/libpod/bolt_state.db"));
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto vols = (*db)->Root().Sub("allVolumes");
  ASSERT_TRUE(vols.ok() && *vols);
  auto items = (*vols)->Items();
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].key, "dwvol1");
  EXPECT_EQ((*items)[1].key, "dwvol2");
  auto config = (*db)->Root().Path({"vol", "dwvol2"});
  ASSERT_TRUE(config.ok() && *config);
  auto json = (*config)->Get("config");
  ASSERT_TRUE(json.ok() && *json);
  EXPECT_NE((*json)->find("\"name\":\"dwvol2\""), std::string_view::npos) << **json;
}

}  // namespace
}  // namespace driftwatch::bolt
