// The process behind a filesystem event, read from /proc (docs/realtime.md,
// "Actors"). Part of the real fanotify source (core/fanotify.cc): the reader
// makes raw OS calls and is created only by it.
//
// The text parsers are pure and never fail on odd input: a field they cannot
// find stays unknown (-1 or "").
//
// Thread-safety: the parsers are; ActorReader is not (one reader thread).
#ifndef DRIFTWATCH_CORE_PROCESS_INFO_H_
#define DRIFTWATCH_CORE_PROCESS_INFO_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/actor.h"

namespace driftwatch {

// The fields of /proc/PID/stat the reader uses.
struct ProcStat {
  std::string comm;         // field 2, without the parentheses
  char state = '?';         // field 3: R, S, D, Z, ...
  int64_t ppid = 0;         // field 4
  uint64_t start_time = 0;  // field 22, clock ticks after boot
};

// Parses /proc/PID/stat; nullopt when it is not one. The comm may hold
// spaces and parentheses: it ends at the last ')'.
std::optional<ProcStat> ParseProcStat(std::string_view text);

struct ProcStatus {
  int64_t uid = -1;   // Uid: real
  int64_t euid = -1;  // Uid: effective
  int64_t ppid = -1;  // PPid:
};

// Parses /proc/PID/status for Uid and PPid.
ProcStatus ParseProcStatus(std::string_view text);

// The cgroup v2 path ("0::/system.slice/x.service" gives
// "/system.slice/x.service"); "" when there is no v2 line.
std::string ParseCgroupV2(std::string_view text);

// /proc/PID/cmdline (NUL-separated arguments) joined by single spaces, at most
// kMaxActorCmdline bytes (cut at a byte boundary).
std::string JoinCmdline(std::string_view raw);

// /proc/PID/loginuid or sessionid: a decimal number; -1 for unset
// (4294967295) and for anything that is not a number.
int64_t ParseAuditId(std::string_view text);

// Reads Actors from /proc. Each process (pid, start time and comm, or its
// pidfd's pidfs inode) is read in full at most once a second, so a burst of
// events from one process costs one read;
// an exited process is filled from its last read (at most kExitedFillNs
// old). Both caches are bounded.
class ActorReader {
 public:
  static constexpr size_t kMaxCached = 4096;
  static constexpr int64_t kRefreshNs = 1'000'000'000;
  static constexpr int64_t kExitedFillNs = 5'000'000'000;
  static constexpr int kNoPidfd = -1;
  static constexpr int kExited = -2;

  // The Actor of `pid`. `pidfd` refers to the process that caused the
  // event, or is kNoPidfd (not known) or kExited (the kernel found it gone).
  // With a pidfd, details are kept only if the pid still was that process
  // when they were read. `exited` says the process was gone (a zombie or
  // reaped) when the event was handled; its details then are what could
  // still be read, or the last read of that pid (at most kExitedFillNs old),
  // or none. Without a pidfd the details are those of whatever process has
  // the pid now. `now_ns` is monotonic.
  Actor Read(int64_t pid, int pidfd, int64_t now_ns);

  // Full reads of /proc/PID so far (cache misses).
  uint64_t proc_reads() const { return proc_reads_; }

 private:
  struct Cached {
    Actor actor;
    uint64_t start_time = 0;
    std::string comm;
    int64_t read_ns = 0;
    uint64_t process = 0;  // pidfs inode of the process, 0 when unknown
  };
  Actor ReadProc(int64_t pid, const ProcStat& stat);
  std::string LoginName(int64_t uid);
  void Remember(int64_t pid, Cached entry);

  std::unordered_map<int64_t, Cached> by_pid_;  // the last read of each pid
  std::unordered_map<int64_t, std::string> logins_;
  uint64_t proc_reads_ = 0;
  enum class Pidfs : uint8_t { kUnknown, kYes, kNo };
  Pidfs pidfs_ = Pidfs::kUnknown;  // whether pidfds live on pidfs
};

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_PROCESS_INFO_H_
