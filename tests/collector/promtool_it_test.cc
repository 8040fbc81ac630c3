// `promtool check metrics` (Debian's prometheus package) on what driftwatch
// exposes: the collector's live /metrics after traffic, with hosts in two
// groups and every state, and the agent daemon's node_exporter textfile
// (metrics_file:). Without promtool the test is skipped (exit 77).
#include <map>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

bool WaitFor(const std::function<bool()>& pred, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// promtool's verdict on `file`: its exit status and what it said.
testutil::RunResult Promtool(const std::string& file) {
  return testutil::Run("promtool check metrics < " + Q(file) + " 2>&1");
}

TEST(PromtoolTest, CollectorMetricsAfterTrafficPassPromtool) {
  TempDir dir;
  Collector c(dir);
  const std::string admin = c.Token("admin");
  const std::string enroll = c.Token("enroll");
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  // web-1 drifted, web-2 ok, db-1 silent (never reported).
  const std::string web1 = c.EnrollApi(enroll, "web-1", "web");
  const std::string web2 = c.EnrollApi(enroll, "web-2", "web");
  ASSERT_FALSE(c.EnrollApi(enroll, "db-1", "db").empty());
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Answer r1 = Http("POST", c.url() + "/api/v1/reports", web1,
                   ReportJson(Uuid(1), "web-1",
                              {Added("/etc/a", Severity::kHigh), Added("/etc/b", Severity::kHigh),
                               Added("/etc/c", Severity::kMedium)},
                              now));
  ASSERT_EQ(r1.status, 200) << r1.body;
  Answer r2 =
      Http("POST", c.url() + "/api/v1/reports", web2, ReportJson(Uuid(2), "web-2", {}, now));
  ASSERT_EQ(r2.status, 200) << r2.body;
  // Some errors: 401, 404, 405.
  EXPECT_EQ(Http("GET", c.url() + "/api/v1/hosts", "dw_wrong").status, 401);
  EXPECT_EQ(c.Get("/api/v1/hosts/nosuch", admin).status, 404);
  EXPECT_EQ(Http("DELETE", c.url() + "/api/v1/drift", admin).status, 405);

  Answer m = c.Get("/metrics", admin);
  ASSERT_EQ(m.status, 200) << m.body;
  WriteFile(dir / "metrics.txt", m.body);
  auto check = Promtool(dir / "metrics.txt");
  EXPECT_EQ(check.exit_code, 0) << check.out << m.body;
  EXPECT_EQ(check.out, "") << m.body;
  for (const char* line :
       {"driftwatch_build_info{version=\"" DRIFTWATCH_VERSION "\"} 1\n",
        "driftwatch_fleet_hosts{group=\"web\",state=\"drifted\"} 1\n",
        "driftwatch_fleet_hosts{group=\"web\",state=\"ok\"} 1\n",
        "driftwatch_fleet_hosts{group=\"db\",state=\"silent\"} 1\n",
        "driftwatch_fleet_open_drift{group=\"web\",severity=\"high\"} 2\n",
        "driftwatch_fleet_open_drift{group=\"web\",severity=\"medium\"} 1\n",
        "driftwatch_ingest_duration_seconds_count 2\n",
        "driftwatch_http_request_duration_seconds_count{route=\"/api/v1/reports\",status=\"2xx\"} "
        "2\n",
        "driftwatch_http_request_duration_seconds_count{route=\"/api/v1/hosts/"
        "{id}\",status=\"4xx\"} "
        "1\n",
        "# TYPE process_cpu_seconds_total counter\n", "# TYPE process_open_fds gauge\n",
        "# TYPE process_start_time_seconds gauge\n"}) {
    EXPECT_NE(m.body.find(line), std::string::npos) << line << m.body;
  }
  EXPECT_NE(m.body.find("driftwatch_fleet_newest_report_age_seconds{group=\"web\"} "),
            std::string::npos);
  EXPECT_EQ(m.body.find("driftwatch_fleet_newest_report_age_seconds{group=\"db\"}"),
            std::string::npos)
      << "db never reported";
  EXPECT_EQ(c.Stop(), 0);
}

TEST(PromtoolTest, AgentTextfilePassesPromtool) {
  TempDir dir;
  testutil::Run("mkdir -p " + Q(dir / "root/etc/app"));
  WriteFile(dir / "root/etc/app/app.conf", "port = 80\n");
  WriteFile(dir / "rules.yaml", kAgentRules);
  const std::string prom = dir / "driftwatch.prom";
  WriteFile(dir / "agent.yaml", "db: " + (dir / "agent.db") + "\nrules: " + (dir / "rules.yaml") +
                                    "\nroot: " + (dir / "root") +
                                    "\ninterval: 1s\njitter: 0s\npoll_interval: 200ms\nnice: 0\n"
                                    "enroll_file: " +
                                    (dir / "none.yaml") + "\nmetrics_file: " + prom + "\n");
  Process daemon;
  daemon.Start({AgentBin(), "daemon", "--config", dir / "agent.yaml"}, dir / "daemon.log", false);
  ASSERT_TRUE(WaitFor([&] { return !ReadAll(prom).empty(); }, 30)) << ReadAll(dir / "daemon.log");
  EXPECT_NE(ReadAll(prom).find("driftwatch_agent_last_check_result 0\n"), std::string::npos)
      << ReadAll(prom);
  // Drift: a new file under /etc, high. Not enrolled: the reports stay in
  // the outbox.
  WriteFile(dir / "root/etc/app/new.conf", "x\n");
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadAll(prom).find("driftwatch_agent_last_check_result 1\n") != std::string::npos;
      },
      30))
      << ReadAll(prom) << ReadAll(dir / "daemon.log");
  EXPECT_EQ(daemon.Kill(SIGTERM), 0);
  const std::string text = ReadAll(prom);
  EXPECT_NE(text.find("driftwatch_agent_last_check_drift_events{severity=\"high\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("driftwatch_agent_outbox_reports 0\n"), std::string::npos) << text;
  struct stat st {};
  ASSERT_EQ(stat(prom.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  auto check = Promtool(prom);
  EXPECT_EQ(check.exit_code, 0) << check.out << text;
  EXPECT_EQ(check.out, "") << text;
  // The daemon's lines have levels.
  const std::string log = ReadAll(dir / "daemon.log");
  EXPECT_NE(log.find(" info driftwatch daemon: check: 1 drift event(s)"), std::string::npos) << log;
}

}  // namespace
}  // namespace driftwatch::collector_it

int main(int argc, char** argv) {
  if (driftwatch::testutil::Run("command -v promtool >/dev/null 2>&1").exit_code != 0) {
    std::printf(
        "SKIP: promtool not found; install Debian's prometheus package "
        "(scripts/deps.sh, DW_TEST_PACKAGES)\n");
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
