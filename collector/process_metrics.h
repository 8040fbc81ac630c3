// The process_* metrics of the Prometheus client libraries, read from Linux's
// /proc: CPU time, resident and virtual memory, open and maximum file
// descriptors, start time. The parsers are pure (table-tested); only
// ReadProcessFigures touches the system, through a Host.
//
// Thread-safety: pure functions; ReadProcessFigures as safe as its Host.
#ifndef DRIFTWATCH_COLLECTOR_PROCESS_METRICS_H_
#define DRIFTWATCH_COLLECTOR_PROCESS_METRICS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "collector/metrics.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::collector {

// The fields of /proc/PID/stat this uses (proc(5)): utime, stime and
// starttime in clock ticks, vsize in bytes, rss in pages.
struct ProcStat {
  int64_t utime_ticks = 0;
  int64_t stime_ticks = 0;
  int64_t start_ticks = 0;  // since boot
  int64_t vsize_bytes = 0;
  int64_t rss_pages = 0;
};
// kInvalidArgument when the text is not a stat line (the command name, in
// parentheses, may hold spaces and parentheses: fields follow the last ')').
Result<ProcStat> ParseProcStat(std::string_view text);
// The "btime" line of /proc/stat: boot time in seconds since the epoch.
Result<int64_t> ParseBootTime(std::string_view proc_stat);
// The soft "Max open files" of /proc/PID/limits; nullopt for "unlimited".
Result<std::optional<int64_t>> ParseMaxOpenFiles(std::string_view limits);

struct ProcessFigures {
  double cpu_seconds = 0;
  int64_t resident_bytes = 0;
  int64_t virtual_bytes = 0;
  int64_t open_fds = 0;
  std::optional<int64_t> max_fds;
  double start_time_seconds = 0;
};
// Figures from the parsed files; tick and page sizes as sysconf gives them.
ProcessFigures ComputeProcessFigures(const ProcStat& stat, int64_t boot_time, int64_t ticks_per_s,
                                     int64_t page_bytes, int64_t open_fds,
                                     std::optional<int64_t> max_fds);

// This process's figures, through `host` (/proc/self/...).
Result<ProcessFigures> ReadProcessFigures(Host& host);

// The process_* families.
void RenderProcessMetrics(const ProcessFigures& f, MetricsText* out);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PROCESS_METRICS_H_
