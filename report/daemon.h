// The agent daemon: scheduled checks reported through the outbox, and
// commands from the collector, on one Boost.Asio event loop.
//
//  - at start: when not enrolled (no enrollment in the store, no token_file)
//    and the enroll file exists, enrolls with it and removes the spent token
//    file (retried at every poll while the collector cannot be reached, every
//    10 minutes when it refuses); the first check of a configuration takes
//    its baseline first when there is none ("first baseline");
//  - every `interval` (+ a random share of `jitter`): RunCheck, queue the
//    result, deliver the outbox;
//  - every `poll_interval`: retry the outbox (with backoff), poll commands
//    (`baseline` -> CreateBaseline then a check; `check-now` -> a check;
//    `accept` -> AcceptDrift of the command's paths, as `baseline accept
//    --path P...`, then a check) and acknowledge them (acknowledgements that
//    fail are retried next poll);
//  - realtime (report/daemon_realtime.h): a watcher thread whose drift is
//    posted to the loop, queued and delivered at once; checks consult and
//    commit its journal (agent/journal.h);
//  - SIGHUP reloads the configuration (a bad file keeps the old one); one
//    that comes during a check is handled after it;
//  - SIGTERM/SIGINT: the handler runs after the current step has finished
//    writing, then Run() returns 0.
// Events below `min_severity` stay in the agent's history and are not
// reported. Under systemd (core/service.h) it sends READY=1 once its loop is
// set up, STATUS= as it goes ("enrolling", "first baseline", "checked at
// T: N drift event(s)"), RELOADING=1 ... READY=1 around a reload and
// STOPPING=1 on SIGTERM/SIGINT.
// One step runs at a time, so a check and a delivery never overlap.
//
// Thread-safety: Run() on one thread; the daemon owns its event loop.
#ifndef DRIFTWATCH_REPORT_DAEMON_H_
#define DRIFTWATCH_REPORT_DAEMON_H_

#include <functional>
#include <memory>
#include <string>

#include "core/drift.h"
#include "core/host.h"
#include "report/agent_config.h"
#include "report/daemon_realtime.h"

namespace driftwatch::report {

class Daemon {
 public:
  // Files, the clock, the hostname and checks go through `host` (borrowed;
  // it must outlive the daemon). config_path is re-read on SIGHUP; when !config_required a missing
  // file means every default (LoadDaemonConfig). The signal handlers are installed here.
  // `after_check` (may be empty) runs on every check result of the root "/" before it is queued,
  // with the configuration in effect (its database and container roots), e.g. to add container
  // drift. `events` makes the source of
  // realtime drift (report/daemon_realtime.h), without it realtime is off; `container_of` names
  // the container of a process behind a change.
  Daemon(Host& host, std::string config_path, bool config_required, DaemonConfig config,
         std::function<void(const DaemonConfig&, CheckResult*)> after_check = {},
         FsEventSourceFactory events = {}, ContainerMatcher container_of = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until SIGTERM or SIGINT; returns the process exit code.
  int Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_DAEMON_H_
