// Real agents and a real collector: `driftwatch enroll`, `baseline create`,
// `check --report` and `daemon` against `driftwatch-collector`.
#include <sys/stat.h>

#include <map>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

// One agent: a tree to watch, rules, its own database.
struct Agent {
  Agent(const TempDir& dir, const std::string& name)
      : root(dir / (name + "-root")),
        rules(dir / (name + "-rules.yaml")),
        db(dir / (name + ".db")),
        name(name) {
    testutil::Run("mkdir -p " + Q(root + "/etc/app"));
    WriteFile(rules, kAgentRules);
    WriteFile(root + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    WriteFile(root + "/etc/app/app.conf", "port = 80\n");
    chmod((root + "/etc/passwd").c_str(), 0644);
  }
  testutil::RunResult Dw(const std::string& args) const {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  }
  testutil::RunResult Scan(const std::string& cmd) const {
    return Dw(cmd + " --root " + Q(root) + " --rules " + Q(rules) + " --quiet");
  }
  std::string root, rules, db, name;
};

TEST(FleetTest, CheckReportReachesDriftAndPathHistory) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  Agent a(dir, "web-1");
  auto r = a.Scan("baseline create");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = a.Dw("enroll --collector " + Q(c.url()) + " --token " + Q(c.Token("enroll")) +
           " --name web-1 --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;

  chmod((a.root + "/etc/passwd").c_str(), 0600);
  WriteFile(a.root + "/etc/app/new.conf", "x\n");
  std::remove((a.root + "/etc/app/app.conf").c_str());
  r = a.Scan("check --report");
  ASSERT_EQ(r.exit_code, 1) << r.out;

  std::vector<value> events = AllDrift(c, read, "host=web-1");
  std::vector<std::string> got;
  for (const value& e : events) {
    std::string attrs;
    for (const value& x : e.at("attributes").as_array()) attrs += "," + x.as_string();
    got.push_back(e.at("kind").as_string() + " " + e.at("path").as_string() + attrs + " " +
                  e.at("severity").as_string());
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"added /etc/app/new.conf high",
                                           "modified /etc/passwd,perm high",
                                           "removed /etc/app/app.conf high"}));
  value hist = c.Get("/api/v1/paths/history?path=/etc/passwd", read).json();
  ASSERT_EQ(hist.at("events").size(), 1u);
  EXPECT_EQ(hist.at("events")[0].at("old").at("perm").as_string(), "0644");
  EXPECT_EQ(hist.at("events")[0].at("new").at("perm").as_string(), "0600");
  EXPECT_EQ(hist.at("events")[0].at("host").as_string(), "web-1");

  // Filters on real data.
  EXPECT_EQ(AllDrift(c, read, "host=web-1&kind=added").size(), 1u);
  EXPECT_EQ(AllDrift(c, read, "path=/etc/app/*").size(), 2u);
  EXPECT_EQ(AllDrift(c, read, "host=web-2").size(), 0u);
  value host = c.Get("/api/v1/hosts/web-1", read).json();
  EXPECT_EQ(host.at("last_report_events").as_integer(), 3);
  EXPECT_EQ(host.at("baseline").at("revision").as_integer(), 1);
  EXPECT_TRUE(host.at("drifted").as_bool());
  EXPECT_EQ(c.Stop(), 0);
}

TEST(FleetTest, FleetBaselineReachesEveryAgentOfTheGroup) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string enroll = c.Token("enroll");
  std::vector<std::unique_ptr<Agent>> agents;
  std::vector<std::unique_ptr<Process>> daemons;
  const std::vector<std::pair<std::string, std::string>> names = {
      {"web-1", "web"}, {"web-2", "web"}, {"web-3", "web"}, {"db-1", "db"}};
  for (const auto& [name, group] : names) {
    auto a = std::make_unique<Agent>(dir, name);
    auto r = a->Scan("baseline create");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = a->Dw("enroll --collector " + Q(c.url()) + " --token " + Q(enroll) + " --name " + name +
              " --group " + group);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const std::string config = dir / (name + "-agent.yaml");
    WriteFile(config, "version: 1\ndb: " + a->db + "\nrules: " + a->rules + "\nroot: " + a->root +
                          "\ninterval: 1h\njitter: 0s\npoll_interval: 200ms\n");
    auto d = std::make_unique<Process>();
    d->Start({AgentBin(), "daemon", "--config", config}, dir / (name + "-daemon.log"), false);
    daemons.push_back(std::move(d));
    agents.push_back(std::move(a));
  }
  // Each daemon checks once at start and reports revision 1.
  auto revisions = [&] {
    std::map<std::string, int64_t> out;
    value hosts = c.Get("/api/v1/hosts", read).json();
    for (const value& h : hosts.at("hosts").as_array()) {
      out[h.at("id").as_string()] =
          h.at("reports").as_integer() > 0 ? h.at("baseline").at("revision").as_integer() : 0;
    }
    return out;
  };
  using Revs = std::map<std::string, int64_t>;
  ASSERT_TRUE(WaitFor(
      [&] {
        return revisions() == Revs{{"db-1", 1}, {"web-1", 1}, {"web-2", 1}, {"web-3", 1}};
      },
      30))
      << c.Get("/api/v1/hosts", read).body;

  auto r = testutil::Run(Q(CollectorBin()) + " baseline " + c.StoreFlags() + " --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "queued baseline for 3 host(s) in group web\n");
  ASSERT_TRUE(WaitFor(
      [&] {
        return revisions() == Revs{{"db-1", 1}, {"web-1", 2}, {"web-2", 2}, {"web-3", 2}};
      },
      30))
      << c.Get("/api/v1/hosts", read).body;
  for (const char* name : {"web-1", "web-2", "web-3"}) {
    value h = c.Get(std::string("/api/v1/hosts/") + name, read).json();
    ASSERT_EQ(h.at("commands").size(), 1u) << h.serialize();
    value cmd = h.at("commands")[0];
    EXPECT_EQ(cmd.at("command").as_string(), "baseline");
    EXPECT_TRUE(cmd.at("ok").as_bool()) << cmd.serialize();
    EXPECT_EQ(cmd.at("detail").as_string(), "baseline default revision 2");
  }
  EXPECT_EQ(c.Get("/api/v1/hosts/db-1", read).json().at("commands").size(), 0u);
  // SIGHUP: a broken file keeps the running configuration, a good one is
  // taken over.
  const std::string config0 = dir / "web-1-agent.yaml";
  const std::string log0 = dir / "web-1-daemon.log";
  WriteFile(config0, "version: 1\ninterval: never\n");
  kill(daemons[0]->pid(), SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] {
        return testutil::Run("cat " + Q(log0))
                   .out.find("reload failed, keeping the old configuration: " + config0 +
                             ":2:11: interval: expected a duration such as 30s, 15m, 2h or 90d") !=
               std::string::npos;
      },
      10))
      << testutil::Run("cat " + Q(log0)).out;
  WriteFile(config0, "version: 1\ndb: " + agents[0]->db + "\nrules: " + agents[0]->rules +
                         "\nroot: " + agents[0]->root +
                         "\ninterval: 1h\njitter: 0s\npoll_interval: 200ms\n");
  kill(daemons[0]->pid(), SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] {
        return testutil::Run("cat " + Q(log0)).out.find("configuration reloaded from " + config0) !=
               std::string::npos;
      },
      10));
  // Still polling after the reload: a check-now is picked up and acknowledged.
  const std::string admin = c.Token("admin");
  ASSERT_EQ(
      Http("POST", c.url() + "/api/v1/hosts/web-1/commands", admin, R"({"command":"check-now"})")
          .status,
      201);
  ASSERT_TRUE(WaitFor(
      [&] {
        value h = c.Get("/api/v1/hosts/web-1", read).json();
        return h.at("commands").size() == 2 && !h.at("commands")[1].at("acknowledged").is_null();
      },
      10));
  EXPECT_EQ(c.Get("/api/v1/hosts/web-1", read).json().at("commands")[1].at("detail").as_string(),
            "checked");
  // SIGTERM: each daemon finishes what it is doing and exits 0.
  for (auto& d : daemons) EXPECT_EQ(d->Kill(SIGTERM), 0);
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
