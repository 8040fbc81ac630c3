// A group of five real agents over test roots and a real collector: the
// group's outliers, path-level compare, and an agent checking against a
// baseline made from the group's majority (docs/operations.md "Group
// baselines").
#include <set>

#include "tests/collector/peer_agent.h"

namespace driftwatch::collector_it {
namespace {

// One host of the group: its name, and a cron job.
struct Agent : PeerAgent {
  Agent(const TempDir& dir, const std::string& name) : PeerAgent(dir, name) {
    Write("/etc/hostname", name + "\n");
    Write("/etc/cron.d/backup", "0 3 * * * root /usr/local/bin/backup\n");
  }
};

// "PATH STATUS" of a compare's paths, leaving out directories whose own
// attributes agree (they are listed on the way down).
std::set<std::string> ComparePaths(const value& v) {
  std::set<std::string> out;
  for (const value& p : v.at("paths").as_array()) {
    if (p.at("status").as_string() == "differ" && p.at("changed").size() == 0) continue;
    out.insert(p.at("path").as_string() + " " + p.at("status").as_string());
  }
  return out;
}

TEST(PeerGroupTest, GroupOfFiveOutliersCompareAndMajorityBaseline) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  const std::string read = c.Token("read"), admin = c.Token("admin"), enroll = c.Token("enroll");
  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 1; i <= 5; ++i) {
    agents.push_back(std::make_unique<Agent>(dir, "web-" + std::to_string(i)));
  }
  // web-2 edited its sshd_config; web-3 has an extra cron job.
  agents[1]->Write("/etc/ssh/sshd_config", "PermitRootLogin yes\n");
  agents[2]->Write("/etc/cron.d/extra", "* * * * * root /tmp/x\n");
  for (auto& a : agents) {
    auto r = a->Scan("baseline create");
    ASSERT_EQ(r.exit_code, 0) << r.out << ReadAll(a->log);
    r = testutil::Run(Q(AgentBin()) + " enroll --collector " + Q(c.url()) + " --token " +
                      Q(enroll) + " --name " + a->name + " --group web --db " + Q(a->db) + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = a->Scan("check --report");
    ASSERT_EQ(r.exit_code, 0) << r.out << ReadAll(a->log);
  }

  Answer o = c.Get("/api/v1/fleet/outliers?group=web", read);
  ASSERT_EQ(o.status, 200) << o.body;
  value out = o.json();
  EXPECT_EQ(out.at("hosts").as_integer(), 5);
  EXPECT_EQ(out.at("differing_hosts").as_integer(), 2);
  EXPECT_GE(out.at("ignored").as_integer(), 1);  // /etc/hostname, on every host
  std::set<std::string> got;
  for (const value& p : out.at("paths").as_array()) {
    std::string line =
        p.at("path").as_string() + " holders=" + std::to_string(p.at("holders").as_integer()) +
        " majority=" + (p.at("majority").is_null() ? "none" : "entry") + " outliers=";
    for (const value& h : p.at("outliers").as_array()) line += h.at("host").as_string() + ",";
    got.insert(line);
  }
  EXPECT_EQ(
      got, (std::set<std::string>{"/etc/cron.d/extra holders=4 majority=none outliers=web-3,",
                                  "/etc/ssh/sshd_config holders=4 majority=entry outliers=web-2,"}))
      << out.serialize();
  EXPECT_EQ(out.serialize().find("/etc/hostname"), std::string::npos) << out.serialize();

  // Path-level compare names exactly what differs between two hosts.
  Answer cmp = c.Get("/api/v1/fleet/compare?a=web-1&b=web-2", read);
  ASSERT_EQ(cmp.status, 200) << cmp.body;
  EXPECT_EQ(ComparePaths(cmp.json()),
            (std::set<std::string>{"/etc/hostname differ", "/etc/ssh/sshd_config differ"}))
      << cmp.body;

  // A baseline from the group's majority; each agent checks against it.
  value req = value::object();
  req["from_majority"] = value::boolean(true);
  req["why"] = value("the web fleet's norm");
  Answer made = Http("POST", c.url() + "/api/v1/groups/web/baselines", admin, req.serialize());
  ASSERT_EQ(made.status, 201) << made.body;

  auto check = [&](const Agent& a, int want_exit) {
    auto r = a.Scan("check --group-baseline --format json");
    EXPECT_EQ(r.exit_code, want_exit) << a.name << ": " << r.out << ReadAll(a.log);
    value v = value::parse(r.out);
    EXPECT_EQ(v.at("baseline").as_string(), "group:web");
    std::set<std::string> events;
    for (const value& e : v.at("events").as_array()) {
      events.insert(e.at("kind").as_string() + " " + e.at("path").as_string());
    }
    return events;
  };
  EXPECT_EQ(check(*agents[0], 0), std::set<std::string>{});
  EXPECT_EQ(check(*agents[1], 1), std::set<std::string>{"modified /etc/ssh/sshd_config"});
  EXPECT_EQ(check(*agents[2], 1), std::set<std::string>{"added /etc/cron.d/extra"});
  // Checked again: the baseline is already in the store, nothing is fetched.
  EXPECT_EQ(check(*agents[1], 1), std::set<std::string>{"modified /etc/ssh/sshd_config"});
}

}  // namespace
}  // namespace driftwatch::collector_it
