// The chain section of queued reports and the collector's answer to it
// (docs/wire.md, "Integrity").
#include <cpprest/json.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/store.h"
#include "core/drift_json.h"
#include "report/outbox.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::report {
namespace {

using driftwatch::testutil::TempDir;
using ::testing::HasSubstr;
using web::json::value;

struct Fixture {
  TempDir dir;
  std::string db = dir / "agent.db";
  std::unique_ptr<agent::Store> store;
  std::unique_ptr<Outbox> outbox;

  Fixture() {
    auto s = agent::Store::Open(DefaultHost(), db);
    EXPECT_TRUE(s.ok()) << s.status().message();
    store = std::move(*s);
    auto o = Outbox::Open(db);
    EXPECT_TRUE(o.ok()) << o.status().message();
    outbox = std::move(*o);
  }
  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(store->AppendRecord("config", i, R"({"digest":"d","path":"/p"})").ok());
    }
  }
  std::string Head(int64_t seq) {
    auto all = store->ChainRecords(seq - 1, 1);
    EXPECT_TRUE(all.ok() && all->size() == 1u);
    return (*all)[0].second;
  }
  static CheckResult Check() {
    CheckResult r;
    r.target = "web-1";
    r.baseline = "default";
    r.started_ns = 1;
    r.finished_ns = 2;
    return r;
  }
  // The last queued report, decoded.
  CheckResult Queued() {
    auto pending = outbox->Pending(100);
    EXPECT_TRUE(pending.ok() && !pending->empty());
    auto r = CheckResultFromJson(value::parse(pending->back().body));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return *r;
  }
};

TEST(OutboxChainTest, ACheckCarriesTheRecordsAfterWhatTheCollectorHolds) {
  Fixture f;
  f.Append(3);
  ASSERT_TRUE(f.outbox->Enqueue(Fixture::Check(), 10).ok());
  CheckResult r = f.Queued();
  ASSERT_TRUE(r.chain.has_value());
  EXPECT_EQ(r.chain->from, 0);
  EXPECT_EQ(r.chain->length, 3);
  EXPECT_EQ(r.chain->head, f.Head(3));
  auto want = f.store->ChainRecords(0, 10);
  ASSERT_EQ(r.chain->records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.chain->records[i], (*want)[i].first);

  // The collector holds 2 with our head there: the next report starts at 2.
  auto warning = f.outbox->AckChain(2, f.Head(2));
  ASSERT_TRUE(warning.ok()) << warning.status().message();
  EXPECT_EQ(*warning, "");
  EXPECT_EQ(*f.outbox->ChainAcked(), 2);
  f.Append(1);
  ASSERT_TRUE(f.outbox->Enqueue(Fixture::Check(), 20).ok());
  r = f.Queued();
  ASSERT_TRUE(r.chain.has_value());
  EXPECT_EQ(r.chain->from, 2);
  EXPECT_EQ(r.chain->length, 4);
  EXPECT_EQ(r.chain->head, f.Head(4));
  ASSERT_EQ(r.chain->records.size(), 2u);
  EXPECT_EQ(r.chain->records[0].seq, 3);
  EXPECT_EQ(r.chain->records[1].seq, 4);
}

TEST(OutboxChainTest, NothingNewCarriesTheHeadAtWhatTheCollectorHolds) {
  Fixture f;
  f.Append(2);
  ASSERT_TRUE(f.outbox->AckChain(2, f.Head(2)).ok());
  ASSERT_TRUE(f.outbox->Enqueue(Fixture::Check(), 10).ok());
  CheckResult r = f.Queued();
  ASSERT_TRUE(r.chain.has_value());
  EXPECT_EQ(r.chain->from, 2);
  EXPECT_EQ(r.chain->length, 2);
  EXPECT_EQ(r.chain->head, f.Head(2));
  EXPECT_TRUE(r.chain->records.empty());
}

TEST(OutboxChainTest, AnAnswerWithAnotherHeadKeepsTheAcknowledgedLength) {
  Fixture f;
  f.Append(2);
  const std::string other(64, 'a');
  auto warning = f.outbox->AckChain(2, other);
  ASSERT_TRUE(warning.ok());
  EXPECT_THAT(*warning, HasSubstr("up to record 2 with head " + other));
  EXPECT_THAT(*warning, HasSubstr("this store's head there is " + f.Head(2)));
  EXPECT_EQ(*f.outbox->ChainAcked(), 0);
  // Beyond our chain: no head of ours to match.
  warning = f.outbox->AckChain(7, other);
  ASSERT_TRUE(warning.ok());
  EXPECT_THAT(*warning, HasSubstr("this store's head there is absent"));
  EXPECT_EQ(*f.outbox->ChainAcked(), 0);
}

// A chain shorter than what the collector acknowledged (records removed)
// is sent as it is, so that the collector sees the rewind.
TEST(OutboxChainTest, AChainShorterThanAcknowledgedIsSentAsItIs) {
  Fixture f;
  f.Append(3);
  ASSERT_TRUE(f.outbox->AckChain(3, f.Head(3)).ok());
  f.store.reset();
  f.outbox.reset();
  {
    auto db = sqlite::Db::Open(f.db);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE seq = 3").ok());
  }
  auto s = agent::Store::Open(DefaultHost(), f.db);
  ASSERT_TRUE(s.ok());
  f.store = std::move(*s);
  auto o = Outbox::Open(f.db);
  ASSERT_TRUE(o.ok());
  f.outbox = std::move(*o);
  ASSERT_TRUE(f.outbox->Enqueue(Fixture::Check(), 10).ok());
  CheckResult r = f.Queued();
  ASSERT_TRUE(r.chain.has_value());
  EXPECT_EQ(r.chain->from, 2);
  EXPECT_EQ(r.chain->length, 2);
  EXPECT_EQ(r.chain->head, f.Head(2));
}

TEST(OutboxChainTest, RealtimeAndContainerReportsCarryNoChain) {
  Fixture f;
  f.Append(1);
  CheckResult realtime = Fixture::Check();
  realtime.source = "realtime";
  DriftEvent e;
  e.path = "/etc/x";
  realtime.events.push_back(e);
  ASSERT_TRUE(f.outbox->Enqueue(realtime, 10).ok());
  EXPECT_FALSE(f.Queued().chain.has_value());
  CheckResult container = Fixture::Check();
  container.target = "container:abc";
  ASSERT_TRUE(f.outbox->Enqueue(container, 11).ok());
  EXPECT_FALSE(f.Queued().chain.has_value());
}

TEST(OutboxChainTest, AReportCarriesABoundedShareOfALongChain) {
  Fixture f;
  const std::string body = R"({"pad":")" + std::string(4000, 'x') + R"("})";
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(f.store->AppendRecord("rules", i, body).ok());
  ASSERT_TRUE(f.outbox->Enqueue(Fixture::Check(), 10).ok());
  CheckResult r = f.Queued();
  ASSERT_TRUE(r.chain.has_value());
  const size_t fit = kMaxReportChainBytes / body.size();
  EXPECT_EQ(r.chain->records.size(), fit);
  EXPECT_EQ(r.chain->length, static_cast<int64_t>(fit));
  EXPECT_EQ(r.chain->head, f.Head(static_cast<int64_t>(fit)));
}

}  // namespace
}  // namespace driftwatch::report
