// Which lines of two texts changed, decided the way GNU diff decides it
// (analyze.c and gnulib's diffseq.h): lines without a match in the other
// text are discarded as changes, Myers' O(ND) middle-snake search runs on the
// rest with diff's "too expensive" cut-off, and runs of changes are slid to
// where diff puts them. Each step picks one of several equally short edit
// scripts, so all are needed for core/text_diff.cc to print what diff prints.
//
// Work: O((N + M) * D) for D differing lines, D capped at kMaxDiffEdits
// (core/text_diff.h); memory linear in N + M; no recursion.
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_LINE_SCRIPT_H_
#define DRIFTWATCH_CORE_LINE_SCRIPT_H_

#include <cstdint>
#include <vector>

namespace driftwatch {

// One side: the equivalence class of each line (equal lines, equal
// classes, numbered from 1) and the change flags MarkChangedLines sets,
// with a false sentinel on each side so that changed[-1] and changed[n()]
// can be read.
struct ScriptLines {
  std::vector<int64_t> equivs;
  std::vector<char> changed_space;
  char* changed = nullptr;

  int64_t n() const { return static_cast<int64_t>(equivs.size()); }
  // Call once `equivs` is complete.
  void InitChanged() {
    changed_space.assign(equivs.size() + 2, 0);
    changed = changed_space.data() + 1;
  }
};

// Sets changed[i] for every deleted line of lines[0] and inserted line of
// lines[1]. `class_count` is one more than the largest class.
void MarkChangedLines(ScriptLines lines[2], int64_t class_count);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_LINE_SCRIPT_H_
