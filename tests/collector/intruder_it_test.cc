// An intruder with root on a host, against a real agent and collector: each
// way of rewriting the agent's history is caught by `driftwatch store
// verify` or by the collector at the next report, with an integrity alert
// that names the host and what diverged, and nothing the collector stored
// before is lost (docs/integrity.md). Runs on SQLite and, in the -pg twin,
// on PostgreSQL.
#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

class IntruderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testutil::Run("command -v sqlite3 >/dev/null").exit_code != 0) {
      GTEST_SKIP() << "the sqlite3 tool is not installed (apt-get install sqlite3)";
    }
    ASSERT_TRUE(c_.Start()) << testutil::Run("cat " + Q(c_.log())).out;
    read_ = c_.Token("read");
    testutil::Run("mkdir -p " + Q(root_ + "/etc/app"));
    WriteFile(rules_, kAgentRules);
    WriteFile(root_ + "/etc/app/app.conf", "port = 80\n");
    auto r = Dw(AgentBin(), "baseline create" + Scan());
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = Dw(AgentBin(), "enroll --collector " + Q(c_.url()) + " --token " + Q(c_.Token("enroll")) +
                           " --name web-1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  std::string Scan() const { return " --root " + Q(root_) + " --rules " + Q(rules_) + " --quiet"; }
  testutil::RunResult Dw(const std::string& bin, const std::string& args) {
    return testutil::Run(Q(bin) + " " + args + " --db " + Q(db_) + " 2>&1");
  }
  // One check, reported; waits until the collector counts it.
  void Report(const std::string& bin = AgentBin()) {
    const int64_t before = Host().at("reports").as_integer();
    auto r = Dw(bin, "check --report" + Scan());
    ASSERT_TRUE(WaitFor([&] { return Host().at("reports").as_integer() > before; }, 20)) << r.out;
  }
  value Host() { return c_.Get("/api/v1/hosts/web-1", read_).json(); }
  std::vector<value> OpenAlerts() {
    Answer a = c_.Get("/api/v1/integrity?host=web-1&open=true", read_);
    EXPECT_EQ(a.status, 200) << a.body;
    const value body = a.json();
    std::vector<value> out;
    for (const value& x : body.at("alerts").as_array()) out.push_back(x);
    return out;
  }
  std::string Sql(const std::string& sql) {
    auto r = testutil::Run("sqlite3 " + Q(db_) + " " + Q(sql) + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << sql << ": " << r.out;
    return r.out;
  }
  std::vector<std::string> DriftPaths() {
    std::vector<std::string> out;
    for (const value& e : AllDrift(c_, read_, "host=web-1"))
      out.push_back(e.at("path").as_string());
    return out;
  }

  TempDir dir_;
  Collector c_{dir_};
  std::string read_;
  const std::string root_ = dir_ / "root";
  const std::string rules_ = dir_ / "rules.yaml";
  const std::string db_ = dir_ / "agent.db";
};

// (a) A planted file accepted into the baseline by rewriting the baseline
// revision in place: the check then finds nothing locally, but its chain
// record names a baseline root the chain never recorded.
TEST_F(IntruderTest, BaselineRewrittenWithSqliteIsCaughtByTheCollectorAndVerify) {
  Report();
  WriteFile(root_ + "/etc/app/backdoor", "nc -l 4444\n");
  Report();
  ASSERT_EQ(DriftPaths(), std::vector<std::string>{"/etc/app/backdoor"});
  ASSERT_TRUE(OpenAlerts().empty());
  Sql("UPDATE baselines SET snapshot_id = (SELECT max(id) FROM snapshots WHERE kind = 'check') "
      "WHERE name = 'default' AND revision = 1;");
  Report();
  EXPECT_EQ(Host().at("last_report_events").as_integer(), 0);  // hidden on the host
  auto alerts = OpenAlerts();
  ASSERT_EQ(alerts.size(), 1u) << testutil::Run("cat " + Q(c_.log())).out;
  EXPECT_EQ(alerts[0].at("kind").as_string(), "baseline-outside-chain");
  EXPECT_EQ(alerts[0].at("severity").as_string(), "critical");
  EXPECT_EQ(alerts[0].at("host").as_string(), "web-1");
  EXPECT_EQ(Host().at("integrity_alerts").as_integer(), 1);
  // What the collector had is all there.
  EXPECT_EQ(DriftPaths(), std::vector<std::string>{"/etc/app/backdoor"});
  auto v = Dw(AgentBin(), "store verify");
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("default"), std::string::npos) << v.out;
}

// (b) A check result deleted from the history: store verify names it; an
// intruder who also drops the chain's triggers and cuts the chain back to
// hide it forks the chain the collector holds.
TEST_F(IntruderTest, DeletedCheckIsFoundByVerifyAndACutChainForksAtTheCollector) {
  WriteFile(root_ + "/etc/app/app.conf", "port = 8080\n");
  Report();
  Report();
  const std::string first_check = Sql("SELECT min(id) FROM checks;");
  Sql("DELETE FROM events WHERE check_id = (SELECT min(id) FROM checks); "
      "DELETE FROM checks WHERE id = (SELECT min(id) FROM checks);");
  auto v = Dw(AgentBin(), "store verify");
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("check"), std::string::npos) << v.out;

  // The chain's triggers refuse the honest code's mistakes, not root.
  for (const char* t : {"chain_no_update", "chain_no_delete"}) {
    Sql(std::string("DROP TRIGGER IF EXISTS ") + t + ";");
  }
  Sql("DELETE FROM chain WHERE seq >= (SELECT min(seq) FROM chain WHERE kind = 'check');");
  const int64_t events_before = static_cast<int64_t>(DriftPaths().size());
  Report();
  auto alerts = OpenAlerts();
  ASSERT_FALSE(alerts.empty()) << testutil::Run("cat " + Q(c_.log())).out;
  const std::string kind = alerts[0].at("kind").as_string();
  EXPECT_TRUE(kind == "fork" || kind == "rewind") << alerts[0].serialize();
  EXPECT_EQ(alerts[0].at("host").as_string(), "web-1");
  EXPECT_NE(alerts[0].at("detail").as_string().find("head"), std::string::npos);
  EXPECT_GE(static_cast<int64_t>(DriftPaths().size()), events_before);
}

// (c) The whole store put back from a copy taken two reports earlier.
TEST_F(IntruderTest, StoreRestoredFromAnOlderCopyIsCaughtAtTheNextReport) {
  Report();
  auto r = testutil::Run("sqlite3 " + Q(db_) + " " + Q(".backup " + dir_ / "copy.db") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  WriteFile(root_ + "/etc/app/app.conf", "port = 8080\n");
  Report();
  Report();
  const auto before = DriftPaths();
  ASSERT_EQ(before.size(), 2u);
  testutil::Run("rm -f " + Q(db_ + "-wal") + " " + Q(db_ + "-shm") + " && cp " +
                Q(dir_ / "copy.db") + " " + Q(db_));
  Report();
  auto alerts = OpenAlerts();
  ASSERT_FALSE(alerts.empty()) << testutil::Run("cat " + Q(c_.log())).out;
  const std::string kind = alerts[0].at("kind").as_string();
  EXPECT_TRUE(kind == "fork" || kind == "rewind") << alerts[0].serialize();
  EXPECT_EQ(alerts[0].at("host").as_string(), "web-1");
  auto after = DriftPaths();
  ASSERT_GE(after.size(), before.size());
  EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin()));
}

// (d) The agent's executable swapped for another build: same version, other
// bytes, and no upgrade of driftwatch explains it.
TEST_F(IntruderTest, SwappedAgentBinaryIsCaughtAtTheNextReport) {
  Report();
  const std::string swapped = dir_ / "driftwatch";
  auto r = testutil::Run("cp " + Q(AgentBin()) + " " + Q(swapped) + " && printf '\\0rebuilt' >> " +
                         Q(swapped));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  Report(swapped);
  auto alerts = OpenAlerts();
  ASSERT_EQ(alerts.size(), 1u) << testutil::Run("cat " + Q(c_.log())).out;
  EXPECT_EQ(alerts[0].at("kind").as_string(), "exe");
  EXPECT_EQ(alerts[0].at("severity").as_string(), "critical");
  EXPECT_EQ(alerts[0].at("host").as_string(), "web-1");
  const std::string own = testutil::Run("sha256sum " + Q(AgentBin()) + " | cut -c1-64").out;
  const std::string other = testutil::Run("sha256sum " + Q(swapped) + " | cut -c1-64").out;
  const std::string detail = alerts[0].at("detail").as_string();
  EXPECT_NE(detail.find(own.substr(0, 16)), std::string::npos) << detail;
  EXPECT_NE(detail.find(other.substr(0, 16)), std::string::npos) << detail;
  // Back to the real binary: a second change, a second alert; trust reset
  // then resolves both, audited, and the next report is adopted.
  Report();
  const std::string admin = c_.Token("admin");
  Answer reset = Http("POST", c_.url() + "/api/v1/hosts/web-1/trust-reset", admin,
                      R"({"reason": "binary swap reviewed"})");
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_TRUE(OpenAlerts().empty());
  Report();
  EXPECT_TRUE(OpenAlerts().empty());
}

}  // namespace
}  // namespace driftwatch::collector_it
