// What /proc/PID/stat says about a process: whether it is a kernel thread,
// when it started (to tell a live process from a reused pid).
//
// Thread-safety: reentrant.
#ifndef DRIFTWATCH_CONTAINER_PROC_STAT_H_
#define DRIFTWATCH_CONTAINER_PROC_STAT_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/host.h"

namespace driftwatch::container {

// Field `field` (1-based, >= 3) of a /proc/PID/stat line as a number; the
// command name (field 2) may contain spaces and parentheses. Pure.
std::optional<uint64_t> ProcStatField(std::string_view text, int field);
// The process functions read /proc/PID/stat through `host`.
// True when `pid` is a kernel thread (PF_KTHREAD in field 9 of its stat).
bool IsKernelThread(Host& host, pid_t pid);
// Start time of a process in clock ticks (field 22 of /proc/PID/stat); 0
// when the process does not exist.
uint64_t ProcessStartTicks(Host& host, pid_t pid);
// True when `pid` is alive and started at `start_ticks` (not a reused pid).
bool ProcessMatches(Host& host, pid_t pid, uint64_t start_ticks);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_PROC_STAT_H_
