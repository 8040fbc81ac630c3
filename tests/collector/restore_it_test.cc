// Remote restore with real agent daemons and a real collector: POST
// /fleet/restore queues a `restore` for every host of a group; the daemons
// that allow it (allow_remote_restore: true) put the changed kept file back
// from the baseline, acknowledge with a summary, check again, and report
// clean; a daemon without it refuses, acknowledged ok=false, and changes
// nothing.
#include <memory>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

constexpr const char* kKeepRules =
    "version: 1\n"
    "rules:\n"
    "  - path: /etc/**\n"
    "    check: content\n"
    "    severity: high\n"
    "    content: keep\n";

constexpr const char* kOriginal = "port = 80\nuser = www\nworkers = 4\n";
constexpr const char* kChanged = "port = 8080\nuser = root\nworkers = 4\n";

struct Agent {
  std::string name;
  std::string db;
  std::string root;
  std::string log;
  Process daemon;
};

// A baselined, enrolled agent of group "web" whose kept file then changed,
// its daemon started.
void StartAgent(const TempDir& dir, Collector& c, const std::string& name, bool allow, Agent* a) {
  a->name = name;
  const std::string base = dir / name;
  a->root = base + "/root";
  a->log = base + "/daemon.log";
  const std::string rules = base + "/rules.yaml";
  const std::string db = base + "/agent.db";
  a->db = db;
  testutil::Run("mkdir -p " + Q(a->root + "/etc/app") + " && chmod 700 " + Q(base));
  WriteFile(rules, kKeepRules);
  WriteFile(a->root + "/etc/app/app.conf", kOriginal);
  auto dw = [&](const std::string& args) {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  };
  auto r = dw("baseline create --root " + Q(a->root) + " --rules " + Q(rules) + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = dw("enroll --collector " + Q(c.url()) + " --token " + Q(c.Token("enroll")) + " --name " +
         name + " --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  WriteFile(a->root + "/etc/app/app.conf", kChanged);
  const std::string config = base + "/agent.yaml";
  WriteFile(config, "version: 1\ndb: " + db + "\nrules: " + rules + "\nroot: " + a->root +
                        "\ninterval: 1h\njitter: 0s\npoll_interval: 200ms\nrealtime: false\n" +
                        (allow ? "allow_remote_restore: true\n" : ""));
  a->daemon.Start({AgentBin(), "daemon", "--config", config}, a->log, false);
}

TEST(RestoreTest, AGroupRestoreReachesTheAgentsThatAllowIt) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string admin = c.Token("admin");
  std::vector<std::unique_ptr<Agent>> agents;
  for (const auto& [name, allow] : {std::pair{"web-1", true}, {"web-2", true}, {"web-3", false}}) {
    agents.push_back(std::make_unique<Agent>());
    StartAgent(dir, c, name, allow, agents.back().get());
    if (HasFatalFailure()) return;
  }
  auto host = [&](const std::string& id) { return c.Get("/api/v1/hosts/" + id, read).json(); };
  for (const auto& a : agents) {
    ASSERT_TRUE(WaitFor(
        [&] {
          value h = host(a->name);
          return h.at("reports").as_integer() >= 1 && h.at("last_report_events").as_integer() == 1;
        },
        30))
        << host(a->name).serialize() << testutil::Run("cat " + Q(a->log)).out;
  }

  const std::string body =
      R"({"group":"web","paths":["/etc/app/app.conf"],"reason":"undo the hand edit"})";
  EXPECT_EQ(Http("POST", c.url() + "/api/v1/fleet/restore", read, body).status, 403);
  EXPECT_EQ(Http("POST", c.url() + "/api/v1/fleet/restore", admin,
                 R"({"group":"web","paths":["/etc/app/app.conf"]})")
                .status,
            400);
  Answer queued = Http("POST", c.url() + "/api/v1/fleet/restore", admin, body);
  ASSERT_EQ(queued.status, 200) << queued.body;
  EXPECT_EQ(queued.json().at("queued").as_integer(), 3);

  auto acked = [&](const std::string& id) {
    value h = host(id);
    return h.at("commands").size() == 1 && !h.at("commands")[0].at("acknowledged").is_null();
  };
  for (const auto& a : agents) {
    ASSERT_TRUE(WaitFor([&] { return acked(a->name); }, 30))
        << host(a->name).serialize() << testutil::Run("cat " + Q(a->log)).out;
  }
  for (const auto& a : agents) {
    const bool allowed = a->name != "web-3";
    value cmd = host(a->name).at("commands")[0];
    EXPECT_EQ(cmd.at("command").as_string(), "restore");
    EXPECT_EQ(cmd.at("reason").as_string(), "undo the hand edit");
    EXPECT_EQ(cmd.at("ok").as_bool(), allowed) << cmd.serialize();
    if (allowed) {
      EXPECT_NE(cmd.at("detail").as_string().find("restored from baseline default revision 1"),
                std::string::npos)
          << cmd.serialize();
      // The check after the restore reports the host clean.
      EXPECT_TRUE(WaitFor(
          [&] {
            value h = host(a->name);
            return h.at("reports").as_integer() >= 2 &&
                   h.at("last_report_events").as_integer() == 0;
          },
          30))
          << host(a->name).serialize() << testutil::Run("cat " + Q(a->log)).out;
      EXPECT_EQ(testutil::Run("cat " + Q(a->root + "/etc/app/app.conf")).out, kOriginal);
    } else {
      EXPECT_EQ(cmd.at("detail").as_string(), "allow_remote_restore is off in agent.yaml");
      EXPECT_EQ(testutil::Run("cat " + Q(a->root + "/etc/app/app.conf")).out, kChanged);
      EXPECT_EQ(host(a->name).at("last_report_events").as_integer(), 1);
    }
  }
  for (auto& a : agents) EXPECT_EQ(a->daemon.Kill(SIGTERM), 0);
  for (const auto& a : agents) {
    const std::string log = testutil::Run("cat " + Q(a->log)).out;
    EXPECT_NE(log.find("restore (1 path(s); reason: undo the hand edit)"), std::string::npos)
        << log;
    // The agent's history records the restore where it ran, by whom and why.
    const std::string history =
        testutil::Run(Q(AgentBin()) + " history --db " + Q(a->db) + " 2>&1").out;
    const std::string entry =
        "restore by collector from baseline default revision 1: undo the hand edit (command ";
    EXPECT_EQ(history.find(entry) != std::string::npos, a->name != "web-3") << history;
  }
  // The collector's audit log names the restore (text or JSON lines).
  const std::string clog = testutil::Run("grep -E 'event(=|\":\")restore' " + Q(c.log())).out;
  EXPECT_NE(clog.find("/api/v1/fleet/restore"), std::string::npos)
      << testutil::Run("cat " + Q(c.log())).out;
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
