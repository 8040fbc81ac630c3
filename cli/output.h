// Human-readable rendering of drift events and times, shared by the CLI.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CLI_OUTPUT_H_
#define DRIFTWATCH_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/drift.h"
#include "core/status.h"

namespace driftwatch::cli {

// "2026-11-27 15:04:05 UTC"
std::string FormatTime(int64_t unix_ns);
// One event as a compact line (plus the changed values), like
// "M /etc/passwd  perm 0644 -> 0600, hash  [high]".
std::string FormatEvent(const DriftEvent& e);
// An event's content diff for `check --diff` and `history --diff`: the
// unified diff as is, or one line saying why there is none ("Binary files
// P and P differ", "content changed (redacted)", "content changed (not
// kept)"); "" when the event has neither.
std::string FormatContentDiff(const DriftEvent& e);
// "3 added, 1 modified, 0 removed" (+ ", N package" when any).
std::string FormatSummary(const std::vector<DriftEvent>& events);

// How a check walked the tree, one line for `check`: "walked 12 dirty paths
// (realtime journal)", "walked everything: REASON", or "" for an ordinary
// full walk.
std::string FormatWalk(const WalkInfo& walk);
// RFC 3339, or a duration back from now_ns like "90m", "24h", "7d".
Result<int64_t> ParseSince(const std::string& text, int64_t now_ns);
// $SUDO_USER, $USER, or the passwd name of the real uid.
std::string CurrentUser();

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_OUTPUT_H_
