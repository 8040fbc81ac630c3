// The daemon's part of the fleet's trees (docs/wire.md "Trees",
// docs/operations.md "Group baselines"): the host's tree after each check's
// report, and the group's baseline before a check with `baseline: group`.
//
// Thread-safety: functions open their own database handles.
#ifndef DRIFTWATCH_REPORT_DAEMON_TREES_H_
#define DRIFTWATCH_REPORT_DAEMON_TREES_H_

#include <optional>
#include <string>

#include "core/drift.h"
#include "core/host.h"
#include "core/status.h"
#include "report/agent_config.h"
#include "report/agent_metrics.h"
#include "report/outbox.h"
#include "rules/policy.h"

namespace driftwatch::report {

// A line for the daemon's log; empty text: nothing to say.
struct DaemonNote {
  bool warn = false;
  std::string text;
};

// Syncs result's tree as the host of `cred` (nothing when the result has
// no host tree) and fills the tree figures. A failure is a warning: the
// report was taken already.
DaemonNote SyncTreeAfterCheck(Host& host, const std::string& db_path, const std::string& rules_path,
                              const Enrollment& cred, const CheckResult& result,
                              AgentFigures* figures);

// `baseline: group`: fetches the group's baseline as the host of `cred`
// (report/group_baseline.h); returns its name in the store and sets
// *policy to the rules its host-specific paths come from.
Result<std::string> UseGroupBaseline(Host& host, const DaemonConfig& config,
                                     const Result<std::optional<Enrollment>>& cred,
                                     std::optional<rules::Policy>* policy, DaemonNote* note);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_DAEMON_TREES_H_
