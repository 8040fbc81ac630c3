// The fleet's gauges on /metrics, by group (docs/operations.md "Metrics"):
// hosts by state (silent: no report within its window, store.h IsSilent;
// else drifted: its latest report had drift; else ok), open drift by
// severity (the drift of each host's latest report) and the age of the
// group's newest report.
//
// Cost: one ListHosts per FleetMetricsCache::kMaxAgeNs at most, whatever the
// scrape rate; O(hosts) work; at most kMaxGroups groups get series of their
// own, the others are summed under the group "(other)".
//
// Thread-safety: FleetFigures and RenderFleetMetrics are pure;
// FleetMetricsCache is safe from any thread.
#ifndef DRIFTWATCH_COLLECTOR_FLEET_METRICS_H_
#define DRIFTWATCH_COLLECTOR_FLEET_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "collector/metrics.h"
#include "collector/store.h"

namespace driftwatch::collector {

inline constexpr size_t kMaxGroups = 1000;

struct GroupFigures {
  int64_t ok = 0;
  int64_t drifted = 0;
  int64_t silent = 0;
  std::array<int64_t, 4> open_drift{};  // low, medium, high, critical
  int64_t newest_report_ns = 0;         // 0 when no host of the group reported
};

std::map<std::string, GroupFigures> FleetFigures(const std::vector<HostRecord>& hosts,
                                                 int64_t now_ns, int64_t silent_after_ns);
void RenderFleetMetrics(const std::map<std::string, GroupFigures>& groups, int64_t now_ns,
                        MetricsText* out);

// The fleet families: the figures of the last read of the store, read
// again when older than kMaxAgeNs; report ages are computed at each call.
class FleetMetricsCache {
 public:
  static constexpr int64_t kMaxAgeNs = int64_t{10} * 1000000000;
  // The families' text; a store failure is returned (and not cached).
  Result<std::string> Get(FleetStore& store, int64_t now_ns, int64_t silent_after_ns);

 private:
  std::mutex mu_;  // guards the fields below; held while the store is read
  int64_t at_ns_ = 0;
  std::map<std::string, GroupFigures> figures_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_FLEET_METRICS_H_
