// Text diffs: unified diffs as GNU `diff -u` prints them, and the test
// that tells text from binary content (docs/content.md).
//
// UnifiedDiff prints a shortest edit script (core/line_script.h) in the
// format of `diff -u --label OLD --label NEW`: the same hunk headers,
// context and "\ No newline at end of file" lines; equal inputs give "".
// Where one script is the shortest (the usual edit of a config file) the
// bytes are diff's; where lines repeat, diff may match other equal lines
// than these, with as many changed lines. Work is bounded: O((N + M) * C)
// for a cost cap C of at most kMaxDiffEdits; past the cap the diff is
// longer than needed, but still applies (patch(1) turns OLD into NEW).
// Memory is linear in the inputs.
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
