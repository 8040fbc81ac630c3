// Agent failover: a CollectorClient given several collector URLs (a dead
// port, a collector answering 503, two real collectors on one PostgreSQL
// database) delivers every report exactly once, moving on when the
// collector in use dies.
#include <cpprest/http_listener.h>
#include <gtest/gtest.h>

#include <atomic>

#include "report/client.h"
#include "tests/collector/harness.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::collector_it {
namespace {

using pgtest::PgCluster;

TEST(FailoverTest, ReportsReachTheNextCollectorAndAreStoredOnce) {
  std::string skip = PgCluster::SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  if (CollectorBin().empty()) GTEST_SKIP() << "DW_COLLECTOR_BIN not set (run through meson test)";
  PgCluster cluster;
  ASSERT_EQ(cluster.Start(), "");
  const std::string url = cluster.NewDatabase("fleet");
  ASSERT_NE(url, "");
  TempDir tmp;
  auto run = [&](const std::string& args) {
    auto r = testutil::Run(Q(CollectorBin()) + " " + args);
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  };
  run("migrate --store " + Q(url));
  const std::string enroll = run("token create --store " + Q(url) + " --role enroll");
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

  Process c0, c1;
  const std::string u0 =
      c0.Start({CollectorBin(), "--listen", "127.0.0.1:0", "--store", url, "--store-pool", "2"},
               tmp / "c0.log");
  const std::string u1 =
      c1.Start({CollectorBin(), "--listen", "127.0.0.1:0", "--store", url, "--store-pool", "2"},
               tmp / "c1.log");
  ASSERT_NE(u0, "");
  ASSERT_NE(u1, "");
  const std::string list = dead_url + ", " + bad_url + "/," + u0 + "," + u1;

  report::CollectorClient enroller(list, enroll, "", 3000);
  auto e = enroller.Enroll("web-1", "web");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(bad_requests.load(), 1);

  report::CollectorClient agent(list, e->token, "", 3000);
  ASSERT_TRUE(agent.SendReport(ReportJson(Uuid(1), "web-1", {Added("/etc/a")}, 1000)).ok());
  EXPECT_EQ(bad_requests.load(), 2);  // tried once more, then stayed on c0
  ASSERT_TRUE(agent.SendReport(ReportJson(Uuid(2), "web-1", {Added("/etc/b")}, 2000)).ok());
  EXPECT_EQ(bad_requests.load(), 2);

  c0.Kill(SIGKILL);
  ASSERT_TRUE(agent.SendReport(ReportJson(Uuid(3), "web-1", {Added("/etc/c")}, 3000)).ok());
  // An acknowledgement lost with c0: the agent re-sends, c1 knows it.
  ASSERT_TRUE(agent.SendReport(ReportJson(Uuid(2), "web-1", {Added("/etc/b")}, 2000)).ok());
  EXPECT_EQ(bad_requests.load(), 2);

  EXPECT_EQ(cluster.Sql("fleet", "SELECT report_id, events FROM reports ORDER BY seq"),
            (pgtest::Rows{{Uuid(1), "1"}, {Uuid(2), "1"}, {Uuid(3), "1"}}));
  EXPECT_EQ(cluster.Sql("fleet", "SELECT path FROM events ORDER BY id"),
            (pgtest::Rows{{"/etc/a"}, {"/etc/b"}, {"/etc/c"}}));

  c1.Kill(SIGKILL);
  Status down = agent.SendReport(ReportJson(Uuid(4), "web-1", {}, 4000));
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.message();
  bad.close().wait();
}

}  // namespace
}  // namespace driftwatch::collector_it
