// Signed baselines with real agent and collector processes
// (docs/integrity.md, "Signed baselines"): the collector makes its key at
// the first start, the agent pins it at enrollment, a baseline command
// yields a revision signed by the collector, a check that requires signed
// baselines passes with it and refuses it once the stored signature is
// edited with the sqlite3 tool; a command whose signature is wrong is
// refused by the agent and acknowledged as such.
#include <sys/stat.h>

#include <map>

#include "core/sign.h"
#include "core/signed_statement.h"
#include "tests/collector/harness.h"
#include "tests/collector/scripted_collector.h"

namespace driftwatch::collector_it {
namespace {

// One line of `text` that starts with `prefix` ("" when none).
std::string LineStarting(const std::string& text, const std::string& prefix) {
  size_t at = text.rfind("\n" + prefix);
  if (text.rfind(prefix, 0) == 0)
    at = 0;
  else if (at != std::string::npos)
    ++at;
  if (at == std::string::npos) return "";
  return text.substr(at, text.find('\n', at) - at);
}

// The chain rows of the agent store holding baseline signatures, edited
// with the sqlite3 tool as an intruder would: the triggers that refuse
// UPDATE are dropped first, then one character of the stored signature is
// changed.
void EditStoredSignature(const std::string& db) {
  auto triggers = testutil::Run("sqlite3 " + Q(db) +
                                " \"SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                "tbl_name = 'chain'\"");
  ASSERT_EQ(triggers.exit_code, 0) << triggers.out;
  std::string drop;
  size_t start = 0;
  while (start < triggers.out.size()) {
    size_t nl = triggers.out.find('\n', start);
    if (nl == std::string::npos) nl = triggers.out.size();
    const std::string name = triggers.out.substr(start, nl - start);
    if (!name.empty()) drop += "DROP TRIGGER \"" + name + "\"; ";
    start = nl + 1;
  }
  auto body = testutil::Run("sqlite3 " + Q(db) +
                            " \"SELECT body FROM chain WHERE kind = 'baseline-signature' ORDER BY "
                            "seq DESC LIMIT 1\"");
  ASSERT_EQ(body.exit_code, 0) << body.out;
  std::string b = body.out.substr(0, body.out.find('\n'));
  const size_t sig = b.find("\"signature\":\"");
  ASSERT_NE(sig, std::string::npos) << b;
  char& ch = b[sig + 13 + 5];
  ch = ch == 'A' ? 'B' : 'A';
  ASSERT_EQ(b.find('\''), std::string::npos);
  auto edit = testutil::Run(
      "sqlite3 " + Q(db) + " " +
      Q(drop + "UPDATE chain SET body = '" + b + "' WHERE kind = 'baseline-signature'") + " 2>&1");
  ASSERT_EQ(edit.exit_code, 0) << edit.out;
}

TEST(SigningTest, CollectorSignedBaselinePassesTheGateUntilItsSignatureIsEdited) {
  TempDir dir;
  Collector c(dir);
  const std::string state = dir / "state";
  ASSERT_EQ(mkdir(state.c_str(), 0700), 0);
  ASSERT_TRUE(c.Start(0, {"--state-dir", state})) << ReadAll(c.log());
  // The key is made at the first start, private to the collector.
  struct stat st {};
  ASSERT_EQ(stat((state + "/signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto shown = testutil::Run(Q(CollectorBin()) + " key show --state-dir " + Q(state) + " " +
                             c.StoreFlags() + " 2>&1");
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  const std::string read = c.Token("read");
  Answer key = c.Get("/api/v1/signing-key", read);
  ASSERT_EQ(key.status, 200) << key.body;
  const std::string key_id = key.json().at("key_id").as_string();
  EXPECT_EQ(shown.out.rfind("key " + key_id + " (" + state + "/signing.key)\n", 0), 0u)
      << shown.out;
  auto pub = sign::PublicKey::FromPem(key.json().at("public_key").as_string());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->Id(), key_id);

  const std::string root = dir / "root", rules = dir / "rules.yaml", db = dir / "agent.db";
  testutil::Run("mkdir -p " + Q(root + "/etc/app"));
  WriteFile(rules, kAgentRules);
  WriteFile(root + "/etc/app/app.conf", "port = 80\n");
  const std::string config = dir / "agent.yaml";
  WriteFile(config, "version: 1\ndb: " + db + "\nrules: " + rules + "\nroot: " + root +
                        "\ninterval: 1h\njitter: 0s\npoll_interval: 200ms\n"
                        "require_signed_baselines: true\n");
  auto dw = [&](const std::string& args) {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  };
  const std::string scan = " --root " + Q(root) + " --rules " + Q(rules) + " --quiet";
  auto r = dw("baseline create" + scan);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = dw("enroll --collector " + Q(c.url()) + " --token " + Q(c.Token("enroll")) + " --name web-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("pinned the collector's signing key " + key_id + "\n"), std::string::npos)
      << r.out;

  // Revision 1 was made on the host alone: nobody signed it.
  r = dw("check --config " + Q(config) + scan);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("baseline 'default' revision 1 of "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("has no valid signature by a trusted key"), std::string::npos) << r.out;

  // A baseline command: the daemon makes revision 2, the collector signs it
  // in its answer to the ack, and the daemon keeps the signature.
  const std::string admin = c.Token("admin");
  Process daemon;
  daemon.Start({AgentBin(), "daemon", "--config", config}, dir / "daemon.log", false);
  ASSERT_EQ(
      Http("POST", c.url() + "/api/v1/hosts/web-1/commands", admin, R"({"command":"baseline"})")
          .status,
      201);
  auto signatures = [&] { return dw("baseline signatures --config " + Q(config)); };
  ASSERT_TRUE(WaitFor([&] { return signatures().out.find("  valid\n") != std::string::npos; }, 30))
      << signatures().out << ReadAll(dir / "daemon.log");
  EXPECT_EQ(daemon.Kill(SIGTERM), 0);
  r = signatures();
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string line = LineStarting(r.out, "default  rev 2  ");
  EXPECT_NE(line.find("key " + key_id), std::string::npos) << r.out;
  EXPECT_EQ(line.substr(line.size() - 7), "  valid") << r.out;

  // The statement the agent prints for revision 2 is what was signed.
  r = dw("baseline statement");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto statement = sign::ParseStatement(r.out);
  ASSERT_TRUE(statement.ok()) << r.out;
  EXPECT_EQ(statement->revision, 2);

  r = dw("check --config " + Q(config) + scan);
  EXPECT_EQ(r.exit_code, 0) << r.out;

  // An intruder edits the stored signature: the check refuses the baseline.
  EditStoredSignature(db);
  r = dw("check --config " + Q(config) + scan);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("the signature by key " + key_id + " does not verify"), std::string::npos)
      << r.out;
  // Without the requirement the same store still checks.
  r = dw("check" + scan);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(c.Stop(), 0);
}

// A collector scripted to hand out commands: one signed by another key, one
// signed for another host, one signed right. The agent runs only the last.
TEST(SigningTest, CommandsWithAWrongSignatureAreRefused) {
  TempDir dir;
  auto pinned = sign::PrivateKey::Generate();
  auto other = sign::PrivateKey::Generate();
  ASSERT_TRUE(pinned.ok() && other.ok());
  auto sign_cmd = [](const sign::PrivateKey& k, int64_t id, const std::string& host) {
    sign::CommandFields f;
    f.id = id;
    f.host = host;
    f.kind = "baseline";
    return sign::SignCommand(k, f).value();
  };
  value enroll = value::object();
  enroll["host_id"] = value("web-1");
  enroll["token"] = value("agent-token");
  enroll["group"] = value("");
  enroll["signing_key"] = value::object();
  enroll["signing_key"]["key_id"] = value(pinned->Public().Id());
  enroll["signing_key"]["public_key"] = value(pinned->Public().Pem());
  value cmds = value::object();
  cmds["commands"] = value::array(3);
  const int64_t ids[] = {5, 6, 7};
  const std::string sigs[] = {sign_cmd(*other, 5, "web-1"), sign_cmd(*pinned, 6, "web-2"),
                              sign_cmd(*pinned, 7, "web-1")};
  for (int i = 0; i < 3; ++i) {
    value c = value::object();
    c["id"] = value::number(ids[i]);
    c["command"] = value("baseline");
    c["signature"] = value(sigs[i]);
    cmds["commands"][i] = c;
  }
  std::atomic<bool> handed_out{false};
  ScriptedCollector collector([&](const ScriptedRequest& req) {
    if (req.head.rfind("POST /api/v1/enroll ", 0) == 0) return HttpAnswer(201, enroll.serialize());
    if (req.head.rfind("GET /api/v1/agents/commands ", 0) == 0) {
      if (handed_out.exchange(true)) return HttpAnswer(200, R"({"commands":[]})");
      return HttpAnswer(200, cmds.serialize());
    }
    return HttpAnswer(200, "{}");
  });
  ASSERT_TRUE(collector.ok());

  const std::string root = dir / "root", rules = dir / "rules.yaml", db = dir / "agent.db";
  testutil::Run("mkdir -p " + Q(root + "/etc"));
  WriteFile(rules, kAgentRules);
  WriteFile(root + "/etc/a.conf", "a\n");
  auto dw = [&](const std::string& args) {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  };
  auto r = dw("baseline create --root " + Q(root) + " --rules " + Q(rules) + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = dw("enroll --collector " + Q(collector.url()) + " --token enroll --name web-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("pinned the collector's signing key " + pinned->Public().Id()),
            std::string::npos)
      << r.out;

  const std::string config = dir / "agent.yaml";
  WriteFile(config, "version: 1\ndb: " + db + "\nrules: " + rules + "\nroot: " + root +
                        "\ninterval: 1h\njitter: 0s\npoll_interval: 200ms\n");
  Process daemon;
  daemon.Start({AgentBin(), "daemon", "--config", config}, dir / "daemon.log", false);
  auto acks = [&] {
    std::map<int64_t, value> out;
    for (const ScriptedRequest& q : collector.requests()) {
      for (const int64_t id : ids) {
        if (q.head.rfind("POST /api/v1/agents/commands/" + std::to_string(id) + "/ack ", 0) == 0) {
          out[id] = value::parse(q.body);
        }
      }
    }
    return out;
  };
  ASSERT_TRUE(WaitFor([&] { return acks().size() == 3; }, 30)) << ReadAll(dir / "daemon.log");
  EXPECT_EQ(daemon.Kill(SIGTERM), 0);
  auto a = acks();
  EXPECT_FALSE(a[5].at("ok").as_bool());
  EXPECT_EQ(a[5].at("detail").as_string(),
            "refused: the command is signed by key " + other->Public().Id() +
                ", not by the pinned collector key " + pinned->Public().Id());
  EXPECT_FALSE(a[6].at("ok").as_bool());
  EXPECT_EQ(a[6].at("detail").as_string(), "refused: the command's signature by key " +
                                               pinned->Public().Id() + " does not verify");
  EXPECT_TRUE(a[7].at("ok").as_bool()) << a[7].serialize();
  EXPECT_EQ(a[7].at("detail").as_string(), "baseline default revision 2");
  // The revision the right command made carries what the collector signs.
  const value& b = a[7].at("baseline");
  EXPECT_EQ(b.at("target").as_string().empty(), false);
  EXPECT_EQ(b.at("rules").as_string().size(), 32u);
  // Only the signed command made a revision.
  r = dw("baseline show default");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("rev 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rev 2"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace driftwatch::collector_it
