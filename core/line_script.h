// Which lines of two texts changed: a shortest edit script of two line
// sequences (core/text_diff.cc prints it as a unified diff).
//
// Lines are compared by class (equal lines, equal classes). The search is
// Myers' linear-space O(ND) algorithm ("An O(ND) Difference Algorithm and
// Its Variations", 1986, section 4b): the middle snake of an optimal path
// splits the problem in two, and the halves are solved the same way, from
// an explicit stack. Lines whose class does not occur on the other side are
// changes outright and stay out of the search. The cost of each search is
// capped (about four times the square root of the lines, at most
// kMaxDiffEdits): past the cap a half is split at the point its forward
// search got furthest, so the script stays valid but may not be the
// shortest. Finally each run of changed lines slides, over lines equal to
// its own, to the latest place it can take, or to the latest one where it
// meets a change of the other side (a replacement reads as one block).
//
// Work: O((N + M) * C) for the cap C; memory linear in N + M; no recursion.
// Thread-safety: pure function.
#ifndef DRIFTWATCH_CORE_LINE_SCRIPT_H_
#define DRIFTWATCH_CORE_LINE_SCRIPT_H_

#include <cstdint>
#include <vector>

namespace driftwatch {

// classes[k][i]: the class of line i of side k (0 = old, 1 = new), >= 0.
// Returns, for each side, one flag per line: 1 for a deleted (side 0) or
// inserted (side 1) line. The unchanged lines of both sides, in order, are
// pairwise equal.
struct LineScript {
  std::vector<char> changed[2];
};
LineScript DiffLines(const std::vector<int64_t>& old_classes,
                     const std::vector<int64_t>& new_classes);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_LINE_SCRIPT_H_
