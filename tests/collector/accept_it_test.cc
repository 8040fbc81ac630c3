// Accepting drift through the API with a real agent daemon and collector:
// POST /hosts/{id}/accept queues an `accept` command, the daemon runs
// `baseline accept --path` for exactly those paths, acknowledges, checks
// again, and the accepted path no longer drifts. The report inventory
// (interval, packages, baseline revisions) reaches the host endpoints, and
// a collector that lost a package list gets it again.
#include <sys/stat.h>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

TEST(AcceptTest, AdminAcceptsAPathAndItNoLongerDrifts) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string admin = c.Token("admin");
  const std::string root = dir / "root";
  const std::string rules = dir / "rules.yaml";
  const std::string db = dir / "agent.db";
  testutil::Run("mkdir -p " + Q(root + "/etc/app"));
  WriteFile(rules, kAgentRules);
  WriteFile(root + "/etc/app/app.conf", "port = 80\n");
  auto dw = [&](const std::string& args) {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  };
  const std::string scan = " --root " + Q(root) + " --rules " + Q(rules) + " --quiet";
  auto r = dw("baseline create" + scan);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = dw("enroll --collector " + Q(c.url()) + " --token " + Q(c.Token("enroll")) +
         " --name web-1 --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  WriteFile(root + "/etc/app/app.conf", "port = 8080\n");
  WriteFile(root + "/etc/app/new.conf", "x\n");

  const std::string config = dir / "agent.yaml";
  WriteFile(config, "version: 1\ndb: " + db + "\nrules: " + rules + "\nroot: " + root +
                        "\ninterval: 1h\njitter: 0s\npoll_interval: 200ms\n");
  Process daemon;
  daemon.Start({AgentBin(), "daemon", "--config", config}, dir / "daemon.log", false);
  auto host = [&] { return c.Get("/api/v1/hosts/web-1", read).json(); };
  ASSERT_TRUE(WaitFor([&] { return host().at("reports").as_integer() == 1; }, 30))
      << host().serialize() << testutil::Run("cat " + Q(dir / "daemon.log")).out;
  value h = host();
  EXPECT_EQ(h.at("last_report_events").as_integer(), 2);
  EXPECT_EQ(h.at("interval_seconds").as_integer(), 3600);
  EXPECT_FALSE(h.at("silent").as_bool());
  // The test root has no package database: an empty, known inventory.
  value pk = c.Get("/api/v1/hosts/web-1/packages", read).json();
  EXPECT_EQ(pk.at("count").as_integer(), 0);
  EXPECT_EQ(pk.at("digest").as_string(), HashBytes("").Hex());
  value base = c.Get("/api/v1/hosts/web-1/baselines", read).json();
  ASSERT_EQ(base.at("baselines").size(), 1u) << base.serialize();
  EXPECT_EQ(base.at("baselines")[0].at("revision").as_integer(), 1);

  int64_t app_event = 0, first_report_max = 0;
  for (const value& e : AllDrift(c, read, "host=web-1")) {
    if (e.at("path").as_string() == "/etc/app/app.conf") app_event = e.at("id").as_integer();
    first_report_max = std::max<int64_t>(first_report_max, e.at("id").as_integer());
  }
  ASSERT_GT(app_event, 0);
  const std::string body = "{\"events\":[" + std::to_string(app_event) + "]}";
  EXPECT_EQ(Http("POST", c.url() + "/api/v1/hosts/web-1/accept", read, body).status, 403);
  Answer queued = Http("POST", c.url() + "/api/v1/hosts/web-1/accept", admin, body);
  ASSERT_EQ(queued.status, 201) << queued.body;
  EXPECT_EQ(queued.json().at("paths").serialize(), R"(["/etc/app/app.conf"])");

  // Acknowledged, then a new report against revision 2 with only new.conf.
  ASSERT_TRUE(WaitFor(
      [&] {
        value x = host();
        return x.at("reports").as_integer() >= 2 &&
               x.at("baseline").at("revision").as_integer() == 2;
      },
      30))
      << host().serialize() << testutil::Run("cat " + Q(dir / "daemon.log")).out;
  h = host();
  ASSERT_EQ(h.at("commands").size(), 1u);
  value cmd = h.at("commands")[0];
  EXPECT_EQ(cmd.at("command").as_string(), "accept");
  EXPECT_TRUE(cmd.at("ok").as_bool()) << cmd.serialize();
  EXPECT_EQ(cmd.at("detail").as_string(), "accepted 1 path(s) into baseline default revision 2");
  EXPECT_EQ(h.at("last_report_events").as_integer(), 1);
  std::vector<std::string> latest;
  for (const value& e : AllDrift(c, read, "host=web-1")) {
    if (e.at("id").as_integer() > first_report_max) latest.push_back(e.at("path").as_string());
  }
  EXPECT_EQ(latest, std::vector<std::string>{"/etc/app/new.conf"});
  base = c.Get("/api/v1/hosts/web-1/baselines", read).json();
  ASSERT_EQ(base.at("baselines").size(), 2u) << base.serialize();
  EXPECT_EQ(base.at("baselines")[0].at("revision").as_integer(), 2);
  EXPECT_TRUE(base.at("baselines")[0].at("current").as_bool());
  EXPECT_FALSE(base.at("baselines")[0].at("root").is_null());

  // A collector that lost the package list (restored from an older copy)
  // asks for it: the next report names only the digest and is answered
  // packages_needed, the one after carries the list again.
  const std::string wipe =
      "DELETE FROM host_packages; UPDATE host_inventory SET packages_digest = '', "
      "packages_ns = 0";
  auto wiped = testutil::Run(UsePostgres() ? "psql -X -q -v ON_ERROR_STOP=1 " + Q(c.store_url()) +
                                                 " -c " + Q(wipe) + " 2>&1"
                                           : "sqlite3 " + Q(c.db()) + " " + Q(wipe) + " 2>&1");
  ASSERT_EQ(wiped.exit_code, 0) << wiped.out;
  EXPECT_TRUE(c.Get("/api/v1/hosts/web-1/packages", read).json().at("digest").is_null());
  auto check_now = [&](size_t n_commands) {
    ASSERT_EQ(
        Http("POST", c.url() + "/api/v1/hosts/web-1/commands", admin, R"({"command":"check-now"})")
            .status,
        201);
    ASSERT_TRUE(WaitFor(
        [&] {
          value x = host();
          return x.at("commands").size() == n_commands &&
                 !x.at("commands")[n_commands - 1].at("acknowledged").is_null();
        },
        30))
        << host().serialize();
  };
  check_now(2);
  EXPECT_TRUE(c.Get("/api/v1/hosts/web-1/packages", read).json().at("digest").is_null());
  check_now(3);
  pk = c.Get("/api/v1/hosts/web-1/packages", read).json();
  ASSERT_FALSE(pk.at("digest").is_null()) << pk.serialize();
  EXPECT_EQ(pk.at("digest").as_string(), HashBytes("").Hex());
  EXPECT_EQ(daemon.Kill(SIGTERM), 0);

  // The agent's own view agrees: only new.conf drifts from revision 2.
  r = dw("check --format json" + scan);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  value check = value::parse(r.out);
  ASSERT_EQ(check.at("events").size(), 1u) << r.out;
  EXPECT_EQ(check.at("events")[0].at("path").as_string(), "/etc/app/new.conf");
  EXPECT_EQ(check.at("baseline_revision").as_integer(), 2);
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
