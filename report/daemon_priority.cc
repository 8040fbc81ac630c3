#include "report/daemon_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "core/status.h"

namespace driftwatch::report {

std::vector<std::string> LowerPriority(int nice) {
  std::vector<std::string> out;
  if (nice <= 0) return out;
  if (setpriority(PRIO_PROCESS, 0, nice) != 0) {
    out.push_back(ErrnoStatus("setpriority", errno).message());
  }
  constexpr int kWhoProcess = 1;       // IOPRIO_WHO_PROCESS
  constexpr int kClassBestEffort = 2;  // IOPRIO_CLASS_BE
  constexpr int kClassShift = 13;      // IOPRIO_CLASS_SHIFT
  if (syscall(SYS_ioprio_set, kWhoProcess, 0, (kClassBestEffort << kClassShift) | 7) != 0) {
    out.push_back(ErrnoStatus("ioprio_set", errno).message());
  }
  return out;
}

}  // namespace driftwatch::report
