// SyncHostTree: after a check's report, the host's tree goes to the collector
// (docs/wire.md "Trees"): the check's root, negotiated against the root the
// collector last confirmed (Outbox::ConfirmedTree), with the paths the rules
// mark host-specific. A realtime report or a container's check has no tree
// of the host and is not synced.
//
// A failure is the caller's warning, never the report's: the report is
// queued (and maybe delivered) before, and nothing of the outbox depends on
// the sync. Nothing is remembered unless the collector confirmed the root.
//
// Thread-safety: opens its own database handles.
#ifndef DRIFTWATCH_REPORT_HOST_TREE_H_
#define DRIFTWATCH_REPORT_HOST_TREE_H_

#include <optional>
#include <string>

#include "core/drift.h"
#include "core/host.h"
#include "core/status.h"
#include "report/outbox.h"
#include "report/tree_sync.h"
#include "rules/policy.h"

namespace driftwatch::report {

// Whether `result` carries a tree of the host to sync: a check (not
// realtime) of the host itself, with a root.
bool HasHostTree(const CheckResult& result);

// Syncs result.root from the agent store at db_path with `client` (as the
// host the client's token names); remembers the root once confirmed.
// nullopt when `result` has no host tree.
Result<std::optional<TreeSyncStats>> SyncHostTree(Host& host, const std::string& db_path,
                                                  CollectorClient& client,
                                                  const CheckResult& result,
                                                  const rules::Policy& policy);
// The same, as the host enrolled in the store (nullopt too when it is not
// enrolled).
Result<std::optional<TreeSyncStats>> SyncEnrolledHostTree(Host& host, const std::string& db_path,
                                                          const CheckResult& result,
                                                          const rules::Policy& policy);

// The same for the host of `cred` (a collector URL and agent token),
// the rules read from rules_path.
Result<std::optional<TreeSyncStats>> SyncHostTreeAs(Host& host, const std::string& db_path,
                                                    const Enrollment& cred,
                                                    const std::string& rules_path,
                                                    const CheckResult& result);

// "tree: 12 objects offered, 3 sent (1.2 KiB) in 3 requests" (", all
// objects offered again" when stats.full).
std::string TreeSyncNote(const TreeSyncStats& stats);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_HOST_TREE_H_
