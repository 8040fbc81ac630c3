// Content diffs of drift events (docs/content.md): DriftEvent::diff and
// content_note from the kept copies of a file's content.
//
// Thread-safety: no state of its own; the ContentStore is thread-safe.
#ifndef DRIFTWATCH_AGENT_CONTENT_DIFF_H_
#define DRIFTWATCH_AGENT_CONTENT_DIFF_H_

#include <optional>
#include <string>
#include <vector>

#include "agent/content.h"
#include "core/drift.h"
#include "core/status.h"
#include "rules/policy.h"

namespace driftwatch::agent {

// For each event of a regular file whose content changed (added, removed,
// or modified with the hash attribute) and whose rule keeps content: sets
// `diff` from the blobs of old_entry->content and new_entry->content (an
// added file diffs against nothing, a removed one against nothing), capped
// at kMaxEventDiffBytes, or `content_note`. Store read errors leave
// "not-kept" and are returned as warnings, never failures.
std::vector<std::string> AddContentDiffs(ContentStore& store, const rules::Policy& policy,
                                         std::vector<DriftEvent>* events);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_CONTENT_DIFF_H_
