// Filesystem change events with the process that caused them: the seam
// between the realtime watcher (agent/realtime.h) and the kernel's fanotify
// (core/fanotify.cc, created by cli/ only, like the real Host).
//
// A source reports changes on whole filesystems (FAN_MARK_FILESYSTEM): the
// caller adds the paths it watches and the source marks the filesystems that
// hold them. Each event names the object by its absolute host path (parent
// directory + name); the `keep` filter given to Read is asked before any
// actor work is done, so events outside watched paths cost a lookup only.
//
// Gaps (events that may have been lost) are events too, with kind kGap and
// a reason: a queue overflow, a mark that could not be placed, a filesystem
// mounted or unmounted under a watched path.
//
// Thread-safety: one reader thread calls Read; Wake may be called from any
// thread.
#ifndef DRIFTWATCH_CORE_FS_EVENTS_H_
#define DRIFTWATCH_CORE_FS_EVENTS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/actor.h"
#include "core/status.h"

namespace driftwatch {

enum FsEventMask : uint32_t {
  kFsCreate = 1u << 0,
  kFsDelete = 1u << 1,
  kFsMovedFrom = 1u << 2,
  kFsMovedTo = 1u << 3,
  kFsModify = 1u << 4,
  kFsAttrib = 1u << 5,
  kFsCloseWrite = 1u << 6,
  kFsDeleteSelf = 1u << 7,
  kFsMoveSelf = 1u << 8,
};

struct FsEvent {
  enum class Kind : uint8_t { kChange, kGap };
  Kind kind = Kind::kChange;
  uint32_t mask = 0;    // FsEventMask bits (kChange)
  bool is_dir = false;  // the object is a directory
  std::string path;     // absolute host path, raw bytes (kChange)
  int64_t time_ns = 0;  // CLOCK_REALTIME when the event was read
  Actor actor;          // pid always; the rest as the source could read it
  std::string gap;      // kGap: why events may have been lost
};

// Returns whether an event on `path` (absolute host path; `is_dir` as
// above) is of interest. Called before the actor is read.
//
// The source also asks it about the directory of an event it rejected
// (is_dir true). A directory it rejects must hold nothing it would keep, at
// any depth: the source may then have the kernel stop generating events in
// that directory (an ignore mark), which saves the writers' time as well as
// the reader's. The answers must not change during the source's life (a new
// filter needs a new source). A directory moved into a kept place is
// reported and its ignore marks removed when its move is read; events in
// it between the move and that read may be missing (docs/realtime.md,
// "Limits").
using FsEventFilter = std::function<bool(std::string_view path, bool is_dir)>;

class FsEventSource {
 public:
  virtual ~FsEventSource() = default;
  // Marks the filesystem holding `path` (once per filesystem). A failure is
  // returned and also reported as a kGap event by the next Read.
  virtual Status Watch(const std::string& path) = 0;
  // Waits up to `timeout_ns` for events (0: does not wait) and appends those
  // `keep` accepts to *out, at most `max` of them. Returns the number of
  // events read from the kernel (kept or not). Events of this process
  // (getpid()) are dropped.
  virtual Result<size_t> Read(const FsEventFilter& keep, int64_t timeout_ns, size_t max,
                              std::vector<FsEvent>* out) = 0;
  // Makes a blocked Read return early (e.g. to stop).
  virtual void Wake() = 0;
};

// Whether this kernel and process can watch whole filesystems with names and
// pids (fanotify with FAN_REPORT_DFID_NAME, as root): an empty string, or
// why not ("fanotify: operation not permitted (needs CAP_SYS_ADMIN)").
std::string FsEventsUnsupportedReason();

// The real source (fanotify); kUnsupported with the reason above when the
// kernel or the process cannot.
Result<std::unique_ptr<FsEventSource>> OpenFanotifySource();

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_FS_EVENTS_H_
