// The real `driftwatch daemon` with realtime on (root only) reporting to a
// real collector on 127.0.0.1: a change in a watched tree reaches the
// collector within a second, not at the next scheduled check; `driftwatch
// status` says realtime is on.
#include <unistd.h>

#include "core/fs_events.h"
#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

TEST(RealtimeDaemonTest, ChangeReachesTheCollectorWithinASecond) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: fanotify filesystem marks";
  if (std::string why = FsEventsUnsupportedReason(); !why.empty()) {
    GTEST_SKIP() << "needs fanotify: " << why;
  }
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string root = dir / "root";
  const std::string rules = dir / "rules.yaml";
  const std::string db = dir / "agent.db";
  testutil::Run("mkdir -p " + Q(root + "/etc/app"));
  WriteFile(rules, kAgentRules);
  WriteFile(root + "/etc/app/app.conf", "port = 80\n");
  auto dw = [&](const std::string& args) {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>&1");
  };
  auto r = dw("baseline create --root " + Q(root) + " --rules " + Q(rules) + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = dw("enroll --collector " + Q(c.url()) + " --token " + Q(c.Token("enroll")) +
         " --name web-1 --group web");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string config = dir / "agent.yaml";
  WriteFile(config, "version: 1\ndb: " + db + "\nrules: " + rules + "\nroot: " + root +
                        "\ninterval: 1h\njitter: 0s\npoll_interval: 10s\n");
  const std::string log = dir / "daemon.log";
  Process daemon;
  daemon.Start({AgentBin(), "daemon", "--config", config}, log, false);
  auto host = [&] { return c.Get("/api/v1/hosts/web-1", read).json(); };
  // The first check at start: the watcher runs from before it.
  ASSERT_TRUE(WaitFor([&] { return host().at("reports").as_integer() == 1; }, 30))
      << testutil::Run("cat " + Q(log)).out;
  EXPECT_EQ(host().at("last_report_events").as_integer(), 0);
  r = dw("status");
  EXPECT_NE(r.out.find("realtime    on (watcher pid " + std::to_string(daemon.pid())),
            std::string::npos)
      << r.out;

  const auto written = std::chrono::steady_clock::now();
  WriteFile(root + "/etc/app/app.conf", "port = 8080\n");
  auto drifted = [&] {
    for (const value& e : AllDrift(c, read, "host=web-1")) {
      if (e.at("path").as_string() == "/etc/app/app.conf") return true;
    }
    return false;
  };
  bool arrived = false;
  while (std::chrono::steady_clock::now() - written < std::chrono::seconds(1) && !arrived) {
    arrived = drifted();
    if (!arrived) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(arrived) << "not at the collector within 1 s\n" << testutil::Run("cat " + Q(log)).out;
  EXPECT_EQ(host().at("reports").as_integer(), 2);
  // `driftwatch check` syncs with the daemon's watcher and examines only
  // what its journal marked dirty since the daemon's check.
  r = dw("check");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("walked 1 dirty path (realtime journal)"), std::string::npos) << r.out;
  r = dw("check");
  EXPECT_NE(r.out.find("walked 0 dirty paths (realtime journal)"), std::string::npos) << r.out;
  EXPECT_EQ(daemon.Kill(SIGTERM), 0);
  const std::string out = testutil::Run("cat " + Q(log)).out;
  EXPECT_NE(out.find("realtime: 1 drift event(s)"), std::string::npos) << out;
  r = dw("status");
  EXPECT_NE(r.out.find("realtime    off (the realtime watcher stopped)"), std::string::npos)
      << r.out;
}

TEST(RealtimeWatchTest, PrintsEachEventAndEndsWithZeroOnSigterm) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: fanotify filesystem marks";
  if (std::string why = FsEventsUnsupportedReason(); !why.empty()) {
    GTEST_SKIP() << "needs fanotify: " << why;
  }
  TempDir dir;
  const std::string root = dir / "root";
  const std::string db = dir / "agent.db";
  testutil::Run("mkdir -p " + Q(root + "/etc/app"));
  WriteFile(dir / "rules.yaml", kAgentRules);
  WriteFile(root + "/etc/app/app.conf", "port = 80\n");
  auto r = testutil::Run(Q(AgentBin()) + " baseline create --quiet --db " + Q(db) + " --root " +
                         Q(root) + " --rules " + Q(dir / "rules.yaml") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The change is made once the watcher runs (it says so on stderr).
  std::thread change([&] {
    WaitFor(
        [&] {
          return testutil::Run("cat " + Q(dir / "watch.log")).out.find("watching") !=
                 std::string::npos;
        },
        10);
    WriteFile(root + "/etc/app/app.conf", "port = 8080\n");
  });
  Process watch;
  const std::string line =
      watch.Start({AgentBin(), "watch", "--db", db, "--format", "json"}, dir / "watch.log");
  change.join();
  value ev = value::parse(line);
  EXPECT_EQ(ev.at("path").as_string(), "/etc/app/app.conf") << line;
  EXPECT_EQ(ev.at("kind").as_string(), "modified") << line;
  EXPECT_EQ(watch.Kill(SIGTERM), 0);
  // Neither the journal nor the outbox was written.
  r = testutil::Run(Q(AgentBin()) + " status --db " + Q(db) + " 2>&1");
  EXPECT_NE(r.out.find("outbox      0 report(s) waiting"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("realtime    off (no realtime watcher has run)"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace driftwatch::collector_it
