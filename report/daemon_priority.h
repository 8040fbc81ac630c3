// The daemon's scheduling priority (agent.yaml `nice:`, docs/operations.md).
//
// Thread-safety: per thread on Linux; call before any thread starts.
#ifndef DRIFTWATCH_REPORT_DAEMON_PRIORITY_H_
#define DRIFTWATCH_REPORT_DAEMON_PRIORITY_H_

#include <string>
#include <vector>

namespace driftwatch::report {

// `nice` > 0: the process's CPU nice value becomes `nice` and its I/O
// priority best-effort level 7, so that checks yield to the host's own
// work. Per thread on Linux: called before the daemon starts any thread, so
// the scanner's workers inherit both. Returns what could not be set.
std::vector<std::string> LowerPriority(int nice);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_DAEMON_PRIORITY_H_
