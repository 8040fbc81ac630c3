// The agent daemon: scheduled checks reported through the outbox, and
// commands from the collector, on one Boost.Asio event loop.
//
//  - every `interval` (+ a random share of `jitter`): RunCheck, queue the
//    result, deliver the outbox;
//  - every `poll_interval`: retry the outbox (with backoff), poll commands
//    (`baseline` -> CreateBaseline then a check; `check-now` -> a check;
//    `accept` -> AcceptDrift of the command's paths, as `baseline accept
//    --path P...`, then a check) and acknowledge them (acknowledgements that
//    fail are retried next poll);
//  - SIGHUP reloads the configuration (a bad file keeps the old one);
//  - SIGTERM/SIGINT: the handler runs after the current step has finished
//    writing, then Run() returns 0.
// One step runs at a time, so a check and a delivery never overlap.
//
// Thread-safety: Run() on one thread; the daemon owns its event loop.
#ifndef DRIFTWATCH_AGENT_REPORT_DAEMON_H_
#define DRIFTWATCH_AGENT_REPORT_DAEMON_H_

#include <functional>
#include <memory>
#include <string>

#include "agent/report/agent_config.h"
#include "core/drift.h"

namespace driftwatch::report {

class Daemon {
 public:
  // config_path is re-read on SIGHUP. `after_check` (may be empty) runs on
  // every check result before it is queued, e.g. to add container drift.
  Daemon(std::string config_path, DaemonConfig config,
         std::function<void(CheckResult*)> after_check = {});
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

#endif  // DRIFTWATCH_AGENT_REPORT_DAEMON_H_
