// The daemon's realtime watcher (docs/realtime.md): an agent::Watcher on a
// thread of its own, writing the journal in the agent store, and handing
// its results to the daemon. Started (and restarted on a reload) with the
// daemon's configuration; `realtime: false`, or a kernel or process that
// cannot watch (the source's factory fails), leaves it off, and the reason
// is logged once and kept in the journal's state for `driftwatch status`.
//
// Thread-safety: Start, Stop and Sync from the daemon's loop thread; the
// result callback runs on the watcher's thread.
#ifndef DRIFTWATCH_REPORT_DAEMON_REALTIME_H_
#define DRIFTWATCH_REPORT_DAEMON_REALTIME_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "agent/journal.h"
#include "agent/realtime.h"
#include "core/drift.h"
#include "core/fs_events.h"
#include "core/host.h"
#include "report/agent_config.h"
#include "rules/policy.h"

namespace driftwatch::report {

// Makes the filesystem event source (cli/ passes OpenFanotifySource).
using FsEventSourceFactory = std::function<Result<std::unique_ptr<FsEventSource>>()>;
// The container a process ran in, from its cgroup (agent::WatcherOptions).
using ContainerMatcher = std::function<std::string(const std::string& cgroup)>;

class DaemonRealtime {
 public:
  // `log(level, message)` with the daemon's levels ("info", "warn", "error").
  DaemonRealtime(Host& host, FsEventSourceFactory factory, ContainerMatcher container_of,
                 std::function<void(CheckResult)> on_result,
                 std::function<void(const char* level, const std::string&)> log);
  ~DaemonRealtime();  // stops the watcher

  // Stops a running watcher and starts one for `config` when it asks for it.
  void Start(const DaemonConfig& config);
  void Stop();
  // For agent::RunJournaledCheck: makes the running watcher record every
  // event read so far; null when none runs.
  std::function<Status()> Sync();
  bool running() const { return watcher_ != nullptr; }

 private:
  void Off(const DaemonConfig& config, const std::string& why);

  Host& host_;
  FsEventSourceFactory factory_;
  ContainerMatcher container_of_;
  std::function<void(CheckResult)> on_result_;
  std::function<void(const char*, const std::string&)> log_;
  std::string off_logged_;  // the reason last logged for being off
  std::unique_ptr<rules::Policy> policy_;
  std::unique_ptr<FsEventSource> source_;
  std::unique_ptr<agent::Journal> journal_;
  std::unique_ptr<agent::Watcher> watcher_;
  std::thread thread_;
};

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_DAEMON_REALTIME_H_
