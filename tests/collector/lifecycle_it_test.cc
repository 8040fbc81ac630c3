// The fleet lifecycle with a real collector and real agents: a reinstalled
// host is refused until an admin issues it a re-enroll token, then enrolls
// again and keeps its history; the collector's token and host commands.
#include <sys/stat.h>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

// One installation of the agent: a tree to watch, rules, its own database.
struct Install {
  Install(const TempDir& dir, const std::string& name)
      : root(dir / (name + "-root")),
        rules(dir / (name + "-rules.yaml")),
        db(dir / (name + ".db")) {
    testutil::Run("mkdir -p " + Q(root + "/etc"));
    WriteFile(rules, kAgentRules);
    WriteFile(root + "/etc/app.conf", "port = 80\n");
  }
  testutil::RunResult Dw(const std::string& args) const {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  }
  testutil::RunResult Scan(const std::string& cmd) const {
    return Dw(cmd + " --root " + Q(root) + " --rules " + Q(rules) + " --quiet");
  }
  std::string root, rules, db;
};

testutil::RunResult Collect(const Collector& c, const std::string& args) {
  return testutil::Run(Q(CollectorBin()) + " " + args + " " + c.StoreFlags() + " 2>&1");
}

TEST(LifecycleTest, AReinstalledHostReEnrollsWithItsReEnrollTokenAndKeepsItsHistory) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string enroll = c.Token("enroll");

  Install first(dir, "first");
  ASSERT_EQ(first.Scan("baseline create").exit_code, 0);
  auto r = first.Dw("enroll --collector " + Q(c.url()) + " --token " + Q(enroll) +
                    " --name web-1 --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  WriteFile(first.root + "/etc/first.conf", "x\n");
  r = first.Scan("check --report");
  ASSERT_EQ(r.exit_code, 1) << r.out;
  ASSERT_EQ(AllDrift(c, read, "host=web-1").size(), 1u);

  // The host is reinstalled: a new agent store, the same name.
  Install second(dir, "second");
  ASSERT_EQ(second.Scan("baseline create").exit_code, 0);
  r = second.Dw("enroll --collector " + Q(c.url()) + " --token " + Q(enroll) +
                " --name web-1 --group web");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("host web-1 is already enrolled; to re-enroll a reinstalled host, an admin "
                       "issues a re-enroll token: driftwatch-collector token create --role "
                       "reenroll --host web-1"),
            std::string::npos)
      << r.out;

  r = Collect(c, "token create --role reenroll --host web-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string reenroll = r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(reenroll.rfind("dw_", 0), 0u) << r.out;
  r = Collect(c, "token list --format json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find(reenroll), std::string::npos);  // never the secret
  value tokens = value::parse(r.out).at("tokens");
  value issued = tokens[tokens.size() - 1];
  EXPECT_EQ(issued.at("role").as_string(), "reenroll");
  EXPECT_EQ(issued.at("host").as_string(), "web-1");
  EXPECT_EQ(issued.at("uses_left").as_integer(), 1);

  r = second.Dw("enroll --collector " + Q(c.url()) + " --token " + Q(reenroll) +
                " --name web-1 --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  WriteFile(second.root + "/etc/second.conf", "y\n");
  r = second.Scan("check --report");
  ASSERT_EQ(r.exit_code, 1) << r.out;

  // One host, both installations' drift.
  std::vector<std::string> paths;
  for (const value& e : AllDrift(c, read, "host=web-1")) paths.push_back(e.at("path").as_string());
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"/etc/first.conf", "/etc/second.conf"}));
  value host = c.Get("/api/v1/hosts/web-1", read).json();
  EXPECT_EQ(host.at("reports").as_integer(), 2);
  value hosts = c.Get("/api/v1/hosts", read).json();
  EXPECT_EQ(hosts.at("hosts").size(), 1u);

  // The first installation's agent token is revoked; the re-enroll token is used up.
  tokens = value::parse(Collect(c, "token list --format json").out).at("tokens");
  int agents = 0, revoked_agents = 0;
  for (const value& t : tokens.as_array()) {
    if (t.at("role").as_string() != "agent") continue;
    ++agents;
    if (!t.at("revoked").is_null()) ++revoked_agents;
    EXPECT_EQ(t.at("host").as_string(), "web-1");
  }
  EXPECT_EQ(agents, 2);
  EXPECT_EQ(revoked_agents, 1);
  r = second.Dw("enroll --collector " + Q(c.url()) + " --token " + Q(reenroll) +
                " --name web-1 --group web");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(c.Stop(), 0);
}

TEST(LifecycleTest, TokenAndHostCommandsListRevokeRenameAndRemove) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string enroll = c.Token("enroll");
  ASSERT_NE(c.EnrollApi(enroll, "web-1", "web"), "");

  auto r = Collect(c, "token list");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find(read), std::string::npos);
  EXPECT_EQ(r.out.rfind("ID              ROLE    HOST   CREATED", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("  agent   web-1  "), std::string::npos) << r.out;

  value tokens = value::parse(Collect(c, "token list --format json").out).at("tokens");
  const std::string read_id = tokens[0].at("id").as_string();
  EXPECT_EQ(c.Get("/api/v1/hosts", read).status, 200);
  r = Collect(c, "token revoke " + read_id);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("revoked token " + read_id + " at ", 0), 0u) << r.out;
  Answer a = c.Get("/api/v1/hosts", read);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.json().at("error").as_string(), "token_revoked");
  r = Collect(c, "token revoke t_000000000000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "driftwatch-collector: unknown token id 't_000000000000' (ids are listed by "
            "`driftwatch-collector token list`)\n");
  r = Collect(c, "token revoke");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("driftwatch-collector token revoke: ID is required"), std::string::npos)
      << r.out;

  // A token written to a file: 0600 in a new 0700 directory, never over a file.
  const std::string file = dir / "tokens/web.token";
  r = Collect(c, "token create --role read --out " + Q(file));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "driftwatch-collector: token written to " + file + " (mode 0600)\n");
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(stat((dir / "tokens").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  std::string secret = testutil::Run("cat " + Q(file)).out;
  ASSERT_EQ(secret.size(), 68u);
  secret.pop_back();
  EXPECT_EQ(c.Get("/api/v1/hosts", secret).status, 200);
  r = Collect(c, "token create --role read --out " + Q(file));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.rfind("driftwatch-collector: " + file + ": exists already;", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("revoke it with driftwatch-collector token revoke t_"), std::string::npos);
  EXPECT_EQ(testutil::Run("cat " + Q(file)).out, secret + "\n");

  r = Collect(c, "host rename web-1 web-9");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = Collect(c, "host list");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("ID     GROUP  AGENT  ENROLLED", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nweb-9  web    "), std::string::npos) << r.out;
  EXPECT_EQ(Collect(c, "host rename web-1 web-2").exit_code, 2);
  EXPECT_EQ(Collect(c, "host rename web-9 'bad name'").exit_code, 2);

  r = Collect(c, "host remove web-9");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = Collect(c, "host list --format json");
  EXPECT_EQ(r.out, "{\"hosts\":[]}\n");
  r = Collect(c, "host remove web-9");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "driftwatch-collector: unknown host 'web-9'\n");
  tokens = value::parse(Collect(c, "token list --format json").out).at("tokens");
  for (const value& t : tokens.as_array()) {
    if (t.at("role").as_string() == "agent") {
      EXPECT_FALSE(t.at("revoked").is_null());
    }
  }
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
