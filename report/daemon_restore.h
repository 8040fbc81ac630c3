// The daemon's answer to a `restore` command from the collector
// (docs/content.md "Remote restore"): refused unless agent.yaml sets
// allow_remote_restore: true, else agent::Restore of the command's paths
// (or every drifted path), recorded in the store's restore history as
// asked by "collector" with the command's reason.
//
// Thread-safety: one call at a time per store (agent::Restore's).
#ifndef DRIFTWATCH_REPORT_DAEMON_RESTORE_H_
#define DRIFTWATCH_REPORT_DAEMON_RESTORE_H_

#include <string>

#include "agent/check.h"
#include "agent/restore.h"
#include "report/client.h"

namespace driftwatch::report {

inline constexpr const char* kRemoteRestoreOff = "allow_remote_restore is off in agent.yaml";

struct RemoteRestoreOutcome {
  bool ok = false;
  std::string detail;    // the acknowledgement's detail: a summary of the actions
  bool changed = false;  // something was written: a check should follow
};

// The options agent::Restore gets for command `c`.
agent::RestoreOptions RemoteRestoreOptions(const AgentCommand& c, const agent::CheckOptions& check);

// A one-line summary of a restore's actions (at most ~1000 bytes): how many
// of each action, and the refused paths with why.
std::string SummarizeRestore(const agent::RestoreResult& r, bool dry_run);

// Runs command `c` (kind "restore") when `allowed`; otherwise refuses it
// with kRemoteRestoreOff. ok only when every selected path was restored.
RemoteRestoreOutcome RunRemoteRestore(const AgentCommand& c, const agent::CheckOptions& check,
                                      bool allowed);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_DAEMON_RESTORE_H_
