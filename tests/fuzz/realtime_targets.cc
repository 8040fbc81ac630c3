// Fuzz targets of the realtime source's parsers (see tests/fuzz/targets.h):
// the /proc files an actor is read from, which a process partly chooses (its
// comm, its arguments), and the mount table the source compares for gaps.
#include <algorithm>
#include <string>
#include <vector>

#include "core/actor.h"
#include "core/fanotify_mounts.h"
#include "core/process_info.h"
#include "tests/fuzz/targets.h"

namespace driftwatch::fuzz {

// One input is offered to every /proc parser of core/process_info.h. What
// ParseProcStat and ParseProcStatus accept, they read back the same from the
// kernel's layout; the other parsers stay within their bounds.
std::string FuzzProcessInfo(std::string_view input) {
  if (auto st = ParseProcStat(input)) {
    if (st->comm.size() > input.size()) return "proc stat: comm longer than the input";
    if (st->state == ' ' || st->state == '\t' || st->state == '\n') {
      return "proc stat: blank state";
    }
    std::string again =
        "1 (" + st->comm + ") " + std::string(1, st->state) + " " + std::to_string(st->ppid);
    for (int field = 5; field < 22; ++field) again += " 0";
    again += " " + std::to_string(st->start_time) + " 0 0\n";
    auto back = ParseProcStat(again);
    if (!back || back->comm != st->comm || back->state != st->state || back->ppid != st->ppid ||
        back->start_time != st->start_time) {
      return "proc stat: the kernel's layout of what was parsed reads back differently";
    }
  }
  const ProcStatus status = ParseProcStatus(input);
  const ProcStatus back = ParseProcStatus("Name:\tx\nUid:\t" + std::to_string(status.uid) + "\t" +
                                          std::to_string(status.euid) + "\t0\t0\nPPid:\t" +
                                          std::to_string(status.ppid) + "\n");
  if (back.uid != status.uid || back.euid != status.euid || back.ppid != status.ppid) {
    return "proc status: the kernel's layout of what was parsed reads back differently";
  }
  const std::string cgroup = ParseCgroupV2(input);
  if (cgroup.find('\n') != std::string::npos || input.find(cgroup) == std::string_view::npos) {
    return "cgroup: not a part of one line of the input";
  }
  const std::string cmdline = JoinCmdline(input);
  if (cmdline.size() > kMaxActorCmdline || cmdline.size() > input.size()) {
    return "cmdline: longer than its bound or its input";
  }
  if (cmdline.find('\0') != std::string::npos) return "cmdline: NUL byte left";
  const int64_t id = ParseAuditId(input);
  if (id < -1 || id >= 4294967295) return "audit id: out of range";
  return "";
}

// Mount points are absolute, one per line at most; a table compared with
// itself (in any order) is no gap, and every point that comes or goes under
// a watched path is one.
std::string FuzzMountPoints(std::string_view input) {
  const std::vector<std::string> points = ParseMountPoints(input);
  const size_t lines = static_cast<size_t>(std::count(input.begin(), input.end(), '\n')) + 1;
  if (points.size() > lines) return "mount points: more than one per line";
  for (const std::string& p : points) {
    if (p.empty() || p[0] != '/') return "mount points: a point that is not absolute";
    if (p.size() > input.size()) return "mount points: a point longer than the input";
  }
  // Bounded: the comparison is linear in the tables times the watched paths.
  const std::vector<std::string> watched(points.begin(),
                                         points.begin() + std::min<size_t>(points.size(), 16));
  std::vector<std::string> reversed(points.rbegin(), points.rend());
  if (!MountChangeGap(points, reversed, watched).empty()) {
    return "mount gap: the same table in another order is a gap";
  }
  if (!watched.empty()) {
    if (!MountChangeGap({}, points, watched).starts_with("filesystem mounted at /")) {
      return "mount gap: a new mount at a watched path is no gap";
    }
    if (!MountChangeGap(points, {}, watched).starts_with("filesystem unmounted from /")) {
      return "mount gap: an unmount at a watched path is no gap";
    }
  }
  return "";
}

}  // namespace driftwatch::fuzz
