// `driftwatch daemon` as a service (docs/collector.md, "Agent configuration"):
// the real daemon with no configuration file, under signals and a
// NOTIFY_SOCKET; enrolling on its own from an enroll file with the real
// collector; min_severity between the agent's history and the collector.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <set>
#include <sstream>

#include "tests/collector/harness.h"

extern char** environ;

namespace driftwatch::collector_it {
namespace {

// A `driftwatch daemon` child with `env` added to the test's environment;
// stdout and stderr go to `log`.
//
// Started as the unit starts it, through nohup (its SIG_IGN for SIGHUP
// survives execve and covers the dynamic loader's first milliseconds, before
// the daemon's own code runs: docs/decisions.md).
class Daemon {
 public:
  Daemon(const std::vector<std::string>& args, const std::vector<std::string>& env, std::string log)
      : log_(std::move(log)) {
    std::vector<std::string> argv = {"/usr/bin/nohup", AgentBin(), "daemon"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> envs(env);
    for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
    std::vector<char*> a, en;
    for (std::string& s : argv) a.push_back(s.data());
    for (std::string& s : envs) en.push_back(s.data());
    a.push_back(nullptr);
    en.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execve(a[0], a.data(), en.data());
      _exit(127);
    }
    WaitHangupHandled(pid_);  // its start (harness.h)
    started_ = std::chrono::steady_clock::now();
  }
  ~Daemon() {
    if (pid_ > 0) Stop(SIGKILL);
  }

  // Sends `sig` `seconds` after the start (at once when that has passed).
  void SignalAt(int sig, double seconds) {
    std::this_thread::sleep_until(started_ +
                                  std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
    kill(pid_, sig);
  }
  bool Alive() {
    int status = 0;
    return waitpid(pid_, &status, WNOHANG) == 0;
  }
  // Sends sig and waits; the exit status (128+N when killed by signal N).
  int Stop(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string log() const { return ReadAll(log_); }
  pid_t pid() const { return pid_; }

 private:
  std::string log_;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point started_;
};

// A service manager's notification socket: one datagram per message.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  ~NotifySocket() { close(fd_); }
  // Every message that arrived until one contains `what` or `seconds` pass.
  bool WaitFor(const std::string& what, double seconds) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<int>(seconds * 1000));
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      messages_.emplace_back(buf, static_cast<size_t>(n));
      if (messages_.back().find(what) != std::string::npos) return true;
    }
    return false;
  }
  const std::vector<std::string>& messages() const { return messages_; }
  std::string env() const { return "NOTIFY_SOCKET=" + path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += "[" + s + "] ";
  return out;
}

// The daemon with no configuration file reads /etc/driftwatch/agent.yaml:
// these tests need that file absent.
bool NoSystemConfig() { return access("/etc/driftwatch/agent.yaml", F_OK) != 0; }

TEST(DaemonServiceTest, PrintsEveryDefaultWithoutAConfigFile) {
  if (!NoSystemConfig()) GTEST_SKIP() << "/etc/driftwatch/agent.yaml exists on this host";
  TempDir dir;
  const std::string env =
      "DRIFTWATCH_DB=" + (dir / "agent.db") + " DRIFTWATCH_RULES=" + (dir / "rules.yaml") + " ";
  auto r = testutil::Run(env + Q(AgentBin()) + " daemon --print-config");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string expected =
      "# driftwatch agent configuration in effect (no configuration file: every value is the "
      "default)\n"
      "version: 1  # default\n"
      "collector: \"\"  # default\n"
      "token_file: \"\"  # default\n"
      "host_id: \"\"  # default\n"
      "ca_file: \"\"  # default\n"
      "db: " +
      (dir / "agent.db") +
      "  # default\n"
      "rules: " +
      (dir / "rules.yaml") +
      "  # default\n"
      "root: /  # default\n"
      "baseline: default  # default\n"
      "interval: 1h  # default\n"
      "jitter: 5m  # default\n"
      "poll_interval: 1m  # default\n"
      "outbox_max: 1000  # default\n"
      "jobs: 0  # default\n"
      "nice: 10  # default\n"
      "verify_packages: false  # default\n"
      "min_severity: info  # default\n"
      "enroll_file: /etc/driftwatch/enroll.yaml  # default\n"
      "metrics_file: \"\"  # default\n"
      "realtime: true  # default\n"
      "allow_remote_restore: false  # default\n"
      "require_signed_baselines: false  # default\n"
      "trusted_keys: []  # default\n"
      "containers: {docker_roots: [], containerd_roots: [], containerd_states: [], "
      "storage_roots: []}  # default\n";
  EXPECT_EQ(r.out, expected);

  // What it prints is a configuration the daemon takes back, and a file's
  // keys say so.
  WriteFile(dir / "printed.yaml", r.out);
  WriteFile(dir / "some.yaml", "interval: 2h\nmin_severity: high\n");
  auto back =
      testutil::Run(Q(AgentBin()) + " daemon --print-config --config " + Q(dir / "printed.yaml"));
  EXPECT_EQ(back.exit_code, 0) << back.out;
  auto some =
      testutil::Run(Q(AgentBin()) + " daemon --print-config --config " + Q(dir / "some.yaml"));
  EXPECT_EQ(some.exit_code, 0) << some.out;
  EXPECT_NE(some.out.find("\ninterval: 2h  # from the file\n"), std::string::npos) << some.out;
  EXPECT_NE(some.out.find("\nmin_severity: high  # from the file\n"), std::string::npos);
  EXPECT_NE(some.out.find("\njitter: 5m  # default\n"), std::string::npos);

  // An explicit --config that does not exist is an error; so is a bad value.
  auto missing = testutil::Run(Q(AgentBin()) + " daemon --print-config --config " +
                               Q(dir / "nope.yaml") + " 2>&1");
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
  WriteFile(dir / "bad.yaml", "version: 1\nnice: 40\n");
  auto bad = testutil::Run(Q(AgentBin()) + " daemon --config " + Q(dir / "bad.yaml") + " 2>&1");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out,
            "driftwatch: " + (dir / "bad.yaml") + ":2:7: nice: expected an integer from 0 to 19\n");
}

// SIGHUP at any moment of a start leaves the daemon running; the service
// manager hears READY=1, RELOADING=1 and STOPPING=1.
TEST(DaemonServiceTest, SurvivesHangupsAndNotifiesTheServiceManager) {
  if (!NoSystemConfig()) GTEST_SKIP() << "/etc/driftwatch/agent.yaml exists on this host";
  TempDir dir;
  WriteFile(dir / "rules.yaml", kAgentRules);
  NotifySocket notify(dir / "notify.sock");
  // With every default the first check waits for up to `jitter` (5m), so
  // this daemon only polls (no enroll file at the default path here).
  Daemon d({},
           {notify.env(), "DRIFTWATCH_DB=" + (dir / "agent.db"),
            "DRIFTWATCH_RULES=" + (dir / "rules.yaml")},
           dir / "daemon.log");
  for (double at : {0.01, 0.1, 1.0}) {
    d.SignalAt(SIGHUP, at);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(d.Alive()) << "SIGHUP " << at << " s after start\n" << d.log();
  }
  ASSERT_TRUE(notify.WaitFor("RELOADING=1", 5)) << Joined(notify.messages()) << d.log();
  ASSERT_TRUE(notify.WaitFor("READY=1", 5)) << Joined(notify.messages());
  const std::vector<std::string> before_stop = notify.messages();
  ASSERT_FALSE(before_stop.empty());
  EXPECT_EQ(before_stop.front().rfind("READY=1\nSTATUS=", 0), 0u) << Joined(before_stop);
  EXPECT_NE(before_stop[before_stop.size() - 2].find("MONOTONIC_USEC="), std::string::npos);

  // The default priority: nice 10 and best-effort I/O level 7.
  std::istringstream stat(ReadAll("/proc/" + std::to_string(d.pid()) + "/stat"));
  std::string field;
  for (int i = 0; i < 19 && stat >> field; ++i) {
  }
  EXPECT_EQ(field, "10") << "nice value";
  auto io = testutil::Run("ionice -p " + std::to_string(d.pid()));
  if (io.exit_code == 0) {
    EXPECT_EQ(io.out, "best-effort: prio 7\n");
  }

  EXPECT_EQ(d.Stop(SIGTERM), 0) << d.log();
  EXPECT_TRUE(notify.WaitFor("STOPPING=1", 5)) << Joined(notify.messages());
  const std::string log = d.log();
  EXPECT_NE(log.find("no configuration file at /etc/driftwatch/agent.yaml, every value is the "
                     "default"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("configuration reloaded: no configuration file at /etc/driftwatch/agent.yaml"),
            std::string::npos)
      << log;
}

// A SIGHUP that comes during a check is handled after it: the check
// finishes and is recorded, then the configuration is read again.
TEST(DaemonServiceTest, AHangupDuringACheckReloadsAfterIt) {
  TempDir dir;
  // /usr/share: tens of thousands of entries, read-only; presence only, so
  // that the first baseline and check take a while without reading files.
  WriteFile(dir / "rules.yaml", "version: 1\nrules:\n  - path: /**\n    check: [presence]\n");
  WriteFile(dir / "agent.yaml", "db: " + (dir / "agent.db") + "\nrules: " + (dir / "rules.yaml") +
                                    "\nroot: /usr/share\ninterval: 1h\njitter: 0s\n"
                                    "jobs: 1\nnice: 0\nenroll_file: " +
                                    (dir / "none.yaml") + "\n");
  NotifySocket notify(dir / "notify.sock");
  Daemon d({"--config", dir / "agent.yaml"}, {notify.env()}, dir / "daemon.log");
  ASSERT_TRUE(notify.WaitFor("STATUS=first baseline", 10)) << Joined(notify.messages());
  d.SignalAt(SIGHUP, 0);
  const bool during = d.log().find("check: ") == std::string::npos;
  ASSERT_TRUE(
      WaitFor([&] { return d.log().find("configuration reloaded") != std::string::npos; }, 60))
      << d.log();
  EXPECT_TRUE(d.Alive());
  EXPECT_EQ(d.Stop(SIGTERM), 0);
  const std::string log = d.log();
  ASSERT_TRUE(during) << "the check had finished before the SIGHUP was sent:\n" << log;
  const size_t baseline = log.find("first baseline 'default': ");
  const size_t check = log.find("check: 0 drift event(s)");
  const size_t reload = log.find("configuration reloaded from " + (dir / "agent.yaml"));
  ASSERT_NE(baseline, std::string::npos) << log;
  ASSERT_NE(check, std::string::npos) << log;
  ASSERT_NE(reload, std::string::npos) << log;
  EXPECT_LT(baseline, check);
  EXPECT_LT(check, reload);
  // The service manager heard the same order.
  EXPECT_TRUE(notify.WaitFor("STOPPING=1", 5));
  std::string heard;
  for (const std::string& m : notify.messages()) heard += m.substr(0, m.find('\n')) + " ";
  EXPECT_NE(heard.find("STATUS=first baseline STATUS=checked at "), std::string::npos) << heard;
  EXPECT_LT(heard.find("STATUS=checked at "), heard.find("RELOADING=1")) << heard;
}

// One agent with its own tree, rules (low under /etc/low, high elsewhere
// under /etc) and configuration, enrolling from an enroll file.
class EnrollingAgent {
 public:
  explicit EnrollingAgent(const TempDir& dir) : dir_(dir) {
    testutil::Run("mkdir -p " + Q(dir / "root/etc/app") + " " + Q(dir / "root/etc/low"));
    WriteFile(dir / "root/etc/app/app.conf", "port = 80\n");
    WriteFile(dir / "rules.yaml",
              "version: 1\nrules:\n"
              "  - path: /etc/**\n    check: content\n    severity: high\n"
              "  - path: /etc/low/**\n    check: content\n    severity: low\n");
  }
  void WriteEnrollFile(const std::string& url, const std::string& token) {
    WriteSecretFile(dir_ / "enroll.token", token + "\n");
    WriteFile(dir_ / "enroll.yaml", "version: 1\ncollector: " + url + "\ngroup: web\ntoken_file: " +
                                        (dir_ / "enroll.token") + "\n");
  }
  std::vector<std::string> Args() {
    WriteFile(dir_ / "agent.yaml", "db: " + (dir_ / "state/agent.db") + "\nrules: " +
                                       (dir_ / "rules.yaml") + "\nroot: " + (dir_ / "root") +
                                       "\ninterval: 1s\njitter: 0s\npoll_interval: 200ms\n"
                                       "min_severity: medium\nenroll_file: " +
                                       (dir_ / "enroll.yaml") + "\n");
    return {"--config", dir_ / "agent.yaml"};
  }
  // `driftwatch check` on the same store, tree and rules; stderr included.
  testutil::RunResult Check(const std::string& flags) {
    return testutil::Run(Q(AgentBin()) + " check --quiet --db " + Q(dir_ / "state/agent.db") +
                         " --rules " + Q(dir_ / "rules.yaml") + " --root " + Q(dir_ / "root") +
                         " " + flags + " 2>&1");
  }
  std::string History() {
    return testutil::Run(Q(AgentBin()) + " history --db " + Q(dir_ / "state/agent.db")).out;
  }

 private:
  const TempDir& dir_;
};

std::string HostName() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// First start: the collector is down at first, then comes up; the daemon
// enrolls on its own, removes the token file, takes the first baseline and
// reports. Then drift below min_severity stays in the agent's history.
TEST(DaemonServiceTest, EnrollsOnFirstStartAndReportsAtOrAboveMinSeverity) {
  TempDir dir;
  EnrollingAgent agent(dir);
  Collector c(dir);
  const std::string token = c.Token("enroll");
  ASSERT_FALSE(token.empty());
  const int port = FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  agent.WriteEnrollFile(url, token);
  Daemon d(agent.Args(), {}, dir / "daemon.log");

  // Collector unreachable: retried every poll_interval; nothing is lost.
  ASSERT_TRUE(WaitFor([&] { return d.log().find("first baseline") != std::string::npos; }, 20))
      << d.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_NE(d.log().find("enrolling with " + url), std::string::npos) << d.log();
  EXPECT_EQ(access((dir / "enroll.token").c_str(), F_OK), 0) << "kept until it was used";
  ASSERT_TRUE(c.Start(port)) << ReadAll(c.log());

  const std::string read = c.Token("read");
  const std::string host = HostName();
  value hosts;
  ASSERT_TRUE(WaitFor(
      [&] {
        Answer a = c.Get("/api/v1/hosts", read);
        if (a.status != 200) return false;
        hosts = a.json().at("hosts");
        return hosts.size() == 1 && hosts[0].at("reports").as_number().to_int64() >= 1;
      },
      20))
      << hosts.serialize() << d.log();
  EXPECT_EQ(hosts[0].at("id").as_string(), host);
  EXPECT_EQ(hosts[0].at("group").as_string(), "web");
  EXPECT_EQ(hosts[0].at("baseline").at("name").as_string(), "default");
  EXPECT_NE(access((dir / "enroll.token").c_str(), F_OK), 0) << "the spent token file is removed";
  // The state directory did not exist: the daemon made it, for itself only.
  struct stat st {};
  ASSERT_EQ(stat((dir / "state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_NE(d.log().find("enrolled as " + host + " with " + url +
                         "; removed the spent token file " + (dir / "enroll.token")),
            std::string::npos)
      << d.log();

  // A low-severity and a high-severity change.
  WriteFile(dir / "root/etc/low/quiet.conf", "low\n");
  WriteFile(dir / "root/etc/app/loud.conf", "high\n");
  std::vector<value> drift;
  ASSERT_TRUE(WaitFor(
      [&] {
        drift = AllDrift(c, read, "host=" + host);
        return !drift.empty();
      },
      20))
      << d.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // another check or two
  drift = AllDrift(c, read, "host=" + host);
  std::set<std::string> reported;
  for (const value& e : drift) reported.insert(e.at("path").as_string());
  EXPECT_EQ(reported, std::set<std::string>{"/etc/app/loud.conf"});
  const std::string history = agent.History();
  EXPECT_NE(history.find("/etc/low/quiet.conf"), std::string::npos) << history;
  EXPECT_NE(history.find("/etc/app/loud.conf"), std::string::npos) << history;

  EXPECT_EQ(d.Stop(SIGTERM), 0);
  const std::string log = d.log();
  EXPECT_NE(log.find("below medium, not reported"), std::string::npos) << log;
  EXPECT_EQ(log.find(token), std::string::npos) << "the enroll token is in the daemon's log";

  // check --min-severity: the exit status counts what is at or above it;
  // what is below is printed all the same.
  auto high = agent.Check("--min-severity high");
  EXPECT_EQ(high.exit_code, 1) << high.out;
  EXPECT_NE(high.out.find("1 drift event(s) below high: printed and kept in the history, not "
                          "counted in the exit status\n"),
            std::string::npos)
      << high.out;
  EXPECT_NE(high.out.find("/etc/app/loud.conf"), std::string::npos);
  EXPECT_NE(high.out.find("/etc/low/quiet.conf"), std::string::npos);
  auto critical = agent.Check("--min-severity critical");
  EXPECT_EQ(critical.exit_code, 0) << critical.out;
  EXPECT_NE(critical.out.find("2 drift event(s) below critical: printed and kept in the "
                              "history, not counted in the exit status\n"),
            std::string::npos)
      << critical.out;
  auto all = agent.Check("");
  EXPECT_EQ(all.exit_code, 1) << all.out;
  EXPECT_NE(all.out.find("/etc/low/quiet.conf"), std::string::npos) << all.out;
  auto bad = agent.Check("--min-severity urgent");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out,
            "driftwatch check: --min-severity: expected info, low, medium, high or critical, not "
            "'urgent'\nrun 'driftwatch check --help' for usage\n");
}

// A token the collector refuses is logged as such (without the token), kept,
// and the daemon carries on with its checks.
TEST(DaemonServiceTest, ARefusedEnrollTokenIsLoggedAndKept) {
  TempDir dir;
  EnrollingAgent agent(dir);
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  const std::string bogus = "dwe_not-a-token-this-collector-issued";
  agent.WriteEnrollFile(c.url(), bogus);
  Daemon d(agent.Args(), {}, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return d.log().find("check: ") != std::string::npos; }, 20)) << d.log();
  EXPECT_TRUE(d.Alive());
  EXPECT_EQ(d.Stop(SIGTERM), 0);
  const std::string log = d.log();
  EXPECT_NE(log.find("enrolling with " + c.url() + ": the enroll token in " +
                     (dir / "enroll.token") + " was refused (expired, used up or revoked; "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("trying again in 10 minutes"), std::string::npos);
  EXPECT_EQ(log.find(bogus), std::string::npos) << log;
  EXPECT_EQ(access((dir / "enroll.token").c_str(), F_OK), 0);
}

// `driftwatch enroll` takes the token from a file or stdin, never both
// ways at once.
TEST(DaemonServiceTest, EnrollTakesTheTokenFromAFileOrStdin) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  const std::string enroll = Q(AgentBin()) + " enroll --collector " + Q(c.url());
  const std::string token = c.Token("enroll");
  WriteSecretFile(dir / "enroll.token", token + "\n");
  auto from_file = testutil::Run(enroll + " --name file-1 --db " + Q(dir / "a.db") +
                                 " --token-file " + Q(dir / "enroll.token") + " 2>&1");
  EXPECT_EQ(from_file.exit_code, 0) << from_file.out;
  EXPECT_EQ(from_file.out,
            "enrolled as file-1 with " + c.url() + "\n" + PinnedKeyLine(c.url(), token));
  auto from_stdin =
      testutil::Run("printf '%s\\n' " + Q(c.Token("enroll")) + " | " + enroll +
                    " --name stdin-1 --db " + Q(dir / "b.db") + " --token-file - 2>&1");
  EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.out;
  EXPECT_EQ(from_stdin.out,
            "enrolled as stdin-1 with " + c.url() + "\n" + PinnedKeyLine(c.url(), token));

  auto both = testutil::Run(enroll + " --token-file " + Q(dir / "enroll.token") + " --token " +
                            Q(token) + " 2>&1");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(both.out, "driftwatch: enroll: give either --token-file FILE or --token, not both\n");
  auto neither = testutil::Run(enroll + " 2>&1");
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_EQ(neither.out,
            "driftwatch: enroll: give either --token-file FILE or --token, not neither\n");
  auto empty = testutil::Run("true | " + enroll + " --token-file - 2>&1");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_EQ(empty.out, "driftwatch: --token-file - (stdin): no token\n");
  auto refused = testutil::Run("echo dwe_wrong-token | " + enroll + " --db " + Q(dir / "c.db") +
                               " --token-file - 2>&1");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.out.find("dwe_wrong-token"), std::string::npos) << refused.out;
  // A token file other users may read is refused, and its token not shown.
  WriteFile(dir / "open.token", token + "\n");
  ASSERT_EQ(chmod((dir / "open.token").c_str(), 0644), 0);
  auto open = testutil::Run(enroll + " --db " + Q(dir / "d.db") + " --token-file " +
                            Q(dir / "open.token") + " 2>&1");
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_EQ(open.out, "driftwatch: " + (dir / "open.token") +
                          ": mode 0644 lets other users read the token; refusing to use it. "
                          "Fix: chmod 600 " +
                          (dir / "open.token") + "\n");

  Answer hosts = c.Get("/api/v1/hosts", c.Token("read"));
  ASSERT_EQ(hosts.status, 200);
  ASSERT_EQ(hosts.json().at("hosts").size(), 2u) << hosts.body;
  EXPECT_EQ(hosts.json().at("hosts")[0].at("id").as_string(), "file-1");
  EXPECT_EQ(hosts.json().at("hosts")[1].at("id").as_string(), "stdin-1");
}

}  // namespace
}  // namespace driftwatch::collector_it
