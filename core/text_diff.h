// Text diffs: unified diffs as GNU `diff -u` prints them, and the test
// that tells text from binary content (docs/content.md).
//
// UnifiedDiff gives the same bytes as `diff -u --label OLD --label NEW` for
// the same two inputs: the same hunks, the same context, the same
// "\ No newline at end of file" lines; equal inputs give "". Its work is
// bounded: O((N + M) * D) time for D differing lines, with D capped at
// kMaxDiffEdits; past the cap the diff is coarser (larger hunks), but still
// applies (patch(1) turns OLD into NEW). Memory is linear in the inputs.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_TEXT_DIFF_H_
#define DRIFTWATCH_CORE_TEXT_DIFF_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace driftwatch {

inline constexpr size_t kMaxDiffEdits = 20000;

struct UnifiedDiffOptions {
  std::string old_label;  // printed after "--- "
  std::string new_label;  // printed after "+++ "
  int context = 3;        // lines of context around each change
  // 0: no cap. Otherwise the diff is cut at the last line end that keeps it
  // within max_bytes, and kDiffTruncatedMarker (core/drift.h) follows.
  size_t max_bytes = 0;
};

std::string UnifiedDiff(std::string_view old_text, std::string_view new_text,
                        const UnifiedDiffOptions& options);

// True when `data` is binary the way GNU diff decides it: a NUL byte among
// its first kBinaryProbeBytes. Such files get no text diff.
inline constexpr size_t kBinaryProbeBytes = 32 << 10;
bool LooksBinary(std::string_view data);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_TEXT_DIFF_H_
