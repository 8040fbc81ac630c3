#include "core/line_script.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "core/text_diff.h"

namespace driftwatch {
namespace {

using Lin = int64_t;

int FloorLog2(uint64_t n) { return n == 0 ? 0 : 63 - std::countl_zero(n); }

// The middle-snake search of Myers' O(ND) algorithm with GNU's cut-off:
// past `too_expensive` edit steps the best point reached so far is taken.
class SeqCompare {
 public:
  SeqCompare(const std::vector<Lin>& x, const std::vector<Lin>& y, Lin too_expensive)
      : xv_(x), yv_(y), too_expensive_(too_expensive) {
    Lin diags = static_cast<Lin>(x.size() + y.size()) + 3;
    fdiag_.assign(diags, 0);
    bdiag_.assign(diags, 0);
    offset_ = static_cast<Lin>(y.size()) + 1;
  }

  // Marks in deleted/inserted (indexed like x and y) the lines of an edit
  // script. An explicit stack keeps the work off the call stack.
  void Run(std::vector<char>& deleted, std::vector<char>& inserted) {
    struct Job {
      Lin xoff, xlim, yoff, ylim;
      bool minimal;
    };
    std::vector<Job> stack;
    stack.push_back({0, static_cast<Lin>(xv_.size()), 0, static_cast<Lin>(yv_.size()), false});
    while (!stack.empty()) {
      Job j = stack.back();
      stack.pop_back();
      while (j.xoff < j.xlim && j.yoff < j.ylim && xv_[j.xoff] == yv_[j.yoff]) {
        ++j.xoff;
        ++j.yoff;
      }
      while (j.xoff < j.xlim && j.yoff < j.ylim && xv_[j.xlim - 1] == yv_[j.ylim - 1]) {
        --j.xlim;
        --j.ylim;
      }
      if (j.xoff == j.xlim) {
        for (Lin y = j.yoff; y < j.ylim; ++y) inserted[y] = 1;
      } else if (j.yoff == j.ylim) {
        for (Lin x = j.xoff; x < j.xlim; ++x) deleted[x] = 1;
      } else {
        Partition part = Diag(j.xoff, j.xlim, j.yoff, j.ylim, j.minimal);
        stack.push_back({part.xmid, j.xlim, part.ymid, j.ylim, part.hi_minimal});
        stack.push_back({j.xoff, part.xmid, j.yoff, part.ymid, part.lo_minimal});
      }
    }
  }

 private:
  struct Partition {
    Lin xmid = 0;
    Lin ymid = 0;
    bool lo_minimal = false;
    bool hi_minimal = false;
  };

  Lin& fd(Lin d) { return fdiag_[d + offset_]; }
  Lin& bd(Lin d) { return bdiag_[d + offset_]; }

  Partition Diag(Lin xoff, Lin xlim, Lin yoff, Lin ylim, bool find_minimal) {
    constexpr Lin kMax = INT64_MAX;
    const Lin dmin = xoff - ylim;
    const Lin dmax = xlim - yoff;
    const Lin fmid = xoff - yoff;
    const Lin bmid = xlim - ylim;
    Lin fmin = fmid, fmax = fmid;
    Lin bmin = bmid, bmax = bmid;
    const bool odd = ((fmid - bmid) & 1) != 0;
    Partition part;

    fd(fmid) = xoff;
    bd(bmid) = xlim;
    for (Lin c = 1;; ++c) {
      if (fmin > dmin) {
        fd(--fmin - 1) = -1;
      } else {
        ++fmin;
      }
      if (fmax < dmax) {
        fd(++fmax + 1) = -1;
      } else {
        --fmax;
      }
      for (Lin d = fmax; d >= fmin; d -= 2) {
        Lin tlo = fd(d - 1);
        Lin thi = fd(d + 1);
        Lin x = tlo < thi ? thi : tlo + 1;
        Lin y = x - d;
        while (x < xlim && y < ylim && xv_[x] == yv_[y]) {
          ++x;
          ++y;
        }
        fd(d) = x;
        if (odd && bmin <= d && d <= bmax && bd(d) <= x) {
          return {x, y, true, true};
        }
      }

      if (bmin > dmin) {
        bd(--bmin - 1) = kMax;
      } else {
        ++bmin;
      }
      if (bmax < dmax) {
        bd(++bmax + 1) = kMax;
      } else {
        --bmax;
      }
      for (Lin d = bmax; d >= bmin; d -= 2) {
        Lin tlo = bd(d - 1);
        Lin thi = bd(d + 1);
        Lin x = tlo < thi ? tlo : thi - 1;
        Lin y = x - d;
        while (xoff < x && yoff < y && xv_[x - 1] == yv_[y - 1]) {
          --x;
          --y;
        }
        bd(d) = x;
        if (!odd && fmin <= d && d <= fmax && x <= fd(d)) {
          return {x, y, true, true};
        }
      }

      if (find_minimal || c < too_expensive_) continue;

      // Too expensive: the forward diagonal that got furthest (max x + y)
      // or the backward one (min x + y), whichever went further.
      Lin fxybest = -1, fxbest = 0;
      for (Lin d = fmax; d >= fmin; d -= 2) {
        Lin x = std::min(fd(d), xlim);
        Lin y = x - d;
        if (ylim < y) {
          x = ylim + d;
          y = ylim;
        }
        if (fxybest < x + y) {
          fxybest = x + y;
          fxbest = x;
        }
      }
      Lin bxybest = kMax, bxbest = 0;
      for (Lin d = bmax; d >= bmin; d -= 2) {
        Lin x = std::max(xoff, bd(d));
        Lin y = x - d;
        if (y < yoff) {
          x = yoff + d;
          y = yoff;
        }
        if (x + y < bxybest) {
          bxybest = x + y;
          bxbest = x;
        }
      }
      if ((xlim + ylim) - bxybest < fxybest - (xoff + yoff)) {
        part = {fxbest, fxybest - fxbest, true, false};
      } else {
        part = {bxbest, bxybest - bxbest, false, true};
      }
      return part;
    }
  }

  const std::vector<Lin>& xv_;
  const std::vector<Lin>& yv_;
  Lin too_expensive_;
  std::vector<Lin> fdiag_;
  std::vector<Lin> bdiag_;
  Lin offset_ = 0;
};

// Lines that match nothing in the other file are changes; they are left
// out of the search. So are runs of lines that match very many lines,
// under the same rules GNU diff applies.
void DiscardConfusingLines(ScriptLines f[2], Lin equiv_max, std::vector<Lin> undiscarded[2],
                           std::vector<Lin> realindexes[2]) {
  std::vector<Lin> count[2];
  for (int k = 0; k < 2; ++k) {
    count[k].assign(equiv_max, 0);
    for (Lin e : f[k].equivs) ++count[k][e];
  }
  std::vector<char> discards[2];
  for (int k = 0; k < 2; ++k) {
    Lin end = f[k].n();
    discards[k].assign(end, 0);
    const std::vector<Lin>& counts = count[1 - k];
    Lin many = Lin{5} << (end < 64 ? 0 : (FloorLog2(end) >> 1) - 3);
    for (Lin i = 0; i < end; ++i) {
      Lin e = f[k].equivs[i];
      if (e == 0) continue;
      Lin nmatch = counts[e];
      if (nmatch == 0) {
        discards[k][i] = 1;
      } else if (nmatch > many) {
        discards[k][i] = 2;
      }
    }
  }
  for (int k = 0; k < 2; ++k) {
    Lin end = f[k].n();
    char* d = discards[k].data();
    for (Lin i = 0; i < end; ++i) {
      if (d[i] == 2) {
        d[i] = 0;
        continue;
      }
      if (d[i] == 0) continue;
      Lin provisional = 0;
      Lin j;
      for (j = i; j < end; ++j) {
        if (d[j] == 0) break;
        if (d[j] == 2) ++provisional;
      }
      while (j > i && d[j - 1] == 2) {
        d[--j] = 0;
        --provisional;
      }
      Lin length = j - i;
      if ((length >> 2) < provisional) {
        while (j > i) {
          if (d[--j] == 2) d[j] = 0;
        }
        continue;
      }
      Lin minimum = length < 4 ? 2 : (Lin{1} << ((FloorLog2(length) >> 1) - 1)) + 1;
      Lin consec = 0;
      for (j = 0; j < length; ++j) {
        if (d[i + j] != 2) {
          consec = 0;
        } else if (minimum == ++consec) {
          j -= consec;  // back to the start of the subrun, to cancel it all
        } else if (minimum < consec) {
          d[i + j] = 0;
        }
      }
      consec = 0;
      for (j = 0; j < length; ++j) {
        if (j >= 8 && d[i + j] == 1) break;
        if (d[i + j] == 2) {
          consec = 0;
          d[i + j] = 0;
        } else if (d[i + j] == 0) {
          consec = 0;
        } else {
          ++consec;
        }
        if (consec == 3) break;
      }
      i += length - 1;
      consec = 0;
      for (j = 0; j < length; ++j) {
        if (j >= 8 && d[i - j] == 1) break;
        if (d[i - j] == 2) {
          consec = 0;
          d[i - j] = 0;
        } else if (d[i - j] == 0) {
          consec = 0;
        } else {
          ++consec;
        }
        if (consec == 3) break;
      }
    }
  }
  for (int k = 0; k < 2; ++k) {
    undiscarded[k].clear();
    realindexes[k].clear();
    for (Lin i = 0; i < f[k].n(); ++i) {
      if (discards[k][i] == 0) {
        undiscarded[k].push_back(f[k].equivs[i]);
        realindexes[k].push_back(i);
      } else {
        f[k].changed[i] = 1;
      }
    }
  }
}

// Slides runs of changes over identical lines so that they merge with
// neighbouring runs and, failing that, sit as late as possible or against a
// change in the other file.
void ShiftBoundaries(ScriptLines f[2]) {
  for (int k = 0; k < 2; ++k) {
    char* changed = f[k].changed;
    const char* other_changed = f[1 - k].changed;
    const std::vector<Lin>& equivs = f[k].equivs;
    Lin i = 0;
    Lin j = 0;
    const Lin i_end = f[k].n();
    while (true) {
      while (i < i_end && !changed[i]) {
        while (other_changed[j++]) {
        }
        ++i;
      }
      if (i == i_end) break;
      Lin start = i;
      while (changed[++i]) {
      }
      while (other_changed[j]) ++j;
      Lin runlength;
      Lin corresponding;
      do {
        runlength = i - start;
        while (start != 0 && equivs[start - 1] == equivs[i - 1]) {
          changed[--start] = 1;
          changed[--i] = 0;
          while (changed[start - 1]) --start;
          while (other_changed[--j]) {
          }
        }
        corresponding = other_changed[j - 1] ? i : i_end;
        while (i != i_end && equivs[start] == equivs[i]) {
          changed[start++] = 0;
          changed[i++] = 1;
          while (changed[i]) ++i;
          while (other_changed[++j]) corresponding = i;
        }
      } while (runlength != i - start);
      while (corresponding < i) {
        changed[--start] = 1;
        changed[--i] = 0;
        while (other_changed[--j]) {
        }
      }
    }
  }
}

}  // namespace

void MarkChangedLines(ScriptLines f[2], int64_t class_count) {
  std::vector<Lin> undiscarded[2];
  std::vector<Lin> realindexes[2];
  DiscardConfusingLines(f, class_count, undiscarded, realindexes);
  // diff's cut-off: about the square root of the input size, at least 4096.
  Lin diags = static_cast<Lin>(undiscarded[0].size() + undiscarded[1].size()) + 3;
  Lin too_expensive = Lin{1} << ((FloorLog2(diags) >> 1) + 1);
  too_expensive = std::min<Lin>(std::max<Lin>(4096, too_expensive), kMaxDiffEdits);
  std::vector<char> deleted(undiscarded[0].size(), 0);
  std::vector<char> inserted(undiscarded[1].size(), 0);
  SeqCompare(undiscarded[0], undiscarded[1], too_expensive).Run(deleted, inserted);
  for (size_t x = 0; x < deleted.size(); ++x) {
    if (deleted[x]) f[0].changed[realindexes[0][x]] = 1;
  }
  for (size_t y = 0; y < inserted.size(); ++y) {
    if (inserted[y]) f[1].changed[realindexes[1][y]] = 1;
  }
  ShiftBoundaries(f);
}

}  // namespace driftwatch
