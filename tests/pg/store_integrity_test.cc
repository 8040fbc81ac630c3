// Integrity on both FleetStore backends (docs/integrity.md "At the
// collector"): the escrow's answers and alerts, duplicates, trust resets,
// and the collector's own event chain through retention and edits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/drift_json.h"
#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

class StoreIntegrityTest : public BothStoresTest {
 protected:
  void Seed() override { ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", 1, "").ok()); }

  // A check record of the chain, against baseline `default`.
  void AddCheck(const std::string& root) {
    Append(chain::kCheck, chain::BodyBuilder()
                              .Str("check", "c" + std::to_string(records_.size()))
                              .Str("baseline", "default")
                              .Int("revision", 1)
                              .Str("baseline_root", root)
                              .Build());
  }
  void Append(std::string_view kind, std::string body) {
    chain::Record r{static_cast<int64_t>(records_.size()) + 1, std::string(kind),
                    100 + static_cast<int64_t>(records_.size()), std::move(body)};
    heads_.push_back(chain::NextHead(HeadAt(r.seq - 1), chain::RecordHash(r)));
    records_.push_back(std::move(r));
  }
  const std::string& HeadAt(int64_t seq) const {
    return seq == 0 ? chain::GenesisHead() : heads_[static_cast<size_t>(seq - 1)];
  }
  chain::ReportChain Section(int64_t from, int64_t to) const {
    chain::ReportChain c{from, to, HeadAt(to), {}};
    for (int64_t s = from + 1; s <= to; ++s) c.records.push_back(records_[s - 1]);
    return c;
  }

  static ReportEnvelope Envelope(int n, int64_t t, int events,
                                 std::optional<chain::ReportChain> c = std::nullopt) {
    ReportEnvelope env;
    env.report_id = "00000000-0000-4000-8000-" + std::string(12 - std::to_string(n).size(), '0') +
                    std::to_string(n);
    env.host_id = "h";
    env.received_ns = t;
    env.result.target = "h";
    env.result.baseline = "default";
    env.result.baseline_revision = 1;
    env.result.started_ns = t - 10;
    env.result.finished_ns = t;
    env.result.chain = std::move(c);
    for (int i = 0; i < events; ++i) {
      DriftEvent e;
      e.path = "/etc/f" + std::to_string(n) + "-" + std::to_string(i);
      e.kind = DriftKind::kAdded;
      e.severity = Severity::kHigh;
      if (i == 0) e.diff = "--- a\n+++ b\n";
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    env.total_events = events;
    env.summary_json = "{}";
    return env;
  }

  std::vector<chain::Record> records_;
  std::vector<std::string> heads_;
};

TEST_P(StoreIntegrityTest, TheEscrowAnswersAndAlertsInTheIngestTransaction) {
  // The first chain holds a baseline; its check names it.
  Append(chain::kBaseline,
         chain::BodyBuilder().Str("name", "default").Int("revision", 1).Str("root", "r1").Build());
  AddCheck("r1");
  auto r = store_->IngestReport(Envelope(1, 1000, 0, Section(0, 2)), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->chain, (ChainAnswer{2, HeadAt(2), ChainState::kAdopted}));
  AddCheck("r2");  // outside the chain
  r = store_->IngestReport(Envelope(2, 2000, 1, Section(2, 3)), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->chain, (ChainAnswer{3, HeadAt(3), ChainState::kAlert}));
  EXPECT_EQ(r->integrity_alerts, 1);
  // A duplicate: the original answer, nothing new.
  r = store_->IngestReport(Envelope(1, 3000, 0, Section(0, 2)), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(r->chain, (ChainAnswer{2, HeadAt(2), ChainState::kAdopted}));
  // A head the records do not give: a fork at `from`, the report kept.
  chain::ReportChain bad = Section(3, 3);
  bad.head = HeadAt(2);
  r = store_->IngestReport(Envelope(3, 4000, 2, bad), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->chain, (ChainAnswer{3, HeadAt(3), ChainState::kAlert}));
  auto host = store_->GetHost("h");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->reports, 3);
  EXPECT_EQ(host->open_integrity_alerts, 2);

  auto alerts = store_->ListIntegrityAlerts({"h", true, 10});
  ASSERT_TRUE(alerts.ok()) << alerts.status().message();
  ASSERT_EQ(alerts->size(), 2u);  // newest first
  EXPECT_EQ((*alerts)[0].kind, "fork");
  EXPECT_EQ((*alerts)[0].seq, 3);
  EXPECT_EQ((*alerts)[0].detected_ns, 4000);
  EXPECT_EQ((*alerts)[1].kind, "baseline-outside-chain");
  EXPECT_EQ((*alerts)[1].seq, 3);
  EXPECT_EQ((*alerts)[1].epoch, 1);
  EXPECT_EQ((*alerts)[1].detected_ns, 2000);

  auto epoch = store_->TrustReset("h", "op", "reviewed", 5000);
  ASSERT_TRUE(epoch.ok()) << epoch.status().message();
  EXPECT_EQ(*epoch, 2);
  EXPECT_EQ(store_->TrustReset("nope", "op", "x", 5000).status().code(), StatusCode::kNotFound);
  alerts = store_->ListIntegrityAlerts({"h", false, 10});
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 2u);
  EXPECT_EQ((*alerts)[1].resolved_ns, 5000);
  EXPECT_EQ((*alerts)[0].resolved_ns, 5000);
  EXPECT_EQ((*alerts)[0].resolved_by, "op");
  EXPECT_EQ((*alerts)[0].resolution, "trust reset: reviewed");
  auto c = store_->GetHostChain("h");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->held.epoch, 2);
  EXPECT_EQ(c->held.length, 0);
  EXPECT_FALSE(c->held.adopted);
  EXPECT_EQ(c->epoch_reason, "reviewed");
  EXPECT_EQ(c->open_alerts, 0);
  // The new epoch adopts the chain again, whole.
  r = store_->IngestReport(Envelope(4, 6000, 0, Section(0, 3)), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->chain->state, ChainState::kAlert);  // its check is still outside the chain
  EXPECT_EQ(r->chain->held, 3);
}

TEST_P(StoreIntegrityTest, TheEventChainVerifiesThroughRetentionAndFindsEdits) {
  for (int n = 1; n <= 4; ++n) {
    ASSERT_TRUE(store_->IngestReport(Envelope(n, int64_t{n} * 1000, 3), {}).ok());
  }
  auto c = store_->GetHostChain("h");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->events.length, 12);
  EXPECT_EQ(c->events.anchor_seq, 0);
  auto f = store_->VerifyEventChains("", {});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->empty()) << (*f)[0].detail;
  const std::map<std::string, ExportedHead> exported = {{"h", {12, c->events.head}}};

  // Retention takes the first two reports' events; the anchor follows.
  auto pruned = store_->PruneEvents(2500, 100);
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_EQ(*pruned, 6);
  auto after = store_->GetHostChain("h");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->events.anchor_seq, 6);
  EXPECT_EQ(after->events.length, 12);
  f = store_->VerifyEventChains("h", exported);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->empty()) << (*f)[0].detail;

  // A late report with an old detection time: retention waits for the
  // events chained before it.
  ASSERT_TRUE(store_->IngestReport(Envelope(5, 1500, 1), {}).ok());
  pruned = store_->PruneEvents(3500, 100);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 3);  // report 3's, not report 5's (chained after report 4's)
  f = store_->VerifyEventChains("h", {});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->empty()) << (*f)[0].detail;

  // A wrong exported head is named.
  f = store_->VerifyEventChains("h", {{"h", {12, std::string(64, 'f')}}});
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ((*f)[0].seq, 12);
  EXPECT_NE((*f)[0].detail.find("the exported copy says ffff"), std::string::npos)
      << (*f)[0].detail;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreIntegrityTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace driftwatch::collector
