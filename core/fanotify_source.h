// The fanotify implementation of FsEventSource (core/fs_events.h) with its
// counters, for the realtime status and for measuring the source.
// OpenFanotifySource() returns the same object as its interface.
//
// Thread-safety: as FsEventSource; stats() is read by the reader thread.
#ifndef DRIFTWATCH_CORE_FANOTIFY_SOURCE_H_
#define DRIFTWATCH_CORE_FANOTIFY_SOURCE_H_

#include <cstdint>
#include <memory>

#include "core/fs_events.h"

namespace driftwatch {

struct FanotifyStats {
  uint64_t events = 0;         // read from the kernel (gaps included)
  uint64_t kept = 0;           // accepted by the filter and returned
  uint64_t own = 0;            // of this process, dropped
  uint64_t unresolved = 0;     // directory gone before its handle was opened, dropped
  uint64_t handle_opens = 0;   // directory handles opened (path cache misses)
  uint64_t actor_lookups = 0;  // actors asked for (kept events)
  uint64_t proc_reads = 0;     // full reads of /proc/PID (actor cache misses)
  uint64_t gaps = 0;
  uint64_t ignore_marks = 0;    // directories the kernel was told to ignore
  uint64_t ignore_flushes = 0;  // all ignore marks removed (moves, mounts, the bound)
  bool pidfds = false;          // the kernel reports a pidfd with each event
  bool ignores = false;         // ignore marks are in use (Linux 6.0 and later)
};

class FanotifySource : public FsEventSource {
 public:
  virtual FanotifyStats stats() const = 0;
};

// As OpenFanotifySource().
Result<std::unique_ptr<FanotifySource>> OpenFanotify();

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_FANOTIFY_SOURCE_H_
