// Kept content from a real agent to a real collector: `check --report`
// carries the diff of a kept file, which /api/v1/events/{id}/diff serves as
// `diff -u` prints it; a file under `content: redact` says only "redacted",
// and a marker planted in it is in none of the agent's files, the report,
// the collector's store or any API answer.
#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

constexpr const char* kRules =
    "version: 1\n"
    "rules:\n"
    "  - path: /etc/**\n"
    "    check: content\n"
    "    severity: high\n"
    "    content: keep\n"
    "  - path: /etc/app/*.key\n"
    "    content: redact\n";

constexpr const char* kMarker = "MARKER-5c1e9d2b-never-leaves";

// Every file under `dir` that holds kMarker, but for those under `skip`.
std::string FilesWithMarker(const std::string& dir, const std::string& skip = "") {
  return testutil::Run("grep -rla " + (skip.empty() ? "" : "--exclude-dir=" + Q(skip) + " ") +
                       Q(kMarker) + " " + Q(dir) + " 2>/dev/null")
      .out;
}

TEST(ContentTest, DiffsReachTheApiAndRedactedContentNeverLeavesTheHost) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string root = dir / "root";
  const std::string agent = dir / "agent";
  testutil::Run("mkdir -p " + Q(root + "/etc/app") + " " + Q(agent) + " && chmod 700 " + Q(agent));
  WriteFile(agent + "/rules.yaml", kRules);
  const std::string conf = root + "/etc/app/app.conf";
  const std::string key = root + "/etc/app/tls.key";
  WriteFile(conf, "port = 80\nuser = www\nworkers = 4\nlog = /var/log/app\n");
  WriteFile(key, std::string("-----BEGIN PRIVATE KEY-----\n") + kMarker + "-old\n");
  auto dw = [&](const std::string& args) {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(agent + "/agent.db") + " 2>&1");
  };
  auto r =
      dw("baseline create --root " + Q(root) + " --rules " + Q(agent + "/rules.yaml") + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = dw("enroll --collector " + Q(c.url()) + " --token " + Q(c.Token("enroll")) + " --name web-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string old_conf = testutil::Run("cat " + Q(conf)).out;
  WriteFile(conf, "port = 8080\nuser = www\nworkers = 4\nlog = /srv/log/app\n");
  WriteFile(key, std::string("-----BEGIN PRIVATE KEY-----\n") + kMarker + "-new\n");
  WriteFile(dir / "old.conf", old_conf);
  r = dw("check --report --format json");
  ASSERT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.out.find(kMarker), std::string::npos) << r.out;

  Answer drift = c.Get("/api/v1/drift?host=web-1", read);
  ASSERT_EQ(drift.status, 200) << drift.body;
  EXPECT_EQ(drift.body.find(kMarker), std::string::npos) << drift.body;
  int64_t conf_id = 0;
  int64_t key_id = 0;
  const value listed = drift.json();
  for (const value& e : listed.at("events").as_array()) {
    if (e.at("path").as_string() == "/etc/app/app.conf") {
      conf_id = e.at("id").as_integer();
      EXPECT_TRUE(e.at("has_diff").as_bool()) << e.serialize();
    }
    if (e.at("path").as_string() == "/etc/app/tls.key") {
      key_id = e.at("id").as_integer();
      EXPECT_FALSE(e.at("has_diff").as_bool()) << e.serialize();
      EXPECT_EQ(e.at("content").as_string(), "redacted") << e.serialize();
    }
  }
  ASSERT_NE(conf_id, 0) << drift.body;
  ASSERT_NE(key_id, 0) << drift.body;

  // The kept file's diff is what diff -u prints for the two versions.
  Answer d = c.Get("/api/v1/events/" + std::to_string(conf_id) + "/diff", read);
  ASSERT_EQ(d.status, 200) << d.body;
  const std::string want =
      testutil::Run("LC_ALL=C diff -u --label /etc/app/app.conf --label /etc/app/app.conf " +
                    Q(dir / "old.conf") + " " + Q(conf))
          .out;
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(d.json().at("diff").as_string(), want);
  Answer k = c.Get("/api/v1/events/" + std::to_string(key_id) + "/diff", read);
  ASSERT_EQ(k.status, 200) << k.body;
  EXPECT_TRUE(k.json().at("diff").is_null()) << k.body;
  EXPECT_EQ(k.json().at("content").as_string(), "redacted");
  EXPECT_EQ(k.body.find(kMarker), std::string::npos) << k.body;
  Answer history = c.Get("/api/v1/paths/history?path=/etc/app/tls.key", read);
  EXPECT_EQ(history.body.find(kMarker), std::string::npos) << history.body;

  EXPECT_EQ(c.Stop(), 0);
  // Nothing outside the tree holds the marker: not the agent's store and
  // outbox, not the collector's store (-wal and -shm included) or its log.
  // In the tree the grep finds it, where it is.
  EXPECT_EQ(FilesWithMarker(dir.path(), "root"), "");
  EXPECT_EQ(FilesWithMarker(root), key + "\n");
}

}  // namespace
}  // namespace driftwatch::collector_it
