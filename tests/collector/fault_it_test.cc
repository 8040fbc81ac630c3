// Faults: the collector is down while an agent keeps producing reports, and
// the collector is killed with SIGKILL in the middle of ingesting.
#include <map>
#include <mutex>
#include <set>

#include "report/outbox.h"
#include "report/reporter.h"
#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

CheckResult Numbered(int n) {
  CheckResult r;
  r.target = "agent-1";
  r.baseline = "default";
  r.baseline_revision = 1;
  r.started_ns = 1793491200LL * 1000000000 + n * 1000;
  r.finished_ns = r.started_ns + 10;
  char path[32];
  std::snprintf(path, sizeof path, "/etc/report-%02d", n);
  r.events.push_back(Added(path));
  return r;
}

TEST(CollectorFaultTest, OutageLosesNothingAndKeepsOrder) {
  TempDir dir;
  const int port = FreePort();
  Collector c(dir);
  ASSERT_TRUE(c.Start(port)) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string agent_db = dir / "agent.db";
  auto r = testutil::Run(Q(AgentBin()) + " enroll --collector " + Q(c.url()) + " --token " +
                         Q(c.Token("enroll")) + " --name agent-1 --group web --db " + Q(agent_db) +
                         " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "enrolled as agent-1 in group web with " + c.url() + "\n" +
                       PinnedKeyLine(c.url(), read));

  ASSERT_EQ(c.Stop(), 0);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    std::string note;
    auto id = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered(i), &note);
    ASSERT_TRUE(id.ok()) << id.status().message();
    ids.push_back(*id);
    EXPECT_EQ(note.rfind("delivered 0 report(s), " + std::to_string(i + 1) +
                             " kept in the outbox (collector " + c.url() + " unreachable",
                         0),
              0u)
        << note;
  }
  auto outbox = report::Outbox::Open(agent_db);
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(*(*outbox)->PendingCount(), 20);

  ASSERT_TRUE(c.Start(port)) << testutil::Run("cat " + Q(c.log())).out;
  std::string note;
  auto last = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered(20), &note);
  ASSERT_TRUE(last.ok());
  ids.push_back(*last);
  EXPECT_EQ(note, "delivered 21 report(s)");
  EXPECT_EQ(*(*outbox)->PendingCount(), 0);

  std::vector<value> events = AllDrift(c, read, "host=agent-1");
  ASSERT_EQ(events.size(), 21u);
  for (int i = 0; i < 21; ++i) {
    char path[32];
    std::snprintf(path, sizeof path, "/etc/report-%02d", i);
    EXPECT_EQ(events[i].at("path").as_string(), path);
    EXPECT_EQ(events[i].at("report_id").as_string(), ids[i]);
    EXPECT_EQ(events[i].at("id").as_number().to_int64(), i + 1);
  }
  value host = c.Get("/api/v1/hosts/agent-1", read).json();
  EXPECT_EQ(host.at("reports").as_integer(), 21);
  EXPECT_EQ(host.at("group").as_string(), "web");
  EXPECT_EQ(c.Stop(), 0);
}

TEST(CollectorFaultTest, KillNineDuringIngestLosesNoAcknowledgedReport) {
  TempDir dir;
  const int port = FreePort();
  Collector c(dir);
  ASSERT_TRUE(c.Start(port));
  const std::string read = c.Token("read");
  const std::string agent = c.EnrollApi(c.Token("enroll"), "busy-1");
  ASSERT_FALSE(agent.empty());
  constexpr int kEvents = 40;
  auto body = [&](int n) {
    std::vector<DriftEvent> ev;
    for (int i = 0; i < kEvents; ++i) {
      ev.push_back(Added("/etc/r" + std::to_string(n) + "/f" + std::to_string(i)));
    }
    return ReportJson(Uuid(1000 + n), "busy-1", ev, 1000 + n);
  };

  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::atomic<int> max_n{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 2; ++t) {
    senders.emplace_back([&, t] {
      for (int n = t; !stop; n += 2) {
        int seen = max_n.load();
        while (n > seen && !max_n.compare_exchange_weak(seen, n)) {
        }
        Answer a = Http("POST", c.url() + "/api/v1/reports", agent, body(n));
        if (a.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(Uuid(1000 + n));
        }
        if (a.status < 0 && stop) break;
      }
    });
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return acked.size() >= 10;
      },
      20));
  c.Kill9();
  stop = true;
  for (auto& s : senders) s.join();

  ASSERT_TRUE(c.Start(port)) << testutil::Run("cat " + Q(c.log())).out;
  std::map<std::string, int> per_report;
  for (const value& e : AllDrift(c, read, "host=busy-1")) {
    per_report[e.at("report_id").as_string()]++;
  }
  for (const std::string& id : acked) {
    EXPECT_EQ(per_report[id], kEvents) << "acknowledged report " << id << " lost";
  }
  for (const auto& [id, n] : per_report) {
    EXPECT_EQ(n, kEvents) << "report " << id << " stored in part";
  }
  EXPECT_GE(per_report.size(), acked.size());
  // Agents resend what was not acknowledged: every resend of a stored report
  // is a duplicate, so each report ends up stored exactly once.
  const int total = max_n + 1;
  for (int n = 0; n < total; ++n) {
    Answer a = Http("POST", c.url() + "/api/v1/reports", agent, body(n));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.json().at("duplicate").as_bool(), per_report.count(Uuid(1000 + n)) == 1);
  }
  EXPECT_EQ(AllDrift(c, read, "host=busy-1").size(), static_cast<size_t>(total) * kEvents);
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
