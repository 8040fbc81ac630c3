// The records the store appends with the rows they stand for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/store.h"
#include "agent/store_chain.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using ::testing::HasSubstr;

struct Fixture {
  TempDir dir;
  std::string path = dir / "agent.db";
  std::unique_ptr<Store> store;
  Hash128 root;

  Fixture() {
    auto s = Store::Open(DefaultHost(), path);
    EXPECT_TRUE(s.ok()) << s.status().message();
    store = std::move(*s);
  }
  // A snapshot of a one-file tree; returns its id.
  int64_t Snapshot(const std::string& kind, const std::string& content) {
    Entry e;
    e.name = "passwd";
    e.type = EntryType::kFile;
    e.mask = kAttrType | kAttrHash;
    e.content = Hasher::Of(HashAlgo::kXxh128, content);
    const std::string bytes = SerializeTree(Tree{{e}});
    root = TreeHash(bytes);
    EXPECT_TRUE(store->Put(root, bytes).ok());
    SnapshotRow row;
    row.kind = kind;
    row.rules_hash = "f00d";
    row.root = root;
    auto id = store->AddSnapshot(row);
    EXPECT_TRUE(id.ok()) << id.status().message();
    return *id;
  }
  std::vector<chain::Record> Records() {
    auto all = store->ChainRecords(0, 100);
    EXPECT_TRUE(all.ok()) << all.status().message();
    std::vector<chain::Record> out;
    for (auto& [r, head] : *all) out.push_back(r);
    return out;
  }
};

TEST(StoreChainRecordsTest, BaselineAndAcceptRevisionsAppendTheirRecords) {
  Fixture f;
  const int64_t s1 = f.Snapshot("baseline", "a");
  const std::string root1 = f.root.Hex();
  ASSERT_TRUE(f.store->AddBaseline("default", s1, 100, "alice", "first").ok());
  const int64_t s2 = f.Snapshot("baseline", "b");
  const std::vector<std::string> paths = {"/etc/passwd", "/etc/new\nline"};
  auto accepted = f.store->AddBaseline("default", s2, 200, "bob", "ticket 7", &paths);
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
  EXPECT_EQ(accepted->revision, 2);
  const std::vector<std::string> all;
  ASSERT_TRUE(f.store->AddBaseline("default", s2, 300, "carol", "all of it", &all).ok());

  auto records = f.Records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], (chain::Record{1, "baseline", 100,
                                       R"({"author":"alice","name":"default","reason":"first",)"
                                       R"("revision":1,"root":")" +
                                           root1 + R"(","rules":"f00d","snapshot":)" +
                                           std::to_string(s1) + "}"}));
  EXPECT_EQ(records[1],
            (chain::Record{2, "accept", 200,
                           R"({"author":"bob","name":"default","paths":["/etc/passwd",)"
                           R"("/etc/new\\nline"],"reason":"ticket 7","revision":2,"root":")" +
                               f.root.Hex() + R"(","rules":"f00d","snapshot":)" +
                               std::to_string(s2) + "}"}));
  EXPECT_EQ(records[2].kind, "accept");
  EXPECT_THAT(records[2].body, HasSubstr(R"("all":true)"));
  EXPECT_THAT(records[2].body, HasSubstr(R"("paths":[])"));
}

TEST(StoreChainRecordsTest, AnAcceptOfManyPathsKeepsItsRecordBounded) {
  Fixture f;
  const int64_t s1 = f.Snapshot("baseline", "a");
  std::vector<std::string> paths;
  for (int i = 0; i < 5000; ++i) paths.push_back("/srv/data/file-" + std::to_string(i));
  ASSERT_TRUE(f.store->AddBaseline("default", s1, 1, "a", "r", &paths).ok());
  auto records = f.Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_LE(records[0].body.size(), chain::kMaxBodyBytes);
  auto body = chain::ParseBody(records[0].body);
  ASSERT_TRUE(body.ok()) << body.status().message();
  const int64_t kept = std::count((*body)["paths"].begin(), (*body)["paths"].end(), '\n') + 1;
  EXPECT_EQ(std::to_string(5000 - kept), (*body)["paths_omitted"]);
  EXPECT_GT(kept, 100);
}

TEST(StoreChainRecordsTest, ACheckRecordCarriesItsRootsAndTheDigestOfItsEvents) {
  Fixture f;
  const int64_t base = f.Snapshot("baseline", "a");
  const std::string base_root = f.root.Hex();
  ASSERT_TRUE(f.store->AddBaseline("default", base, 1, "a", "r").ok());
  const int64_t snap = f.Snapshot("check", "b");
  DriftEvent ev;
  ev.path = "/etc/passwd";
  ev.kind = DriftKind::kAdded;
  ev.severity = Severity::kHigh;
  ev.rule = "r";
  auto id = f.store->RecordCheck(CheckRow{0, snap, "default", 1, 40, 50}, {ev});
  ASSERT_TRUE(id.ok()) << id.status().message();

  // The digest as docs/integrity.md defines it, recomputed by hand.
  const std::string framed = "11:/etc/passwd5:added4:high1:r1:0n;n;0:0:0:0:0:0:";
  const std::string digest =
      chain::Sha256Hex("driftwatch-events-1\n" + chain::Sha256Hex(framed) + "\n");
  auto records = f.Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1], (chain::Record{2, "check", 50,
                                       R"({"baseline":"default","baseline_root":")" + base_root +
                                           R"(","check":)" + std::to_string(*id) +
                                           R"(,"events":1,"events_digest":")" + digest +
                                           R"(","revision":1,"root":")" + f.root.Hex() + R"("})"}));
}

TEST(StoreChainRecordsTest, ARestoreRecordCarriesTheDigestOfItsActions) {
  Fixture f;
  RestoreRow row{0, 70, "root", "ticket", "default", 2, 1, {{"/etc/a", "write", "3 bytes", true}}};
  auto id = f.store->RecordRestore(row);
  ASSERT_TRUE(id.ok()) << id.status().message();
  const std::string digest = chain::Sha256Hex(
      "driftwatch-actions-1\n" + chain::Sha256Hex("1:06:/etc/a5:write7:3 bytes1:1") + "\n");
  auto records = f.Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0],
            (chain::Record{1, "restore", 70,
                           R"({"actions":1,"actions_digest":")" + digest +
                               R"(","author":"root","baseline":"default","reason":"ticket",)"
                               R"("refused":1,"restore":)" +
                               std::to_string(*id) + R"(,"revision":2})"}));
}

// A row that cannot be added leaves no record: they share a transaction.
TEST(StoreChainRecordsTest, AFailedRevisionAppendsNothing) {
  Fixture f;
  auto bad = f.store->AddBaseline("default", 999, 1, "a", "r");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(f.Records().empty());
  EXPECT_TRUE((*f.store->Baselines(std::nullopt)).empty());
}

// A store kept before v6 brings its history into the chain at the upgrade,
// oldest first.
TEST(StoreChainRecordsTest, MigrationAdoptsTheHistoryAlreadyStored) {
  Fixture f;
  const int64_t base = f.Snapshot("baseline", "a");
  ASSERT_TRUE(f.store->AddBaseline("default", base, 10, "a", "first").ok());
  const int64_t snap = f.Snapshot("check", "b");
  ASSERT_TRUE(f.store->RecordCheck(CheckRow{0, snap, "default", 1, 15, 30}, {}).ok());
  ASSERT_TRUE(f.store->RecordRestore(RestoreRow{0, 20, "root", "why", "default", 1, 0, {}}).ok());
  const std::vector<chain::Record> before = f.Records();
  ASSERT_EQ(before.size(), 3u);
  f.store.reset();
  {
    auto db = sqlite::Db::Open(f.path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DROP TABLE chain").ok());
    ASSERT_TRUE(
        (*db)->Exec("UPDATE schema_versions SET version = 5 WHERE component = 'store'").ok());
  }
  auto reopened = Store::Open(DefaultHost(), f.path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  f.store = std::move(*reopened);
  const std::vector<chain::Record> after = f.Records();
  ASSERT_EQ(after.size(), 3u);
  // By time: the baseline (10), the restore (20), the check (30).
  EXPECT_EQ(after[0].body, before[0].body);
  EXPECT_EQ(after[1].kind, "restore");
  EXPECT_EQ(after[1].body, before[2].body);
  EXPECT_EQ(after[1].time_ns, 20);
  EXPECT_EQ(after[2].kind, "check");
  EXPECT_EQ(after[2].body, before[1].body);
}

TEST(StoreChainRecordsTest, ADamagedTreeIsAnErrorNamingIt) {
  Fixture f;
  f.Snapshot("baseline", "a");
  ASSERT_TRUE(f.store->Flush().ok());
  const Hash128 id = f.root;
  ASSERT_TRUE(f.store->Get(id).ok());
  f.store.reset();
  {
    auto db = sqlite::Db::Open(f.path);
    ASSERT_TRUE(db.ok());
    auto q = (*db)->Prepare("UPDATE trees SET data = data || x'00' WHERE id = ?");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->BindBlob(1, id.Bytes()).Run().ok());
  }
  auto reopened = Store::Open(DefaultHost(), f.path);
  ASSERT_TRUE(reopened.ok());
  auto tree = (*reopened)->Get(id);
  EXPECT_EQ(tree.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(tree.status().message(), HasSubstr("tree " + id.Hex() + " is damaged"));
}

}  // namespace
}  // namespace driftwatch::agent
