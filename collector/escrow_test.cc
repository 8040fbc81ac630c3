#include "collector/escrow.h"

#include <gtest/gtest.h>

#include <map>

namespace driftwatch::collector {
namespace {

using chain::BodyBuilder;
using chain::Record;

// An agent chain as the agent store keeps it: records and their heads.
struct AgentChain {
  std::vector<Record> records;
  std::vector<std::string> heads;

  const std::string& HeadAt(int64_t seq) const {
    return seq == 0 ? chain::GenesisHead() : heads[static_cast<size_t>(seq - 1)];
  }
  void Append(std::string_view kind, std::string body) {
    Record r{static_cast<int64_t>(records.size()) + 1, std::string(kind),
             1000 + static_cast<int64_t>(records.size()), std::move(body)};
    heads.push_back(chain::NextHead(HeadAt(r.seq - 1), chain::RecordHash(r)));
    records.push_back(std::move(r));
  }
  void Baseline(const std::string& name, int64_t revision, const std::string& root,
                std::string_view kind = chain::kBaseline) {
    Append(kind, BodyBuilder()
                     .Str("name", name)
                     .Int("revision", revision)
                     .Str("snapshot", "s")
                     .Str("root", root)
                     .Str("rules", "r")
                     .Str("author", "root")
                     .Str("reason", "")
                     .Build());
  }
  void Check(const std::string& baseline, int64_t revision, const std::string& baseline_root) {
    Append(chain::kCheck, BodyBuilder()
                              .Str("check", "c" + std::to_string(records.size()))
                              .Str("baseline", baseline)
                              .Int("revision", revision)
                              .Str("baseline_root", baseline_root)
                              .Str("root", baseline_root)
                              .Int("events", 0)
                              .Str("events_digest", chain::Sha256Hex(""))
                              .Build());
  }
  // The report's chain section for records from+1 .. to.
  chain::ReportChain Report(int64_t from, int64_t to) const {
    chain::ReportChain c;
    c.from = from;
    c.length = to;
    c.head = HeadAt(to);
    for (int64_t s = from + 1; s <= to; ++s) c.records.push_back(records[s - 1]);
    return c;
  }
};

// The collector's side: what it escrowed, applied as a backend would.
class FakeLedger : public EscrowLedger {
 public:
  HeldChain held;
  std::map<int64_t, std::string> heads;
  std::map<std::string, EscrowedBaseline> baselines;
  int head_reads = 0;

  Result<std::string> HeadAt(int64_t seq) override {
    ++head_reads;
    auto it = heads.find(seq);
    if (it == heads.end()) return Status::Internal("no head at " + std::to_string(seq));
    return it->second;
  }
  Result<std::optional<EscrowedBaseline>> LatestBaseline(const std::string& name) override {
    auto it = baselines.find(name);
    if (it == baselines.end()) return std::optional<EscrowedBaseline>();
    return std::optional<EscrowedBaseline>(it->second);
  }
  // Judges and applies.
  Result<ChainVerdict> Ingest(const chain::ReportChain& c) {
    DW_ASSIGN_OR_RETURN(ChainVerdict v, JudgeChain(held, c, *this));
    for (const auto& [r, h] : v.escrow) {
      EXPECT_EQ(heads.count(r.seq), 0u) << "escrowed records are never overwritten";
      heads[r.seq] = h;
    }
    for (const EscrowedBaseline& b : v.baselines) baselines[b.name] = b;
    held = v.next;
    return v;
  }
};

const std::string kRootA = "0123456789abcdef0123456789abcdef";
const std::string kRootB = "fedcba9876543210fedcba9876543210";

TEST(EscrowTest, AdoptsTheFirstChainThenExtendsIt) {
  AgentChain a;
  a.Baseline("default", 1, kRootA);
  a.Check("default", 1, kRootA);
  FakeLedger l;
  auto v = l.Ingest(a.Report(0, 2));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{2, a.HeadAt(2), ChainState::kAdopted}));
  EXPECT_TRUE(v->findings.empty());
  ASSERT_EQ(v->escrow.size(), 2u);
  EXPECT_EQ(v->escrow[1].first, a.records[1]);
  EXPECT_EQ(v->escrow[1].second, a.HeadAt(2));
  EXPECT_EQ(l.held.length, 2);
  EXPECT_TRUE(l.held.adopted);
  ASSERT_EQ(v->baselines.size(), 1u);
  EXPECT_EQ(v->baselines[0].revision, 1);
  EXPECT_EQ(v->baselines[0].root, kRootA);
  EXPECT_EQ(v->baselines[0].seq, 1);

  a.Check("default", 1, kRootA);
  v = l.Ingest(a.Report(2, 3));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{3, a.HeadAt(3), ChainState::kOk}));
  EXPECT_EQ(l.held.length, 3);

  // The same again, and an empty report: unchanged, ok.
  v = l.Ingest(a.Report(2, 3));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{3, a.HeadAt(3), ChainState::kOk}));
  EXPECT_TRUE(v->escrow.empty());
  v = l.Ingest(a.Report(3, 3));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{3, a.HeadAt(3), ChainState::kOk}));
}

TEST(EscrowTest, AdoptsAnEmptyChain) {
  AgentChain a;
  FakeLedger l;
  auto v = l.Ingest(a.Report(0, 0));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{0, chain::GenesisHead(), ChainState::kAdopted}));
  a.Baseline("default", 1, kRootA);
  v = l.Ingest(a.Report(0, 1));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{1, a.HeadAt(1), ChainState::kOk}));
}

TEST(EscrowTest, FromPastTheHeldLengthAsksForAResend) {
  AgentChain a;
  for (int i = 0; i < 4; ++i) a.Baseline("default", i + 1, kRootA);
  FakeLedger l;
  ASSERT_TRUE(l.Ingest(a.Report(0, 2)).ok());
  auto v = l.Ingest(a.Report(3, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{2, a.HeadAt(2), ChainState::kResend}));
  EXPECT_TRUE(v->escrow.empty());
  EXPECT_TRUE(v->findings.empty());
  EXPECT_EQ(l.held.length, 2);
  // A fresh epoch holds nothing: an agent that acked records before must
  // send its chain from the start.
  FakeLedger fresh;
  v = fresh.Ingest(a.Report(2, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{0, chain::GenesisHead(), ChainState::kResend}));
  EXPECT_FALSE(fresh.held.adopted);
  v = fresh.Ingest(a.Report(0, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer.state, ChainState::kAdopted);
}

TEST(EscrowTest, AHeadThatTheRecordsDoNotGiveIsAForkAtFrom) {
  AgentChain a;
  a.Baseline("default", 1, kRootA);
  a.Check("default", 1, kRootA);
  FakeLedger l;
  chain::ReportChain c = a.Report(0, 2);
  c.head = a.HeadAt(1);
  auto v = l.Ingest(c);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer.state, ChainState::kAlert);
  ASSERT_EQ(v->findings.size(), 1u);
  EXPECT_EQ(v->findings[0].kind, kAlertFork);
  EXPECT_EQ(v->findings[0].seq, 0);
  EXPECT_NE(v->findings[0].detail.find(a.HeadAt(2)), std::string::npos) << v->findings[0].detail;
  EXPECT_NE(v->findings[0].detail.find(a.HeadAt(1)), std::string::npos) << v->findings[0].detail;
  EXPECT_EQ(l.held.length, 0);
  EXPECT_TRUE(l.heads.empty());

  // An edited body with the unedited head.
  c = a.Report(0, 2);
  c.records[1].body = c.records[1].body + " ";
  v = l.Ingest(c);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer.state, ChainState::kAlert);
  EXPECT_EQ(l.held.length, 0);
}

TEST(EscrowTest, AnEditedRecordTheCollectorHoldsIsAFork) {
  AgentChain a;
  a.Baseline("default", 1, kRootA);
  a.Check("default", 1, kRootA);
  a.Check("default", 1, kRootA);
  FakeLedger l;
  ASSERT_TRUE(l.Ingest(a.Report(0, 3)).ok());
  const std::string held_head = l.held.head;

  // The intruder rewrites record 2 and every head after it; the agent's
  // chain_acked (2) came from the store copy before the edit... so it sends
  // from 1.
  AgentChain b;
  b.records = {a.records[0]};
  b.heads = {a.heads[0]};
  b.Baseline("default", 2, kRootB, chain::kAccept);
  b.Check("default", 2, kRootB);
  b.Check("default", 2, kRootB);
  auto v = l.Ingest(b.Report(1, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{3, held_head, ChainState::kAlert}));
  ASSERT_EQ(v->findings.size(), 1u);
  const IntegrityFinding& f = v->findings[0];
  EXPECT_EQ(f.kind, "fork");
  EXPECT_EQ(f.severity, "critical");
  EXPECT_EQ(f.seq, 2);
  EXPECT_NE(f.detail.find(a.HeadAt(2)), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find(b.HeadAt(2)), std::string::npos) << f.detail;
  EXPECT_TRUE(v->escrow.empty());
  EXPECT_EQ(l.held.length, 3);
  EXPECT_EQ(l.held.head, held_head);
  EXPECT_EQ(l.heads[2], a.HeadAt(2));
}

TEST(EscrowTest, AShorterChainWhoseRecordsFitIsARewind) {
  AgentChain a;
  for (int i = 0; i < 5; ++i) a.Check("default", 1, kRootA);
  FakeLedger l;
  l.held.adopted = true;
  l.baselines["default"] = {"default", 1, kRootA, 0};
  ASSERT_TRUE(l.Ingest(a.Report(0, 5)).ok());
  // A copy of the store taken when it had 3 records, acked at 2.
  auto v = l.Ingest(a.Report(2, 3));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{5, a.HeadAt(5), ChainState::kAlert}));
  ASSERT_EQ(v->findings.size(), 1u);
  EXPECT_EQ(v->findings[0].kind, "rewind");
  EXPECT_EQ(v->findings[0].seq, 3);
  EXPECT_NE(v->findings[0].detail.find(a.HeadAt(3)), std::string::npos);
  EXPECT_NE(v->findings[0].detail.find(a.HeadAt(5)), std::string::npos);
  // No records at all, from a point the collector holds.
  v = l.Ingest(a.Report(4, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer.state, ChainState::kAlert);
  EXPECT_EQ(v->findings[0].kind, "rewind");
  EXPECT_EQ(l.held.length, 5);
}

TEST(EscrowTest, ARestoredCopyThatGrowsPastTheHeldLengthForks) {
  AgentChain a;
  a.Baseline("default", 1, kRootA);
  a.Check("default", 1, kRootA);
  a.Check("default", 1, kRootA);
  FakeLedger l;
  ASSERT_TRUE(l.Ingest(a.Report(0, 3)).ok());
  AgentChain b;
  b.records = {a.records[0]};
  b.heads = {a.heads[0]};
  // Checks run after the restore: the same kind and baseline, other ids.
  for (int i = 0; i < 3; ++i) {
    b.Append(chain::kCheck, BodyBuilder()
                                .Str("check", "after-restore-" + std::to_string(i))
                                .Str("baseline", "default")
                                .Int("revision", 1)
                                .Str("baseline_root", kRootA)
                                .Build());
  }
  auto v = l.Ingest(b.Report(1, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->findings.size(), 1u);
  EXPECT_EQ(v->findings[0].kind, "fork");
  EXPECT_EQ(v->findings[0].seq, 2);
  EXPECT_EQ(l.held.length, 3);
}

TEST(EscrowTest, ACheckAgainstABaselineTheChainDoesNotHoldAlerts) {
  AgentChain a;
  a.Baseline("default", 1, kRootA);
  a.Check("default", 1, kRootA);
  FakeLedger l;
  ASSERT_TRUE(l.Ingest(a.Report(0, 2)).ok());
  // The baseline was edited in the store's tables: checks now name another root.
  a.Check("default", 1, kRootB);
  a.Check("other", 1, kRootA);
  auto v = l.Ingest(a.Report(2, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->answer, (ChainAnswer{4, a.HeadAt(4), ChainState::kAlert}));
  ASSERT_EQ(v->findings.size(), 2u);
  EXPECT_EQ(v->findings[0].kind, "baseline-outside-chain");
  EXPECT_EQ(v->findings[0].seq, 3);
  EXPECT_NE(v->findings[0].detail.find(kRootA), std::string::npos) << v->findings[0].detail;
  EXPECT_NE(v->findings[0].detail.find(kRootB), std::string::npos) << v->findings[0].detail;
  EXPECT_EQ(v->findings[1].kind, "baseline-outside-chain");
  EXPECT_EQ(v->findings[1].seq, 4);
  EXPECT_NE(v->findings[1].detail.find("never recorded"), std::string::npos);
  // The records are escrowed all the same.
  EXPECT_EQ(l.held.length, 4);
  EXPECT_EQ(l.heads[4], a.HeadAt(4));
}

TEST(EscrowTest, AnAcceptInTheSameReportMovesTheBaseline) {
  AgentChain a;
  a.Baseline("default", 1, kRootA);
  a.Baseline("default", 2, kRootB, chain::kAccept);
  a.Check("default", 2, kRootB);
  FakeLedger l;
  auto v = l.Ingest(a.Report(0, 3));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_TRUE(v->findings.empty()) << v->findings[0].detail;
  ASSERT_EQ(v->baselines.size(), 1u);
  EXPECT_EQ(v->baselines[0].revision, 2);
  EXPECT_EQ(v->baselines[0].seq, 2);
  // A later report's check against revision 1 is outside the chain.
  a.Check("default", 1, kRootA);
  v = l.Ingest(a.Report(3, 4));
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->findings.size(), 1u);
  EXPECT_EQ(v->findings[0].seq, 4);
}

TEST(EscrowTest, ABodyThatIsNoObjectIsEscrowedAndJudgedAsNamingNothing) {
  AgentChain a;
  a.Append(chain::kCheck, "not json");
  a.Append("future-kind", "{}");
  FakeLedger l;
  auto v = l.Ingest(a.Report(0, 2));
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->findings.size(), 1u);
  EXPECT_EQ(v->findings[0].kind, "baseline-outside-chain");
  EXPECT_EQ(l.held.length, 2);
}

chain::SelfDigests Self(char exe, char rules, char config, std::string version) {
  return {std::string(64, exe), std::string(64, rules), std::string(64, config),
          std::move(version)};
}

TEST(EscrowSelfTest, NothingBeforeTheFirstSelfNorWhenUnchanged) {
  EXPECT_TRUE(JudgeSelf({}, Self('a', 'b', 'c', "0.1.0"), {}).empty());
  SelfContext ctx;
  ctx.previous = Self('a', 'b', 'c', "0.1.0");
  EXPECT_TRUE(JudgeSelf(ctx, Self('a', 'b', 'c', "0.1.0"), {}).empty());
}

TEST(EscrowSelfTest, AnExeChangeIsCriticalUnlessAnUpgradeExplainsIt) {
  SelfContext ctx;
  ctx.previous = Self('a', 'b', 'c', "0.1.0");
  auto f = JudgeSelf(ctx, Self('e', 'b', 'c', "0.1.0"), {});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "exe");
  EXPECT_EQ(f[0].severity, "critical");
  EXPECT_FALSE(f[0].explained);
  EXPECT_NE(f[0].detail.find(std::string(64, 'a')), std::string::npos);
  EXPECT_NE(f[0].detail.find(std::string(64, 'e')), std::string::npos);

  f = JudgeSelf(ctx, Self('e', 'b', 'c', "0.2.0"), {});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, "info");
  EXPECT_TRUE(f[0].explained);
  EXPECT_EQ(f[0].explanation, "driftwatch was upgraded from 0.1.0 to 0.2.0");

  ctx.stored_package_version = "0.1.0-1";
  ctx.report_package_version = "0.1.0-2";
  f = JudgeSelf(ctx, Self('e', 'b', 'c', "0.1.0"), {});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, "info");
  EXPECT_NE(f[0].explanation.find("0.1.0-2"), std::string::npos);

  ctx.report_package_version = "0.1.0-1";  // the same package: no explanation
  f = JudgeSelf(ctx, Self('e', 'b', 'c', "0.1.0"), {});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, "critical");
}

TEST(EscrowSelfTest, RulesAndConfigChangesAreHighUnlessTheChainRecordsThem) {
  SelfContext ctx;
  ctx.previous = Self('a', 'b', 'c', "0.1.0");
  auto f = JudgeSelf(ctx, Self('a', 'd', 'f', "0.1.0"), {});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].kind, "rules");
  EXPECT_EQ(f[0].severity, "high");
  EXPECT_EQ(f[1].kind, "config");
  EXPECT_EQ(f[1].severity, "high");
  EXPECT_NE(f[1].detail.find(std::string(64, 'f')), std::string::npos);

  std::vector<chain::Record> records = {
      {7, "rules", 1,
       BodyBuilder()
           .Str("path", "/etc/driftwatch/rules.yaml")
           .Str("digest", std::string(64, 'd'))
           .Str("fingerprint", "x")
           .Build()},
      {8, "config", 2,
       BodyBuilder().Str("path", "/etc/driftwatch/agent.yaml").Str("digest", "0").Build()}};
  f = JudgeSelf(ctx, Self('a', 'd', 'f', "0.1.0"), records);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].severity, "info");
  EXPECT_TRUE(f[0].explained);
  EXPECT_EQ(f[0].seq, 7);
  EXPECT_EQ(f[1].severity, "high");  // the config record names another digest
}

TEST(EscrowSelfTest, DriftwatchPackageVersion) {
  EXPECT_EQ(DriftwatchPackageVersion(
                {{"dpkg", "bash", "5", "amd64"}, {"dpkg", "driftwatch", "0.2.0-1", "amd64"}}),
            "0.2.0-1");
  EXPECT_EQ(DriftwatchPackageVersion({{"dpkg", "driftwatch-collector", "1", "amd64"}}), "");
}

}  // namespace
}  // namespace driftwatch::collector
