// The agent daemon's timing decisions (daemon.h), apart from its event loop
// so that they can be checked against a fake clock.
//
//  - the first scheduled check waits a random share of `jitter` (a fleet
//    restarted together spreads out), or nothing on a host without its
//    baseline (a fresh install); every later one `interval` plus a random
//    share of `jitter`;
//  - an enrollment that was refused (or a broken enroll file) is tried
//    again 10 minutes later, reckoned on the monotonic clock: setting the
//    wall clock back or forward changes no wait;
//  - a reload makes enrollment due at once and keeps whether a check ran.
// Report retries are reckoned on the wall clock by the outbox
// (reporter.h, ReportDue).
//
// Thread-safety: not thread-safe; the daemon's loop owns it.
#ifndef DRIFTWATCH_REPORT_DAEMON_SCHEDULE_H_
#define DRIFTWATCH_REPORT_DAEMON_SCHEDULE_H_

#include <cstdint>
#include <limits>
#include <random>

#include "core/host.h"
#include "report/agent_config.h"

namespace driftwatch::report {

inline constexpr int64_t kEnrollRefusedRetryNs = int64_t{600} * 1000000000;

class DaemonSchedule {
 public:
  // Borrows `host`, which must outlive the schedule; `seed` draws the jitter.
  DaemonSchedule(Host& host, uint64_t seed) : host_(host), rng_(seed) {}

  // The wait before the next scheduled check.
  int64_t NextCheckDelayNs(const DaemonConfig& config, bool baseline_missing);
  // A scheduled check ran: the next waits an interval.
  void CheckRan() { checked_ = true; }
  bool checked() const { return checked_; }

  // Whether an enrollment may be tried now.
  bool EnrollDue() const;
  // An enrollment was refused: the next try is kEnrollRefusedRetryNs later.
  void EnrollRefused();
  // The configuration was reloaded: enrollment is due at once.
  void Reloaded();

 private:
  Host& host_;
  std::mt19937_64 rng_;
  bool checked_ = false;
  int64_t enroll_not_before_ns_ = std::numeric_limits<int64_t>::min();
};

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_DAEMON_SCHEDULE_H_
