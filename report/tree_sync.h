// SyncTree: sends the host's snapshot tree to the collector, object by
// object, only what it lacks (docs/wire.md "Trees").
//
// Objects are the tree objects of the agent store (SerializeTree bytes,
// core/entry.h), content-addressed: the collector keeps one copy of each
// across the fleet. Negotiation is have/want, as git's fetch: the agent
// offers ids, the collector answers those it wants, the agent uploads them
// children first, then sets the root as the host's tree.
//
// What is offered: the objects of `root` that are not objects of
// `last_confirmed` (the root the collector last confirmed for this host),
// found by descending only where the two trees' subtree ids differ, so an
// unchanged host offers nothing and one changed file offers the objects on
// its path. When the collector refuses the upload or the root for lack of
// objects (409: it dropped them, or `last_confirmed` is from another
// collector), SyncTree offers every object of the tree once (stats.full).
// An unreadable `last_confirmed` (pruned from the store) counts as none.
//
// Errors: the collector's (client.h), or a tree that cannot be read from
// `trees`. Memory: the ids of the offered objects and one upload batch.
//
// Thread-safety: none of its own; `client` is used by this thread only.
#ifndef DRIFTWATCH_REPORT_TREE_SYNC_H_
#define DRIFTWATCH_REPORT_TREE_SYNC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/status.h"
#include "core/tree_io.h"
#include "report/client.h"
#include "rules/policy.h"

namespace driftwatch::report {

struct TreeSyncStats {
  int64_t offered = 0;       // ids offered (over all offers)
  int64_t sent_objects = 0;  // objects uploaded
  int64_t sent_bytes = 0;    // request bodies sent (offers, uploads, the root)
  int64_t rounds = 0;        // requests made
  bool full = false;         // fell back to offering every object
};

// Object data per upload request at most (before base64), well inside the
// collector's default max_body_bytes (8 MiB).
inline constexpr size_t kTreeUploadBatchBytes = size_t{2} << 20;

Result<TreeSyncStats> SyncTree(CollectorClient& client, TreeSource& trees, const Hash128& root,
                               const std::optional<Hash128>& last_confirmed,
                               const std::vector<std::string>& host_specific);

// The paths of the tree `root` that `policy` marks host-specific
// (Policy::PeerIgnored), sorted; below a host-specific directory nothing
// more is listed. Only directories where PeerIgnoredBelow holds are read.
// At most kMaxHostSpecificPaths; more is kResourceExhausted.
Result<std::vector<std::string>> HostSpecificPaths(TreeSource& trees, const Hash128& root,
                                                   const rules::Policy& policy);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_TREE_SYNC_H_
