// The real `driftwatch daemon` under a wall clock that jumps
// (docs/reliability.md, "Faults"). libfaketime (Debian's libfaketime) is
// preloaded into the daemon and re-reads an offset file on every clock
// call, so the test moves CLOCK_REALTIME while the daemon runs;
// CLOCK_MONOTONIC is left alone, as the kernel leaves it when an
// administrator or NTP steps the clock. The daemon's checks and polls run on
// steady timers; its outbox backoff is scheduled on the wall clock.
//  - set back a day while reports are queued and backing off: the queue is
//    delivered at the next poll, not a day later, once and in order;
//  - set forward a year while reports are queued: delivered once and in
//    order, no timer fires early; then back to the real time, with timers
//    armed under the future clock: checks go on at their interval, polls too.
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>

#include "tests/collector/agent_outbox.h"
#include "tests/collector/fake_collector.h"
#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

constexpr const char* kFaketimeLib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
constexpr int64_t kSec = 1000000000;
constexpr int64_t kDay = 86400 * kSec;

int64_t RealNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The daemon's wall clock: an offset from the real time in libfaketime's
// syntax ("+0", "-1d", "+1y"), replaced whole so that no read sees half a
// line.
class FakeClock {
 public:
  explicit FakeClock(std::string path) : path_(std::move(path)) { Set("+0"); }
  void Set(const std::string& offset) {
    WriteFile(path_ + ".new", offset + "\n");
    std::rename((path_ + ".new").c_str(), path_.c_str());
  }
  // The environment that puts a process under this clock.
  std::vector<std::string> EnvArgs() const {
    const std::string asan = Env("ASAN_OPTIONS");
    return {"-u", "FAKETIME", std::string("LD_PRELOAD=") + kFaketimeLib,
            "FAKETIME_TIMESTAMP_FILE=" + path_, "FAKETIME_NO_CACHE=1",
            "FAKETIME_DONT_FAKE_MONOTONIC=1",
            // A sanitized daemon (scripts/test.d/san.run) refuses to start
            // when a preloaded library comes before the ASan runtime.
            "ASAN_OPTIONS=" + asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0"};
  }

 private:
  std::string path_;
};

// One enrolled agent whose tree has drifted by one file (so every check
// reports exactly one event), run as `driftwatch daemon` under a FakeClock.
class ClockAgent {
 public:
  ClockAgent(const TempDir& dir, Collector& c, const std::string& name)
      : clock_(dir / "faketime.rc") {
    root_ = dir / "root";
    db_ = dir / "agent.db";
    rules_ = dir / "rules.yaml";
    config_ = dir / "agent.yaml";
    log_ = dir / "daemon.log";
    testutil::Run("mkdir -p " + Q(root_ + "/etc/app"));
    WriteFile(rules_, kAgentRules);
    WriteFile(root_ + "/etc/app/app.conf", "port = 80\n");
    setup_ = Dw("baseline create --root " + Q(root_) + " --rules " + Q(rules_) + " --quiet");
    if (setup_.exit_code != 0) return;
    setup_ = Dw("enroll --collector " + Q(c.url()) + " --token " + Q(c.Token("enroll")) +
                " --name " + name);
    WriteFile(root_ + "/etc/app/new.conf", "drift\n");
  }
  // A daemon still running (a failed assertion) is killed; libfaketime
  // then leaves its per-process shared memory behind, removed here.
  ~ClockAgent() {
    const pid_t pid = daemon_.pid();
    if (pid <= 0) return;
    daemon_.Kill(SIGKILL);
    unlink(("/dev/shm/faketime_shm_" + std::to_string(pid)).c_str());
    unlink(("/dev/shm/sem.faketime_sem_" + std::to_string(pid)).c_str());
  }
  ClockAgent(const ClockAgent&) = delete;
  ClockAgent& operator=(const ClockAgent&) = delete;

  const testutil::RunResult& setup() const { return setup_; }
  const std::string& db() const { return db_; }
  std::string log() const { return ReadAll(log_); }
  FakeClock& clock() { return clock_; }

  void WriteConfig(const std::string& interval) {
    WriteFile(config_, "version: 1\ndb: " + db_ + "\nrules: " + rules_ + "\nroot: " + root_ +
                           "\ninterval: " + interval + "\njitter: 0s\npoll_interval: 200ms\n");
  }
  void Start(const std::string& interval) {
    WriteConfig(interval);
    std::vector<std::string> argv = {"/usr/bin/env"};
    for (const std::string& e : clock_.EnvArgs()) argv.push_back(e);
    argv.insert(argv.end(), {AgentBin(), "daemon", "--config", config_});
    daemon_.Start(argv, log_, false);
  }
  // SIGHUP with a new interval; true once the daemon has taken it over.
  bool Reload(const std::string& interval) {
    const std::string done = "configuration reloaded from " + config_;
    const size_t before = Count(log(), done);
    WriteConfig(interval);
    kill(daemon_.pid(), SIGHUP);
    return WaitFor([&] { return Count(log(), done) > before; }, 10);
  }
  int Stop() { return daemon_.Kill(SIGTERM); }

 private:
  testutil::RunResult Dw(const std::string& args) const {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db_) + " 2>&1");
  }

  std::string root_, db_, rules_, config_, log_;
  FakeClock clock_;
  testutil::RunResult setup_;
  Process daemon_;
};

int64_t Reports(Collector& c, const std::string& read, const std::string& host) {
  Answer a = c.Get("/api/v1/hosts/" + host, read);
  if (a.status != 200) return -1;
  return a.json().at("reports").as_integer();
}

std::string SkipReason() {
  if (access(kFaketimeLib, R_OK) != 0) {
    return std::string("libfaketime is not installed (") + kFaketimeLib +
           "; apt-get install libfaketime)";
  }
  return "";
}

// Runs the daemon against a collector that answers 500 until at least four
// reports are queued, then reloads it with checks an hour apart, so that
// from then on only the polls (which respect the backoff) deliver. Returns
// the queued reports; the head has been tried once per attempt and backs
// off for 2^(attempts-1) s from its last attempt.
std::vector<report::QueuedReport> QueueBehind500(ClockAgent& agent, FakeCollector& fake) {
  const int64_t started = RealNowNs();
  agent.Start("400ms");
  EXPECT_TRUE(WaitFor([&] { return PendingReports(agent.db()).size() >= 4; }, 15)) << agent.log();
  EXPECT_TRUE(agent.Reload("1h")) << agent.log();
  std::vector<report::QueuedReport> q = PendingReports(agent.db());
  if (q.empty()) return q;
  const report::QueuedReport& head = q[0];
  // Every attempt reached the failing collector, and only the head's.
  EXPECT_EQ(fake.reports(), head.attempts);
  EXPECT_GE(head.attempts, static_cast<int>(q.size()));
  for (size_t i = 1; i < q.size(); ++i) EXPECT_EQ(q[i].attempts, 0) << i;
  const int64_t backoff = std::min<int64_t>(600 * kSec, kSec << (head.attempts - 1));
  const int64_t last_attempt = head.next_attempt_ns - backoff;
  EXPECT_GE(last_attempt, started);
  EXPECT_LE(last_attempt, RealNowNs());
  // Polls every 200 ms (their command requests reach the fake too) leave
  // the head alone while it backs off (>= 8 s).
  const int reports = fake.reports();
  const int polls = fake.requests() - reports;
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(fake.reports(), reports);
  EXPECT_GE(fake.requests() - fake.reports() - polls, 3);
  return q;
}

// Every event of `host` belongs to the next queued report, in queue order,
// and each report has exactly one event.
void ExpectDeliveredOnceInOrder(Collector& c, const std::string& read, const std::string& host,
                                const std::vector<report::QueuedReport>& queued) {
  std::vector<std::string> ids;
  for (const report::QueuedReport& q : queued) ids.push_back(q.report_id);
  std::vector<value> events = AllDrift(c, read, "host=" + host);
  EXPECT_EQ(events.size(), ids.size());
  EXPECT_EQ(ReportIdsOf(events), ids);
  ExpectAscendingIds(events);
  for (const value& e : events) EXPECT_EQ(e.at("path").as_string(), "/etc/app/new.conf");
  EXPECT_EQ(Reports(c, read, host), static_cast<int64_t>(queued.size()));
}

// A check-now command, picked up by a poll and answered by a check; then
// the host has `reports_after` reports (when >= 0).
void ExpectCheckNowAnswered(Collector& c, const std::string& host, int64_t reports_after) {
  const std::string admin = c.Token("admin");
  const std::string read = c.Token("read");
  Answer posted = Http("POST", c.url() + "/api/v1/hosts/" + host + "/commands", admin,
                       R"({"command":"check-now"})");
  ASSERT_EQ(posted.status, 201) << posted.body;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        value h = c.Get("/api/v1/hosts/" + host, read).json();
        value& cmds = h.at("commands");
        return cmds.size() == 1 && !cmds[0].at("acknowledged").is_null();
      },
      5))
      << c.Get("/api/v1/hosts/" + host, read).body;
  EXPECT_LT(SecondsSince(t0), 2.0);
  value h = c.Get("/api/v1/hosts/" + host, read).json();
  EXPECT_EQ(h.at("commands")[0].at("detail").as_string(), "checked");
  EXPECT_TRUE(h.at("commands")[0].at("ok").as_bool());
  if (reports_after >= 0) {
    EXPECT_EQ(h.at("reports").as_integer(), reports_after);
  }
}

// A collector with a read token and an enrolled daemon whose reports were
// queued behind a collector answering 500 (QueueBehind500); the real
// collector is back on the port, but the head still backs off, so nothing
// has arrived. Each test then moves the daemon's clock.
class DaemonClockTest : public ::testing::Test {
 protected:
  void QueueWhileDown(const std::string& host) {
    const int port = FreePort();
    c_ = std::make_unique<Collector>(dir_);
    ASSERT_TRUE(c_->Start(port)) << ReadAll(c_->log());
    read_ = c_->Token("read");
    agent_ = std::make_unique<ClockAgent>(dir_, *c_, host);
    ASSERT_EQ(agent_->setup().exit_code, 0) << agent_->setup().out;
    ASSERT_EQ(c_->Stop(), 0);

    FakeCollector fake(FakeCollector::Mode::kAnswer500, port);
    ASSERT_TRUE(fake.ok()) << "cannot listen on port " << port;
    queued_ = QueueBehind500(*agent_, fake);
    ASSERT_GE(queued_.size(), 4u);
    fake.Stop();
    ASSERT_TRUE(c_->Start(port)) << ReadAll(c_->log());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_EQ(Reports(*c_, read_, host), 0) << agent_->log();
  }

  TempDir dir_;
  std::unique_ptr<Collector> c_;
  std::string read_;
  std::unique_ptr<ClockAgent> agent_;  // destroyed before the collector
  std::vector<report::QueuedReport> queued_;
};

TEST_F(DaemonClockTest, SetBackADayWhileBackingOffDeliversAtTheNextPoll) {
  const std::string skip = SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_NO_FATAL_FAILURE(QueueWhileDown("clock-back"));
  Collector& c = *c_;
  ClockAgent& agent = *agent_;
  const std::string& read = read_;
  const std::vector<report::QueuedReport>& queued = queued_;

  // Set back a day: the retry, scheduled under the old clock, is due at once.
  agent.clock().Set("-1d");
  const auto jumped = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return Reports(c, read, "clock-back") >= int64_t(queued.size()); }, 10))
      << agent.log();
  const double delay = SecondsSince(jumped);
  std::cout << "[ timing   ] " << queued.size() << " reports delivered " << delay
            << " s after the clock was set back a day (head: " << queued[0].attempts
            << " attempts)\n";
  EXPECT_LT(delay, 2.0) << "the head backed off for "
                        << (queued[0].next_attempt_ns - RealNowNs()) / 1e9 << " s more";
  ExpectDeliveredOnceInOrder(c, read, "clock-back", queued);
  EXPECT_TRUE(PendingReports(agent.db()).empty());

  // Polls go on under the new clock; a check reports the day-old time.
  ExpectCheckNowAnswered(c, "clock-back", int64_t(queued.size()) + 1);
  std::vector<value> events = AllDrift(c, read, "host=clock-back");
  SortById(events);  // in the order received, whatever the clocks said
  ASSERT_EQ(events.size(), queued.size() + 1);
  auto detected = ParseRfc3339(events.back().at("detected").as_string());
  ASSERT_TRUE(detected.ok());
  EXPECT_LT(std::llabs(*detected + kDay - RealNowNs()), 60 * kSec)
      << events.back().at("detected").as_string();
  EXPECT_EQ(agent.Stop(), 0);
  EXPECT_EQ(c.Stop(), 0);
}

TEST_F(DaemonClockTest, SetForwardAYearThenBackKeepsDeliveringAndChecking) {
  const std::string skip = SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_NO_FATAL_FAILURE(QueueWhileDown("clock-fwd"));
  Collector& c = *c_;
  ClockAgent& agent = *agent_;
  const std::string& read = read_;
  const std::vector<report::QueuedReport>& queued = queued_;

  // A year forward: the head's retry is long past due.
  agent.clock().Set("+1y");
  const auto jumped = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return Reports(c, read, "clock-fwd") >= int64_t(queued.size()); }, 10))
      << agent.log();
  EXPECT_LT(SecondsSince(jumped), 2.0);
  ExpectDeliveredOnceInOrder(c, read, "clock-fwd", queued);
  // The check timer (an hour, armed before the jump) does not fire early.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(Reports(c, read, "clock-fwd"), int64_t(queued.size())) << agent.log();

  // Checks every second, armed under the future clock; then the clock goes
  // back to the real time (a year back) with both timers armed.
  ASSERT_TRUE(agent.Reload("1s"));
  const int64_t n = static_cast<int64_t>(queued.size());
  ASSERT_TRUE(WaitFor([&] { return Reports(c, read, "clock-fwd") >= n + 1; }, 5)) << agent.log();
  agent.clock().Set("+0");
  const auto back = std::chrono::steady_clock::now();
  // Three checks a second apart, plus what each takes (more under a
  // sanitizer); a stalled timer would wait out the year.
  ASSERT_TRUE(WaitFor([&] { return Reports(c, read, "clock-fwd") >= n + 4; }, 10)) << agent.log();
  EXPECT_LT(SecondsSince(back), 6.5);
  std::vector<value> events = AllDrift(c, read, "host=clock-fwd");
  SortById(events);  // in the order received, whatever the clocks said
  ASSERT_GE(events.size(), static_cast<size_t>(n + 4));
  // The check under the future clock says so; the three after it do not,
  // and they arrived a second apart (steady timers, whatever the wall clock).
  auto future = ParseRfc3339(events[n].at("detected").as_string());
  ASSERT_TRUE(future.ok());
  EXPECT_LT(std::llabs(*future - 365 * kDay - RealNowNs()), 60 * kSec);
  int64_t prev_received = 0;
  for (int64_t i = n + 1; i < n + 4; ++i) {
    auto detected = ParseRfc3339(events[i].at("detected").as_string());
    auto received = ParseRfc3339(events[i].at("received").as_string());
    ASSERT_TRUE(detected.ok() && received.ok());
    EXPECT_LT(std::llabs(*detected - RealNowNs()), 60 * kSec) << i;
    if (i > n + 1) {
      const double gap = double(*received - prev_received) / kSec;
      EXPECT_GT(gap, 0.8) << i;
      EXPECT_LT(gap, 2.5) << i;
    }
    prev_received = *received;
  }
  std::set<std::string> unique;
  for (const value& e : events) unique.insert(e.at("report_id").as_string());
  EXPECT_EQ(unique.size(), events.size()) << "a report stored twice";
  EXPECT_TRUE(PendingReports(agent.db()).empty());
  ExpectCheckNowAnswered(c, "clock-fwd", -1);
  EXPECT_EQ(agent.Stop(), 0);
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
