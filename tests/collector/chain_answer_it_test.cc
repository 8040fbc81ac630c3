// The agent's side of the chain escrow (docs/wire.md, "Integrity") against a
// scripted collector: reports carry the records the collector lacks, and
// its answer moves chain_acked on only when it names the store's own head.
#include <cpprest/json.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "agent/store.h"
#include "core/drift_json.h"
#include "report/client.h"
#include "report/outbox.h"
#include "report/reporter.h"
#include "tests/collector/scripted_collector.h"
#include "tests/testing/run.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::collector_it {
namespace {

using report::ChainAnswer;
using report::CollectorClient;
using ::testing::HasSubstr;
using web::json::value;

TEST(ChainAnswerTest, TheClientReadsTheChainOfAnAnswer) {
  struct Case {
    std::string body;
    bool read;
  };
  const std::string head(64, 'b');
  for (const Case& c :
       std::vector<Case>{{R"({"chain":{"held":4,"head":")" + head + R"(","state":"ok"}})", true},
                         {R"({"chain":{"held":"4","head":"x"}})", false},
                         {R"({"chain":[]})", false},
                         {R"({"packages_needed":false})", false},
                         {"not json", false}}) {
    SCOPED_TRACE(c.body);
    ScriptedCollector collector([&](const ScriptedRequest&) { return HttpAnswer(200, c.body); });
    ASSERT_TRUE(collector.ok());
    CollectorClient client(collector.url(), "agent-token", "", 2000);
    std::optional<ChainAnswer> chain = ChainAnswer{};
    ASSERT_TRUE(client.SendReport("{}", nullptr, &chain).ok());
    ASSERT_EQ(chain.has_value(), c.read);
    if (c.read) {
      EXPECT_EQ(chain->held, 4);
      EXPECT_EQ(chain->head, head);
      EXPECT_EQ(chain->state, "ok");
    }
  }
}

// A collector that holds what it was sent: it answers with the length and
// head of the last chain it received, or with what `answer` says.
class EscrowScript {
 public:
  std::string operator()(const ScriptedRequest& req) {
    std::lock_guard<std::mutex> lock(mu_);
    value body = value::parse(req.body);
    auto r = CheckResultFromJson(body);
    if (!r.ok()) return HttpAnswer(400, R"({"error":"invalid_report"})");
    reports_.push_back(*r);
    if (r->chain) {
      held_ = r->chain->length;
      head_ = r->chain->head;
    }
    value chain = value::object();
    chain["held"] = value::number(held_);
    chain["head"] = value(override_head_.empty() ? head_ : override_head_);
    chain["state"] = value(state_);
    value answer = value::object();
    answer["chain"] = chain;
    return HttpAnswer(200, answer.serialize());
  }
  std::vector<CheckResult> reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }
  void Answer(std::string head, std::string state) {
    std::lock_guard<std::mutex> lock(mu_);
    override_head_ = std::move(head);
    state_ = std::move(state);
  }

 private:
  std::mutex mu_;
  std::vector<CheckResult> reports_;
  int64_t held_ = 0;
  std::string head_, override_head_, state_ = "adopted";
};

TEST(ChainAnswerTest, DeliveryMovesTheAcknowledgedLengthOnAsTheCollectorAnswers) {
  testutil::TempDir dir;
  const std::string db = dir / "agent.db";
  auto store = agent::Store::Open(DefaultHost(), db);
  ASSERT_TRUE(store.ok()) << store.status().message();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*store)->AppendRecord("config", i, R"({"digest":"d","path":"/p"})").ok());
  }
  EscrowScript script;
  ScriptedCollector collector([&](const ScriptedRequest& r) { return script(r); });
  ASSERT_TRUE(collector.ok());
  auto outbox = report::Outbox::Open(db);
  ASSERT_TRUE(outbox.ok());
  report::Enrollment e{collector.url(), "web-1", "agent-token", "", ""};
  CollectorClient client(collector.url(), e.token, "", 2000);
  CheckResult check;
  check.target = "web-1";
  check.baseline = "default";
  auto deliver = [&] {
    EXPECT_TRUE((*outbox)->Enqueue(check, 1).ok());
    auto out = report::DeliverOutbox(DefaultHost(), **outbox, client, e, {}, 1);
    EXPECT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->sent, 1);
    return *out;
  };

  // First chain seen: adopted; the agent now counts 3 records as held.
  report::DeliveryOutcome first = deliver();
  EXPECT_TRUE(first.warnings.empty());
  EXPECT_EQ(*(*outbox)->ChainAcked(), 3);
  ASSERT_EQ(script.reports().size(), 1u);
  EXPECT_EQ(script.reports()[0].chain->from, 0);
  EXPECT_EQ(script.reports()[0].chain->records.size(), 3u);

  // One more record: only it travels.
  ASSERT_TRUE((*store)->AppendRecord("config", 9, R"({"digest":"e","path":"/p"})").ok());
  script.Answer("", "ok");
  EXPECT_TRUE(deliver().warnings.empty());
  EXPECT_EQ(*(*outbox)->ChainAcked(), 4);
  ASSERT_EQ(script.reports().size(), 2u);
  EXPECT_EQ(script.reports()[1].chain->from, 3);
  ASSERT_EQ(script.reports()[1].chain->records.size(), 1u);
  EXPECT_EQ(script.reports()[1].chain->records[0].seq, 4);

  // An answer with another head: chain_acked stays, and a person hears of it.
  const std::string other(64, 'f');
  script.Answer(other, "alert");
  report::DeliveryOutcome forked = deliver();
  EXPECT_EQ(*(*outbox)->ChainAcked(), 4);
  ASSERT_EQ(forked.warnings.size(), 2u);
  EXPECT_THAT(forked.warnings[0], HasSubstr("up to record 4 with head " + other));
  EXPECT_THAT(forked.warnings[1], HasSubstr("integrity alert"));
  EXPECT_THAT(forked.Note(), HasSubstr("integrity alert"));
}

// `check --report` through the binary: the report carries the records the
// collector lacks, including those that say what runs, and "self".
TEST(ChainAnswerTest, CheckReportCarriesTheChainAndWhatRuns) {
  const char* bin_env = std::getenv("DRIFTWATCH_BIN");
  const std::string bin = bin_env ? bin_env : "driftwatch";
  testutil::TempDir dir;
  const std::string root = dir / "root", rules = dir / "rules.yaml", db = dir / "state/agent.db";
  const std::string kRules = "version: 1\nrules:\n  - path: /etc/**\n    severity: high\n";
  testutil::WriteFile(rules, kRules);
  testutil::WriteFile(root + "/etc/passwd", "root:x:0:0\n");
  const std::string flags = " --root " + testutil::Quote(root) + " --rules " +
                            testutil::Quote(rules) + " --db " + testutil::Quote(db) + " 2>&1";
  testutil::RunResult created = testutil::Run(testutil::Quote(bin) + " baseline create" + flags);
  ASSERT_EQ(created.exit_code, 0) << created.out;

  EscrowScript script;
  ScriptedCollector collector([&](const ScriptedRequest& r) { return script(r); });
  ASSERT_TRUE(collector.ok());
  {
    auto outbox = report::Outbox::Open(db);
    ASSERT_TRUE(outbox.ok());
    ASSERT_TRUE(
        (*outbox)->SaveEnrollment(report::Enrollment{collector.url(), "web-1", "t", "", ""}).ok());
  }
  testutil::RunResult first = testutil::Run(testutil::Quote(bin) + " check --report" + flags);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  ASSERT_EQ(script.reports().size(), 1u);
  CheckResult r = script.reports()[0];
  ASSERT_TRUE(r.chain.has_value());
  EXPECT_EQ(r.chain->from, 0);
  std::vector<std::string> kinds;
  for (const chain::Record& rec : r.chain->records) kinds.push_back(rec.kind);
  // No agent configuration is installed here: no config record.
  EXPECT_EQ(kinds, (std::vector<std::string>{"baseline", "check", "agent-start", "rules"}));
  EXPECT_EQ(r.chain->length, 4);
  ASSERT_TRUE(r.self.has_value());
  auto exe = DefaultHost().ReadFile(bin, size_t{1} << 30);
  ASSERT_TRUE(exe.ok());
  EXPECT_EQ(r.self->exe, chain::Sha256Hex(*exe));
  EXPECT_EQ(r.self->rules, chain::Sha256Hex(kRules));
  EXPECT_EQ(r.self->config, "");
  EXPECT_EQ(r.self->version, DRIFTWATCH_VERSION);

  // Acknowledged: the next report carries only the new check.
  testutil::RunResult second = testutil::Run(testutil::Quote(bin) + " check --report" + flags);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  ASSERT_EQ(script.reports().size(), 2u);
  r = script.reports()[1];
  ASSERT_TRUE(r.chain.has_value());
  EXPECT_EQ(r.chain->from, 4);
  ASSERT_EQ(r.chain->records.size(), 1u);
  EXPECT_EQ(r.chain->records[0].kind, "check");
  EXPECT_EQ(r.chain->records[0].seq, 5);
}

}  // namespace
}  // namespace driftwatch::collector_it
