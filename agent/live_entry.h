// ReadLiveEntry: one path's Entry as a scan would record it now, for the
// realtime watcher (agent/realtime.h), which examines single paths instead
// of walking the tree.
//
// The entry carries the attributes of the path's rule exactly as
// agent/scanner.cc records them (the same mask, content digest and xattr
// digest), so that it compares equal to the baseline's entry when nothing
// changed. A directory's `subtree` is left zero: it is not an attribute.
//
// Returns nullopt when the path does not exist; errors (unreadable, or
// changed while it was read) are passed through. Never follows a final
// symlink.
//
// Thread-safety: uses only its arguments.
#ifndef DRIFTWATCH_AGENT_LIVE_ENTRY_H_
#define DRIFTWATCH_AGENT_LIVE_ENTRY_H_

#include <optional>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/host.h"
#include "core/status.h"
#include "rules/policy.h"

namespace driftwatch::agent {

// The directory holding a logical path: "/etc" for "/etc/hosts", "/" for "/etc".
std::string ParentOf(const std::string& logical);

Result<std::optional<Entry>> ReadLiveEntry(Host& host, const rules::Policy& policy,
                                           const std::string& root, const std::string& logical);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_LIVE_ENTRY_H_
