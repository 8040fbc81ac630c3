#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using ::testing::HasSubstr;

std::unique_ptr<Store> OpenStore(const std::string& path) {
  auto store = Store::Open(DefaultHost(), path);
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(StoreChainTest, EmptyChainHasTheGenesisHead) {
  TempDir dir;
  auto store = OpenStore(dir / "agent.db");
  ASSERT_NE(store, nullptr);
  auto head = store->ChainHead();
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(head->length, 0);
  EXPECT_EQ(head->head, chain::GenesisHead());
  auto records = store->ChainRecords(0, 10);
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
}

TEST(StoreChainTest, AppendsNumberedRecordsWithTheirHeadsAcrossReopens) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  std::vector<chain::Record> want;
  std::vector<std::string> heads;
  std::string head = chain::GenesisHead();
  auto expect = [&](chain::Record r) {
    head = chain::NextHead(head, chain::RecordHash(r));
    heads.push_back(head);
    want.push_back(std::move(r));
  };
  {
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    auto a = store->AppendRecord("agent-start", 10, R"({"exe":"e","version":"0.1.0"})");
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(*a, (chain::Record{1, "agent-start", 10, R"({"exe":"e","version":"0.1.0"})"}));
    expect(*a);
    auto b = store->AppendRecord("config", 20, R"({"digest":"d","path":"/etc/x"})");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->seq, 2);
    expect(*b);
  }
  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  auto c = store->AppendRecord("rules", 30, "{}");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->seq, 3);
  expect(*c);

  auto state = store->ChainHead();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->length, 3);
  EXPECT_EQ(state->head, heads.back());

  auto all = store->ChainRecords(0, 100);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*all)[i].first, want[i]);
    EXPECT_EQ((*all)[i].second, heads[i]);
  }
  auto middle = store->ChainRecords(1, 1);
  ASSERT_TRUE(middle.ok());
  ASSERT_EQ(middle->size(), 1u);
  EXPECT_EQ((*middle)[0].first, want[1]);
  EXPECT_EQ((*middle)[0].second, heads[1]);
  auto past = store->ChainRecords(3, 10);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->empty());
}

TEST(StoreChainTest, RefusesEmptyKindsAndOversizedBodies) {
  TempDir dir;
  auto store = OpenStore(dir / "agent.db");
  ASSERT_NE(store, nullptr);
  auto no_kind = store->AppendRecord("", 1, "{}");
  EXPECT_EQ(no_kind.status().code(), StatusCode::kInvalidArgument);
  auto big = store->AppendRecord("check", 1, std::string(chain::kMaxBodyBytes + 1, 'x'));
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(big.status().message(), HasSubstr("more than"));
  EXPECT_EQ(store->ChainHead()->length, 0);
}

// Honest code never rewrites the chain; the triggers refuse it so that a
// mistake cannot do it silently.
TEST(StoreChainTest, TriggersRefuseUpdateAndDelete) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  {
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->AppendRecord("check", 1, "{}").ok());
  }
  auto db = sqlite::Db::Open(path);
  ASSERT_TRUE(db.ok());
  Status update = (*db)->Exec("UPDATE chain SET body = '{\"x\":1}' WHERE seq = 1");
  EXPECT_FALSE(update.ok());
  EXPECT_THAT(update.message(), HasSubstr("chain records are never updated"));
  Status del = (*db)->Exec("DELETE FROM chain");
  EXPECT_FALSE(del.ok());
  EXPECT_THAT(del.message(), HasSubstr("chain records are never deleted"));
  auto q = (*db)->Prepare("SELECT count(*), body FROM chain");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 1);
  EXPECT_EQ(q->Text(1), "{}");
}

// A store of schema v5 gains an empty chain.
TEST(StoreChainTest, MigratesV5ToV6) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  { ASSERT_NE(OpenStore(path), nullptr); }
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DROP TABLE chain").ok());
    ASSERT_TRUE(
        (*db)->Exec("UPDATE schema_versions SET version = 5 WHERE component = 'store'").ok());
  }
  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->ChainHead()->length, 0);
  auto r = store->AppendRecord("agent-start", 5, "{}");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->seq, 1);
  auto db = sqlite::Db::Open(path);
  ASSERT_TRUE(db.ok());
  auto v = (*db)->Prepare("SELECT version FROM schema_versions WHERE component = 'store'");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(*v->Step());
  EXPECT_EQ(v->Int(0), kStoreSchemaVersion);
  EXPECT_EQ(kStoreSchemaVersion, 7);
}

}  // namespace
}  // namespace driftwatch::agent
