#include "collector/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <vector>

namespace driftwatch::collector {
namespace {

constexpr size_t kMaxProcFile = 64 << 10;

bool ToInt(std::string_view s, int64_t* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

Result<ProcStat> ParseProcStat(std::string_view text) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos || text.find('(') == std::string_view::npos) {
    return Status::InvalidArgument("/proc stat: expected 'PID (COMMAND) STATE ...'");
  }
  // Field 3 (state) is words[0]; utime is field 14, stime 15, starttime 22,
  // vsize 23, rss 24 (proc(5)).
  const std::vector<std::string_view> w = Words(text.substr(close + 1));
  if (w.size() < 22) {
    return Status::InvalidArgument("/proc stat: expected at least 24 fields, found " +
                                   std::to_string(w.size() + 2));
  }
  ProcStat s;
  const std::pair<size_t, int64_t*> fields[] = {{11, &s.utime_ticks},
                                                {12, &s.stime_ticks},
                                                {19, &s.start_ticks},
                                                {20, &s.vsize_bytes},
                                                {21, &s.rss_pages}};
  for (const auto& [i, out] : fields) {
    if (!ToInt(w[i], out)) {
      return Status::InvalidArgument("/proc stat: field " + std::to_string(i + 3) +
                                     ": expected a number, not '" + std::string(w[i]) + "'");
    }
  }
  return s;
}

Result<int64_t> ParseBootTime(std::string_view proc_stat) {
  size_t at = 0;
  while (at < proc_stat.size()) {
    size_t end = proc_stat.find('\n', at);
    if (end == std::string_view::npos) end = proc_stat.size();
    const std::vector<std::string_view> w = Words(proc_stat.substr(at, end - at));
    int64_t v = 0;
    if (w.size() == 2 && w[0] == "btime" && ToInt(w[1], &v)) return v;
    at = end + 1;
  }
  return Status::InvalidArgument("/proc/stat: no 'btime SECONDS' line");
}

Result<std::optional<int64_t>> ParseMaxOpenFiles(std::string_view limits) {
  constexpr std::string_view kKey = "Max open files";
  size_t at = 0;
  while (at < limits.size()) {
    size_t end = limits.find('\n', at);
    if (end == std::string_view::npos) end = limits.size();
    const std::string_view line = limits.substr(at, end - at);
    if (line.rfind(kKey, 0) == 0) {
      const std::vector<std::string_view> w = Words(line.substr(kKey.size()));
      if (!w.empty() && w[0] == "unlimited") return std::optional<int64_t>();
      int64_t v = 0;
      if (!w.empty() && ToInt(w[0], &v)) return std::optional<int64_t>(v);
      return Status::InvalidArgument("/proc limits: 'Max open files': expected a number");
    }
    at = end + 1;
  }
  return Status::InvalidArgument("/proc limits: no 'Max open files' line");
}

ProcessFigures ComputeProcessFigures(const ProcStat& stat, int64_t boot_time, int64_t ticks_per_s,
                                     int64_t page_bytes, int64_t open_fds,
                                     std::optional<int64_t> max_fds) {
  ProcessFigures f;
  const double ticks = static_cast<double>(ticks_per_s > 0 ? ticks_per_s : 100);
  f.cpu_seconds = static_cast<double>(stat.utime_ticks + stat.stime_ticks) / ticks;
  f.resident_bytes = stat.rss_pages * page_bytes;
  f.virtual_bytes = stat.vsize_bytes;
  f.open_fds = open_fds;
  f.max_fds = max_fds;
  f.start_time_seconds =
      static_cast<double>(boot_time) + static_cast<double>(stat.start_ticks) / ticks;
  return f;
}

Result<ProcessFigures> ReadProcessFigures(Host& host) {
  DW_ASSIGN_OR_RETURN(std::string stat_text, host.ReadFile("/proc/self/stat", kMaxProcFile));
  DW_ASSIGN_OR_RETURN(ProcStat stat, ParseProcStat(stat_text));
  DW_ASSIGN_OR_RETURN(std::string proc_stat, host.ReadFile("/proc/stat", 1 << 20));
  DW_ASSIGN_OR_RETURN(int64_t boot, ParseBootTime(proc_stat));
  DW_ASSIGN_OR_RETURN(std::string limits, host.ReadFile("/proc/self/limits", kMaxProcFile));
  DW_ASSIGN_OR_RETURN(std::optional<int64_t> max_fds, ParseMaxOpenFiles(limits));
  DW_ASSIGN_OR_RETURN(UniqueFd dir, host.OpenAt(AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY));
  DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> fds, host.ReadDir(dir.get()));
  // The listing's own descriptor is not one of the process's.
  const int64_t open_fds = static_cast<int64_t>(fds.size()) - 1;
  return ComputeProcessFigures(stat, boot, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), open_fds,
                               max_fds);
}

void RenderProcessMetrics(const ProcessFigures& f, MetricsText* out) {
  out->Family("process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds.");
  out->Sample("process_cpu_seconds_total", {}, f.cpu_seconds);
  out->Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out->Sample("process_resident_memory_bytes", {}, f.resident_bytes);
  out->Family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  out->Sample("process_virtual_memory_bytes", {}, f.virtual_bytes);
  out->Family("process_open_fds", "gauge", "Number of open file descriptors.");
  out->Sample("process_open_fds", {}, f.open_fds);
  if (f.max_fds) {
    out->Family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    out->Sample("process_max_fds", {}, *f.max_fds);
  }
  out->Family("process_start_time_seconds", "gauge",
              "Start time of the process since the epoch in seconds.");
  out->Sample("process_start_time_seconds", {}, f.start_time_seconds);
}

}  // namespace driftwatch::collector
