// Three driftwatch-collector processes on one PostgreSQL database, agents
// spread over them, one collector killed mid-run: every report is stored
// exactly once, and every collector serves the same answers.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "tests/collector/harness.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::collector_it {
namespace {

using pgtest::PgCluster;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class MultiCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip = PgCluster::SkipReason();
    if (!skip.empty()) GTEST_SKIP() << skip;
    if (CollectorBin().empty()) GTEST_SKIP() << "DW_COLLECTOR_BIN not set (run through meson test)";
    ASSERT_EQ(cluster_.Start(), "");
    url_ = cluster_.NewDatabase("fleet");
    ASSERT_NE(url_, "");
  }
  void TearDown() override {
    for (auto& p : procs_) p.Kill(SIGKILL);
    cluster_.Stop();
  }

  testutil::RunResult Cli(const std::string& args) {
    return testutil::Run(Q(CollectorBin()) + " " + args + " 2>&1");
  }

  PgCluster cluster_;
  TempDir tmp_;
  std::string url_;
  Process procs_[3];
};

TEST_F(MultiCollectorTest, EveryReportStoredOnceWhileACollectorDies) {
  // Serving an unmigrated database is refused with the way out.
  Process early;
  EXPECT_EQ(
      early.Start({CollectorBin(), "--listen", "127.0.0.1:0", "--store", url_}, tmp_ / "early.log"),
      "");
  EXPECT_EQ(early.Kill(SIGKILL), 2);
  EXPECT_EQ(testutil::Run("cat " + Q(tmp_ / "early.log")).out,
            "driftwatch-collector: collector store schema version 0 is older than this build's "
            "12; run `driftwatch-collector migrate --store URL`\n");

  auto m = Cli("migrate --store " + Q(url_));
  EXPECT_EQ(m.exit_code, 0);
  EXPECT_EQ(m.out, "postgresql store migrated from schema version 0 to 12\n");
  m = Cli("migrate --store " + Q(url_));
  EXPECT_EQ(m.exit_code, 0);
  EXPECT_EQ(m.out, "postgresql store already at schema version 12\n");

  const std::string enroll = Trim(Cli("token create --store " + Q(url_) + " --role enroll").out);
  const std::string read = Trim(Cli("token create --store " + Q(url_) + " --role read").out);
  ASSERT_EQ(enroll.rfind("dw_", 0), 0u) << enroll;

  std::vector<std::string> urls;
  for (int i = 0; i < 3; ++i) {
    std::string u = procs_[i].Start(
        {CollectorBin(), "--listen", "127.0.0.1:0", "--store", url_, "--store-pool", "3"},
        tmp_ / ("c" + std::to_string(i) + ".log"));
    ASSERT_NE(u, "") << testutil::Run("cat " + Q(tmp_ / ("c" + std::to_string(i) + ".log"))).out;
    urls.push_back(u);
  }

  // Agents enroll through different collectors; tokens live in the database
  // so every collector accepts them.
  constexpr int kAgents = 6, kReports = 25, kEvents = 2;
  std::vector<std::string> tokens;
  for (int a = 0; a < kAgents; ++a) {
    value b = value::object();
    b["host"] = value("host-" + std::to_string(a));
    b["group"] = value("g");
    Answer r = Http("POST", urls[a % 3] + "/api/v1/enroll", enroll, b.serialize());
    ASSERT_EQ(r.status, 201) << r.body;
    tokens.push_back(r.json().at("token").as_string());
  }

  // Each agent starts on its own collector and moves to the next one on a
  // connection failure or 5xx, re-sending the same report; every fifth
  // report is sent twice to two collectors (an acknowledgement lost).
  std::atomic<int> sent{0};
  std::mutex mu;
  std::map<std::string, int> first_event_id;
  int duplicates = 0, failovers = 0;
  std::vector<std::thread> agents;
  for (int a = 0; a < kAgents; ++a) {
    agents.emplace_back([&, a] {
      size_t current = a % 3;
      const std::string host = "host-" + std::to_string(a);
      for (int i = 0; i < kReports; ++i) {
        const std::string id = Uuid(a * 1000 + i);
        std::vector<DriftEvent> events;
        for (int e = 0; e < kEvents; ++e) {
          events.push_back(
              Added("/etc/" + host + "/" + std::to_string(i) + "/" + std::to_string(e)));
        }
        const std::string body = ReportJson(id, host, events, 1000000000LL * (i + 1));
        for (int copy = 0; copy < (i % 5 == 4 ? 2 : 1); ++copy) {
          for (int attempt = 0; attempt < 9; ++attempt) {
            Answer r = Http("POST", urls[current] + "/api/v1/reports", tokens[a], body);
            if (r.status == 200) {
              value v = r.json();
              std::lock_guard<std::mutex> lock(mu);
              if (v.at("duplicate").as_bool()) ++duplicates;
              int fid = v.at("first_event_id").as_integer();
              auto [it, fresh] = first_event_id.emplace(id, fid);
              if (!fresh) {
                EXPECT_EQ(it->second, fid) << id;
              }
              break;
            }
            {
              std::lock_guard<std::mutex> lock(mu);
              ++failovers;
            }
            current = (current + 1) % 3;
          }
          if (copy == 0 && i % 5 == 4) current = (current + 1) % 3;
        }
        ++sent;
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return sent.load() >= kAgents * kReports / 3; }, 60));
  procs_[1].Kill(SIGKILL);
  for (auto& t : agents) t.join();

  EXPECT_EQ(first_event_id.size(), static_cast<size_t>(kAgents * kReports));
  // Every deliberate re-send is a duplicate; so is a report whose answer was
  // lost when its collector died and that was re-sent to the next one.
  EXPECT_GE(duplicates, kAgents * (kReports / 5));
  EXPECT_LE(duplicates, kAgents * (kReports / 5) + failovers);
  EXPECT_GT(failovers, 0);  // some agents were on the killed collector

  // The survivors give the same, complete answer: each report's events once.
  for (int c : {0, 2}) {
    std::vector<value> events;
    std::map<std::string, int> per_report;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      Answer r = Http(
          "GET", urls[c] + "/api/v1/drift?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor),
          read);
      ASSERT_EQ(r.status, 200) << r.body;
      value v = r.json();
      for (const value& e : v.at("events").as_array()) {
        events.push_back(e);
        per_report[e.at("report_id").as_string()]++;
      }
      if (v.at("next_cursor").is_null()) break;
      cursor = v.at("next_cursor").as_string();
    }
    EXPECT_EQ(events.size(), static_cast<size_t>(kAgents * kReports * kEvents))
        << "collector " << c;
    EXPECT_EQ(per_report.size(), static_cast<size_t>(kAgents * kReports));
    for (const auto& [id, n] : per_report) EXPECT_EQ(n, kEvents) << id;

    Answer hosts = Http("GET", urls[c] + "/api/v1/hosts", read);
    ASSERT_EQ(hosts.status, 200);
    const value hosts_json = hosts.json();
    const auto& list = hosts_json.at("hosts").as_array();
    ASSERT_EQ(list.size(), static_cast<size_t>(kAgents));
    for (const value& h : list) {
      EXPECT_EQ(h.at("reports").as_integer(), kReports) << h.serialize();
      EXPECT_EQ(h.at("events").as_integer(), kReports * kEvents) << h.serialize();
    }
  }
  EXPECT_EQ(
      cluster_.Sql("fleet", "SELECT count(*), count(DISTINCT report_id) FROM reports"),
      (pgtest::Rows{{std::to_string(kAgents * kReports), std::to_string(kAgents * kReports)}}));
  EXPECT_EQ(procs_[0].Kill(SIGTERM), 0);
  EXPECT_EQ(procs_[2].Kill(SIGTERM), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
