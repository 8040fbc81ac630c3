// Fitting a check result into reports a collector accepts (docs/wire.md
// "Reports over the budget"): no drift is hidden because a check found too
// much of it.
//
// FitReport first drops the events' content diffs (content "omitted"), then
// keeps every critical and high event listed (over several
// reports when they do not fit one: the head and its parts) and lists medium
// and low events while they fit; the rest are folded: counted per kind and
// severity and summarised by the common prefixes of their paths. The head's
// summary keeps the exact counts of the whole check.
//
// Work is linear in the number of events (each is serialized once to
// measure it) times a path depth bounded by kMaxPrefixDepth.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_REPORT_FOLD_H_
#define DRIFTWATCH_CORE_REPORT_FOLD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/drift.h"

namespace driftwatch {

struct ReportBudget {
  // Serialized report, envelope (report_id, host_id, sent, ...) included.
  size_t max_bytes = size_t{4} << 20;
  // Events listed in one report.
  size_t max_events = 10000;
};

// The smallest budget FitReport honours: a smaller one is raised to it.
constexpr ReportBudget kMinReportBudget{64 << 10, 100};

// Splits and folds `r` so that each report fits `budget`. result[0] is the
// head: it keeps r's other fields, and when anything was folded or split
// its fold.totals holds the exact counts of the whole check. Parts
// (result[1..]) carry the head's target, baseline, roots and times and only
// critical and high events, with fold.part = 1, 2, ... (counting on from the
// parts r already had) and fold.part_of left empty for the caller to set to
// the head's report id. A report that fits (after the caps below) comes back
// otherwise unchanged and alone.
// A head already folded (a report shrunk again) folds further: its counts,
// prefixes and part numbers carry over. Warnings are capped first, in every
// report (kMaxReportWarnings of at most kMaxWarningBytes, the last one
// saying how many more there were), and subtrees at kMaxReportSubtrees, so
// that a flood of unreadable files cannot make a report that never fits.
// Never fails; a report whose other fields still exceed the budget lists
// its critical and high events in parts and folds the rest.
std::vector<CheckResult> FitReport(CheckResult r, const ReportBudget& budget);

// At most `max` prefixes (each ending in '/') that together cover every
// path in `weighted` (a path, or an earlier prefix ending in '/', with its
// event count), as deep as `max` allows; sorted by prefix. Paths without a
// '/' are counted under "".
std::vector<PathPrefixCount> CommonPrefixes(
    const std::vector<std::pair<std::string, int64_t>>& weighted, size_t max);

constexpr int kMaxPrefixDepth = 64;
constexpr size_t kMaxReportWarnings = 100;
constexpr size_t kMaxWarningBytes = 1024;
constexpr size_t kMaxReportSubtrees = 256;

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_REPORT_FOLD_H_
