// The scanner keeping content (ScanOptions::content) into a real store:
// one read per file, redaction, size caps, the stat cache and xattr sets.
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/scanner.h"
#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::SetMtime;
using driftwatch::testutil::TempDir;
using driftwatch::testutil::WriteFile;

// Neither repeated nor compressible, so that a copy shows up as it is.
constexpr const char* kKeptMarker = "kept-Qz7uXw2Lr9TbVn4Hs1Jm8Pc3Yd6Ge5Ka0";
constexpr const char* kSecretMarker = "secret-Hw4Rk8Nd2Fx7Bq1Zs6Lt9Vm3Cy5Jp0Ug";

rules::Policy ContentPolicy() {
  auto p = rules::ParsePolicy(R"(version: 1
rules:
  - {path: /etc/**, check: [type, perm, size, hash, xattrs], severity: high}
  - {path: /etc/**, content: keep, content_max: 100}
  - {path: /etc/shadow, content: redact}
  - {path: /etc/**/*.key, content: redact}
  - {path: /etc/plain, content: none}
)",
                              "test.yaml", [](const std::string&) -> Result<std::string> {
                                return Status::NotFound("no includes");
                              });
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(p).value();
}

struct Fixture {
  TempDir dir;
  std::string root = dir / "root";
  std::unique_ptr<Store> store;
  rules::Policy policy = ContentPolicy();

  Fixture() {
    WriteFile(root + "/etc/hosts", std::string("127.0.0.1 localhost\n") + kKeptMarker + "\n");
    WriteFile(root + "/etc/shadow", std::string("root:") + kSecretMarker + ":19000::::::\n");
    WriteFile(root + "/etc/ssl/site.key", std::string(kSecretMarker) + "\n");
    WriteFile(root + "/etc/exact", std::string(100, 'e'));
    WriteFile(root + "/etc/big", std::string(101, 'b'));
    WriteFile(root + "/etc/plain", "not kept\n");
    for (const char* f : {"hosts", "shadow", "ssl/site.key", "exact", "big", "plain"}) {
      SetMtime(root + "/etc/" + f, 1'600'000'000);
    }
    auto s = Store::Open(DefaultHost(), dir / "db/agent.db");
    EXPECT_TRUE(s.ok()) << s.status().message();
    store = std::move(*s);
  }

  Result<ScanResult> Scan(bool keep) {
    ScanOptions o;
    o.root = root;
    o.jobs = 2;
    o.cache = store.get();
    o.content = keep ? store.get() : nullptr;
    o.racy_window_ns = 0;
    auto r = ScanTree(DefaultHost(), policy, o, *store);
    EXPECT_TRUE(store->Flush().ok());
    return r;
  }

  bool Kept(const std::string& raw) {
    auto has = store->HasContent(Hasher::Of(HashAlgo::kXxh128, raw));
    EXPECT_TRUE(has.ok());
    return has.ok() && *has;
  }
};

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The database and its -wal and -shm files, whichever exist.
std::string DbBytes(const std::string& db) {
  std::string all;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (std::filesystem::exists(db + suffix)) all += FileBytes(db + suffix);
  }
  return all;
}

TEST(ScanContentTest, KeepsFromTheReadThatHashes) {
  Fixture f;
  auto scan = f.Scan(/*keep=*/true);
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  EXPECT_THAT(scan->warnings, ::testing::IsEmpty());
  // Each of the six files was read once, whole: no second read for keeping.
  const std::string hosts = FileBytes(f.root + "/etc/hosts");
  EXPECT_EQ(scan->stats.files_hashed, 6u);
  EXPECT_EQ(scan->stats.bytes_hashed, hosts.size() + FileBytes(f.root + "/etc/shadow").size() +
                                          std::strlen(kSecretMarker) + 1 + 100 + 101 + 9);
  auto back = f.store->GetContent(Hasher::Of(HashAlgo::kXxh128, hosts));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ(**back, hosts);
  EXPECT_TRUE(f.Kept(std::string(100, 'e')));   // at content_max
  EXPECT_FALSE(f.Kept(std::string(101, 'b')));  // over it
  EXPECT_FALSE(f.Kept("not kept\n"));           // content: none
  EXPECT_FALSE(f.Kept(FileBytes(f.root + "/etc/shadow")));
  EXPECT_FALSE(f.Kept(std::string(kSecretMarker) + "\n"));
  EXPECT_EQ(f.store->CountContent()->blobs, 2);
}

// Redacted content never reaches the database file, its WAL or its index,
// neither while the store is open nor after it is checkpointed and closed.
TEST(ScanContentTest, RedactedContentNeverEntersTheStoreFile) {
  Fixture f;
  ASSERT_TRUE(f.Scan(/*keep=*/true).ok());
  WriteFile(f.root + "/etc/shadow", std::string("root:") + kSecretMarker + ":19001::::::\n");
  ASSERT_TRUE(f.Scan(/*keep=*/true).ok());
  const std::string db = f.store->path();
  std::string open_bytes = DbBytes(db);
  // The search works: the kept file's marker is there, stored as it is.
  EXPECT_NE(open_bytes.find(kKeptMarker), std::string::npos);
  EXPECT_EQ(open_bytes.find(kSecretMarker), std::string::npos);
  {
    auto conn = sqlite::Db::Open(db);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  f.store.reset();
  const std::string closed = DbBytes(db);
  EXPECT_NE(closed.find(kKeptMarker), std::string::npos);
  EXPECT_EQ(closed.find(kSecretMarker), std::string::npos);
}

// A file the stat cache vouches for is read again when its blob is
// missing (content newly kept), and not again once it is kept.
TEST(ScanContentTest, StatCacheHitWithMissingBlobReReads) {
  Fixture f;
  auto first = f.Scan(/*keep=*/false);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->stats.files_hashed, 6u);
  EXPECT_EQ(f.store->CountContent()->blobs, 0);

  auto second = f.Scan(/*keep=*/true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->root, first->root);
  // Only the two kept files (hosts, exact) were read again.
  EXPECT_EQ(second->stats.files_hashed, 2u);
  EXPECT_EQ(second->stats.bytes_hashed, FileBytes(f.root + "/etc/hosts").size() + 100);
  EXPECT_TRUE(f.Kept(FileBytes(f.root + "/etc/hosts")));
  EXPECT_TRUE(f.Kept(std::string(100, 'e')));

  auto third = f.Scan(/*keep=*/true);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->stats.files_hashed, 0u);
  EXPECT_EQ(third->root, first->root);
}

TEST(ScanContentTest, ChangedContentIsKeptBesideTheOld) {
  Fixture f;
  ASSERT_TRUE(f.Scan(/*keep=*/true).ok());
  const std::string old_hosts = FileBytes(f.root + "/etc/hosts");
  WriteFile(f.root + "/etc/hosts", "10.0.0.1 db\n");
  auto scan = f.Scan(/*keep=*/true);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->stats.files_hashed, 1u);
  EXPECT_TRUE(f.Kept(old_hosts));
  EXPECT_TRUE(f.Kept("10.0.0.1 db\n"));
}

TEST(ScanContentTest, KeepsXattrSetsOfWatchedEntries) {
  Fixture f;
  const std::string path = f.root + "/etc/hosts";
  if (::setxattr(path.c_str(), "user.driftwatch", "v1", 2, 0) != 0) {
    GTEST_SKIP() << "no user xattrs on " << f.root << ": " << std::strerror(errno);
  }
  auto first = f.Scan(/*keep=*/false);
  ASSERT_TRUE(first.ok());
  const Hash128 digest = XattrDigest({{"user.driftwatch", "v1"}});
  EXPECT_FALSE(f.store->GetXattrs(digest)->has_value());
  // Unchanged, but the set is not kept yet: read again and kept.
  auto second = f.Scan(/*keep=*/true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->root, first->root);
  auto set = f.store->GetXattrs(digest);
  ASSERT_TRUE(set.ok() && set->has_value());
  ASSERT_EQ((*set)->size(), 1u);
  EXPECT_EQ((**set)[0].name, "user.driftwatch");
  EXPECT_EQ((**set)[0].value, "v1");
  EXPECT_EQ(f.store->CountContent()->xattr_sets, 1);
}

}  // namespace
}  // namespace driftwatch::agent
