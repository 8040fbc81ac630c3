// Agent failover through the real binaries: `driftwatch enroll --collector
// DEAD,BAD,C0,C1,C2` and repeated `driftwatch check --report` while
// collectors on one PostgreSQL database are killed and restarted and one
// "collector" answers every request with 503. Every report reaches the
// database exactly once and in the order the checks ran; reports made while
// every collector was down wait in the outbox and follow later.
#include <cpprest/http_listener.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>

#include "tests/collector/harness.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::collector_it {
namespace {

using pgtest::PgCluster;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(AgentFailoverTest, CheckReportsAreStoredOnceInOrderAcrossCollectorFailures) {
  std::string skip = PgCluster::SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  if (CollectorBin().empty() || AgentBin().empty()) {
    GTEST_SKIP() << "DW_COLLECTOR_BIN / DRIFTWATCH_BIN not set (run through meson test)";
  }
  PgCluster cluster;
  ASSERT_EQ(cluster.Start(), "");
  const std::string store = cluster.NewDatabase("fleet");
  ASSERT_NE(store, "");
  TempDir tmp;
  auto cli = [&](const std::string& args) {
    return testutil::Run(Q(CollectorBin()) + " " + args + " 2>&1");
  };
  ASSERT_EQ(cli("migrate --store " + Q(store)).exit_code, 0);
  const std::string enroll = Trim(cli("token create --store " + Q(store) + " --role enroll").out);
  ASSERT_EQ(enroll.rfind("dw_", 0), 0u) << enroll;

  // A collector in trouble: every request gets 503.
  const std::string bad_url = "http://127.0.0.1:" + std::to_string(FreePort());
  std::atomic<int> bad_requests{0};
  web::http::experimental::listener::http_listener bad(bad_url);
  bad.support([&](web::http::http_request req) {
    ++bad_requests;
    req.reply(503, "{\"detail\": \"store unavailable\"}", "application/json").wait();
  });
  bad.open().wait();
  const std::string dead_url = "http://127.0.0.1:" + std::to_string(FreePort());

  // Three collectors on fixed ports, so that a restarted one has its old URL.
  Process procs[3];
  int ports[3];
  std::string urls[3];
  auto start = [&](int i) {
    const std::string log = tmp / ("c" + std::to_string(i) + ".log");
    urls[i] = procs[i].Start({CollectorBin(), "--listen", "127.0.0.1:" + std::to_string(ports[i]),
                              "--store", store, "--store-pool", "2"},
                             log);
    return !urls[i].empty();
  };
  for (int i = 0; i < 3; ++i) {
    ports[i] = FreePort();
    ASSERT_TRUE(start(i))
        << testutil::Run("cat " + Q(tmp / ("c" + std::to_string(i) + ".log"))).out;
  }

  // The agent: a small tree, content rules, its own database.
  const std::string root = tmp / "root", rules = tmp / "rules.yaml", db = tmp / "agent.db";
  testutil::Run("mkdir -p " + Q(root + "/etc/app"));
  WriteFile(rules, kAgentRules);
  WriteFile(root + "/etc/app/app.conf", "port = 80\n");
  auto dw = [&](const std::string& args) {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  };
  auto scan = [&](const std::string& cmd) {
    return dw(cmd + " --root " + Q(root) + " --rules " + Q(rules) + " --quiet");
  };
  auto r = scan("baseline create");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string list = dead_url + "," + bad_url + "," + urls[0] + "," + urls[1] + "," + urls[2];
  r = dw("enroll --collector " + Q(list) + " --token " + Q(enroll) + " --name web-1 --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_GE(bad_requests.load(), 1);

  // One round: a new file, then `check --report`; returns the delivery note
  // and records the report id the agent queued.
  std::vector<std::string> ids;
  auto round = [&](int n) -> std::string {
    WriteFile(root + "/etc/app/new-" + std::to_string(n) + ".conf", "n\n");
    auto c = scan("check --report");
    EXPECT_TRUE(c.exit_code == 0 || c.exit_code == 1) << c.out;
    // "report <id> queued; <note>"
    size_t at = c.out.find("report ");
    size_t q = c.out.find(" queued", at);
    if (at == std::string::npos || q == std::string::npos) {
      ADD_FAILURE() << "round " << n << ": " << c.out;
      return "";
    }
    ids.push_back(c.out.substr(at + 7, q - at - 7));
    size_t semi = c.out.find("; ", q);
    size_t eol = c.out.find('\n', q);
    return semi == std::string::npos ? "" : c.out.substr(semi + 2, eol - semi - 2);
  };

  // All up: the dead URL and the 503 are passed over, c0 stores.
  for (int n = 0; n < 3; ++n) EXPECT_EQ(round(n), "delivered 1 report(s)") << n;
  const int bad_before = bad_requests.load();
  EXPECT_GE(bad_before, 4);  // each run tried it once
  // c0 dies: c1 takes over.
  procs[0].Kill(SIGKILL);
  for (int n = 3; n < 6; ++n) EXPECT_EQ(round(n), "delivered 1 report(s)") << n;
  // Every collector down: reports wait in the outbox, in order.
  procs[1].Kill(SIGKILL);
  procs[2].Kill(SIGKILL);
  std::string note = round(6);
  EXPECT_EQ(note.rfind("delivered 0 report(s), 1 kept in the outbox", 0), 0u) << note;
  note = round(7);
  EXPECT_EQ(note.rfind("delivered 0 report(s), 2 kept in the outbox", 0), 0u) << note;
  // c2 comes back: the backlog goes first, then the new report.
  ASSERT_TRUE(start(2));
  EXPECT_EQ(round(8), "delivered 3 report(s)");
  // c0 back, c2 killed again: c0 stores.
  ASSERT_TRUE(start(0));
  procs[2].Kill(SIGKILL);
  for (int n = 9; n < 11; ++n) EXPECT_EQ(round(n), "delivered 1 report(s)") << n;
  EXPECT_GT(bad_requests.load(), bad_before);

  // Exactly once, in the order the checks ran; report k carries the k+1
  // files added since the baseline.
  ASSERT_EQ(ids.size(), 11u);
  pgtest::Rows want;
  for (size_t k = 0; k < ids.size(); ++k) want.push_back({ids[k], std::to_string(k + 1)});
  EXPECT_EQ(cluster.Sql("fleet", "SELECT report_id, events FROM reports ORDER BY seq"), want);
  EXPECT_EQ(cluster.Sql("fleet", "SELECT count(*) FROM events"), (pgtest::Rows{{"66"}}));
  EXPECT_EQ(cluster.Sql("fleet", "SELECT reports, events FROM hosts WHERE id = 'web-1'"),
            (pgtest::Rows{{"11", "66"}}));
  EXPECT_EQ(procs[0].Kill(SIGTERM), 0);
  bad.close().wait();
}

}  // namespace
}  // namespace driftwatch::collector_it
