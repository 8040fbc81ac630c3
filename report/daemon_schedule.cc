#include "report/daemon_schedule.h"

#include <algorithm>

namespace driftwatch::report {

int64_t DaemonSchedule::NextCheckDelayNs(const DaemonConfig& config, bool baseline_missing) {
  std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(config.jitter_ns, 0));
  const int64_t jitter = dist(rng_);
  if (checked_) return config.interval_ns + jitter;
  // A host without its baseline yet (a fresh install) takes it at once; a
  // fleet restarted together (an upgrade) keeps the jitter.
  return baseline_missing ? 0 : jitter;
}

bool DaemonSchedule::EnrollDue() const { return host_.MonotonicNs() >= enroll_not_before_ns_; }

void DaemonSchedule::EnrollRefused() {
  enroll_not_before_ns_ = host_.MonotonicNs() + kEnrollRefusedRetryNs;
}

void DaemonSchedule::Reloaded() { enroll_not_before_ns_ = std::numeric_limits<int64_t>::min(); }

}  // namespace driftwatch::report
