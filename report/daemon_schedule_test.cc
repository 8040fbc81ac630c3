// The daemon's timing decisions on a MemHost clock: checks, enrollment
// retries and report retries when the wall clock is set back a day or
// forward a year (docs/reliability.md, "Faults").
#include "report/daemon_schedule.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report/reporter.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::report {
namespace {

using testutil::MemHost;

constexpr int64_t kSec = 1000000000;
constexpr int64_t kDay = 86400 * kSec;

DaemonConfig Config(int64_t interval_ns, int64_t jitter_ns) {
  DaemonConfig c;
  c.interval_ns = interval_ns;
  c.jitter_ns = jitter_ns;
  c.poll_interval_ns = 10 * kSec;
  return c;
}

TEST(DaemonScheduleTest, FirstCheckWaitsTheJitterOrNothingWithoutABaseline) {
  MemHost host;
  const DaemonConfig c = Config(3600 * kSec, 60 * kSec);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    DaemonSchedule fresh(host, seed);
    EXPECT_EQ(fresh.NextCheckDelayNs(c, /*baseline_missing=*/true), 0);
    DaemonSchedule restarted(host, seed);
    const int64_t d = restarted.NextCheckDelayNs(c, /*baseline_missing=*/false);
    EXPECT_GE(d, 0);
    EXPECT_LE(d, 60 * kSec);
    restarted.CheckRan();
    const int64_t next = restarted.NextCheckDelayNs(c, /*baseline_missing=*/false);
    EXPECT_GE(next, 3600 * kSec);
    EXPECT_LE(next, 3660 * kSec);
  }
  DaemonSchedule no_jitter(host, 1);
  no_jitter.CheckRan();
  EXPECT_EQ(no_jitter.NextCheckDelayNs(Config(900 * kSec, 0), false), 900 * kSec);
}

TEST(DaemonScheduleTest, CheckIntervalIgnoresWallClockJumps) {
  MemHost host;
  const DaemonConfig c = Config(kSec, 0);
  DaemonSchedule s(host, 7);
  s.CheckRan();
  std::vector<int64_t> delays;
  for (int64_t jump : {int64_t{0}, -kDay, 365 * kDay, -365 * kDay}) {
    host.SetNowNs(host.NowNs() + jump);
    delays.push_back(s.NextCheckDelayNs(c, false));
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{kSec, kSec, kSec, kSec}));
}

TEST(DaemonScheduleTest, RefusedEnrollmentWaitsTenMinutesOnTheMonotonicClock) {
  MemHost host;
  DaemonSchedule s(host, 1);
  EXPECT_TRUE(s.EnrollDue());
  s.EnrollRefused();
  EXPECT_FALSE(s.EnrollDue());
  // The wall clock set back a day or forward a year changes nothing.
  host.SetNowNs(host.NowNs() - kDay);
  EXPECT_FALSE(s.EnrollDue());
  host.SetNowNs(host.NowNs() + 365 * kDay);
  EXPECT_FALSE(s.EnrollDue());
  host.SetMonotonicNs(host.MonotonicNs() + kEnrollRefusedRetryNs - 1);
  EXPECT_FALSE(s.EnrollDue());
  host.SetMonotonicNs(host.MonotonicNs() + 1);
  EXPECT_TRUE(s.EnrollDue());
  s.EnrollRefused();
  s.Reloaded();
  EXPECT_TRUE(s.EnrollDue());
}

// A collector that is down: the daemon polls every second and sends the head
// report when it is due; the attempts back off 1 s, 2 s, 4 s, 8 s.
TEST(DaemonScheduleTest, ReportRetriesBackOffOnTheWallClock) {
  MemHost host;
  DeliveryOptions opts;
  opts.respect_backoff = true;
  int attempts = 0;
  int64_t next_attempt = 0;
  const int64_t t0 = host.NowNs();
  std::vector<int64_t> attempted_at;
  for (int poll = 0; poll < 20; ++poll) {
    if (ReportDue(next_attempt, host.NowNs(), opts)) {
      attempted_at.push_back((host.NowNs() - t0) / kSec);
      ++attempts;
      next_attempt = host.NowNs() + ReportBackoffNs(attempts, opts.max_backoff_ns);
    }
    host.AdvanceNs(kSec);
  }
  EXPECT_EQ(attempted_at, (std::vector<int64_t>{0, 1, 3, 7, 15}));
  EXPECT_EQ(ReportBackoffNs(30, opts.max_backoff_ns), opts.max_backoff_ns);
}

TEST(DaemonScheduleTest, ClockSetBackADayMakesABackedOffReportDueAtTheNextPoll) {
  MemHost host;
  DeliveryOptions opts;
  opts.respect_backoff = true;
  const int64_t next_attempt = host.NowNs() + 4 * kSec;
  EXPECT_FALSE(ReportDue(next_attempt, host.NowNs(), opts));
  host.SetNowNs(host.NowNs() - kDay);
  // Scheduled under the old clock, a day away under the new one: due.
  EXPECT_TRUE(ReportDue(next_attempt, host.NowNs(), opts));
  // Forward a year: due as well, once.
  host.SetNowNs(host.NowNs() + kDay + 365 * kDay);
  EXPECT_TRUE(ReportDue(next_attempt, host.NowNs(), opts));
  // Without respect_backoff (a check's own delivery) everything is due.
  opts.respect_backoff = false;
  EXPECT_TRUE(ReportDue(host.NowNs() + kSec, host.NowNs(), opts));
}

}  // namespace
}  // namespace driftwatch::report
