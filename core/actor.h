// The process behind a change the realtime watcher saw (docs/realtime.md):
// who wrote, created, removed or re-attributed a watched path.
//
// Thread-safety: plain value.
#ifndef DRIFTWATCH_CORE_ACTOR_H_
#define DRIFTWATCH_CORE_ACTOR_H_

#include <cstdint>
#include <string>

namespace driftwatch {

struct Actor {
  int64_t pid = 0;
  std::string exe;      // executable path; "" when unknown
  std::string cmdline;  // arguments joined by spaces, at most kMaxActorCmdline bytes
  std::string comm;     // the kernel's short name (/proc/PID/comm)
  int64_t uid = -1;     // real and effective user ids; -1 when unknown
  int64_t euid = -1;
  int64_t loginuid = -1;  // /proc/PID/loginuid; -1 when unset (4294967295)
  std::string login;      // user name of loginuid; "" when unknown
  int64_t session = -1;   // /proc/PID/sessionid; -1 when unset
  int64_t ppid = 0;
  std::string parent_exe;  // "" when unknown
  std::string cgroup;      // the process's cgroup v2 path, e.g. "/system.slice/x.service"
  std::string container;   // the container it ran in ("runtime:name"); "" on the host
  // The process was gone before its details could be read: only pid (and
  // whatever was read before it exited) is known.
  bool exited = false;
  friend bool operator==(const Actor&, const Actor&) = default;
};

constexpr size_t kMaxActorCmdline = 1024;

// One line for people: "/usr/bin/vim, pid 4242, uid 1000 (login alice)",
// with ", euid 0" when it differs, ", in docker:web-1" for a container and
// ", exited" when the process was gone ("pid 77, exited" when nothing else
// is known). Escaped with EscapePath where it holds paths or arguments.
std::string FormatActor(const Actor& a);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_ACTOR_H_
