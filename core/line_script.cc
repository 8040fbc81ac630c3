#include "core/line_script.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/text_diff.h"

namespace driftwatch {
namespace {

using Lin = int64_t;

// Lines [a_lo, a_hi) of the old side against [b_lo, b_hi) of the new one.
struct Box {
  Lin a_lo, a_hi, b_lo, b_hi;
};

// The diagonals a search step of `d` edits can end on in an n x m box,
// stepping by two: k = x - y for the forward search, u - v (counted from
// the end) for the backward one.
struct Diagonals {
  Lin lo, hi;
  Diagonals(Lin d, Lin n, Lin m) : lo(std::max(-d, -m)), hi(std::min(d, n)) {
    if (((lo + d) & 1) != 0) ++lo;
    if (((hi + d) & 1) != 0) --hi;
  }
  bool Has(Lin k) const { return k >= lo && k <= hi && ((k - lo) & 1) == 0; }
};

class Search {
 public:
  Search(const std::vector<Lin>& a, const std::vector<Lin>& b, Lin cap)
      : a_(a),
        b_(b),
        cap_(cap),
        reach_{std::vector<Lin>(a.size() + b.size() + 3),
               std::vector<Lin>(a.size() + b.size() + 3)} {}

  void Run(std::vector<char>* deleted, std::vector<char>* inserted) {
    std::vector<Box> todo{{0, static_cast<Lin>(a_.size()), 0, static_cast<Lin>(b_.size())}};
    while (!todo.empty()) {
      Box box = todo.back();
      todo.pop_back();
      // Equal lines at either end are on every shortest path.
      while (box.a_lo < box.a_hi && box.b_lo < box.b_hi && a_[box.a_lo] == b_[box.b_lo]) {
        ++box.a_lo;
        ++box.b_lo;
      }
      while (box.a_lo < box.a_hi && box.b_lo < box.b_hi && a_[box.a_hi - 1] == b_[box.b_hi - 1]) {
        --box.a_hi;
        --box.b_hi;
      }
      if (box.a_lo == box.a_hi || box.b_lo == box.b_hi) {
        std::fill(deleted->begin() + box.a_lo, deleted->begin() + box.a_hi, 1);
        std::fill(inserted->begin() + box.b_lo, inserted->begin() + box.b_hi, 1);
        continue;
      }
      const auto [x, y] = Split(box);
      todo.push_back({box.a_lo + x, box.a_hi, box.b_lo + y, box.b_hi});
      todo.push_back({box.a_lo, box.a_lo + x, box.b_lo, box.b_lo + y});
    }
  }

 private:
  // A point (x, y), relative to the box, that an optimal edit path through
  // it passes (or, past the cost cap, the furthest point the forward search
  // reached). Both sides differ at both ends of the box, so the point is
  // neither corner and both boxes it leaves are smaller.
  std::pair<Lin, Lin> Split(const Box& box) {
    const Lin n = box.a_hi - box.a_lo;
    const Lin m = box.b_hi - box.b_lo;
    const Lin delta = n - m;
    const bool odd = (delta & 1) != 0;
    const Lin* a = a_.data() + box.a_lo;
    const Lin* b = b_.data() + box.b_lo;
    // fwd(k): furthest x on diagonal x - y = k; bwd(k): furthest u on
    // u - v = k, with u = n - x and v = m - y. -1: not reachable.
    auto fwd = [&](Lin k) -> Lin& { return reach_[0][k + m + 1]; };
    auto bwd = [&](Lin k) -> Lin& { return reach_[1][k + m + 1]; };
    Diagonals fprev(-1, n, m);  // empty before the first step
    Diagonals bprev(-1, n, m);
    for (Lin d = 0;; ++d) {
      const Diagonals fnow(d, n, m);
      Lin best_k = fnow.lo;
      for (Lin k = fnow.lo; k <= fnow.hi; k += 2) {
        Lin x = d == 0 ? 0 : -1;
        if (fprev.Has(k + 1) && fwd(k + 1) >= 0 && fwd(k + 1) - k <= m) x = fwd(k + 1);
        if (fprev.Has(k - 1) && fwd(k - 1) >= 0 && fwd(k - 1) + 1 <= n) {
          x = std::max(x, fwd(k - 1) + 1);
        }
        if (x >= 0) {
          Lin y = x - k;
          while (x < n && y < m && a[x] == b[y]) {
            ++x;
            ++y;
          }
        }
        fwd(k) = x;
        if (x >= 0 && (fwd(best_k) < 0 || 2 * x - k > 2 * fwd(best_k) - best_k)) best_k = k;
        if (odd && x >= 0 && bprev.Has(delta - k) && bwd(delta - k) >= 0 &&
            x + bwd(delta - k) >= n) {
          return {x, x - k};
        }
      }
      fprev = fnow;
      if (d > cap_) return {fwd(best_k), fwd(best_k) - best_k};

      const Diagonals bnow(d, n, m);
      for (Lin k = bnow.lo; k <= bnow.hi; k += 2) {
        Lin u = d == 0 ? 0 : -1;
        if (bprev.Has(k + 1) && bwd(k + 1) >= 0 && bwd(k + 1) - k <= m) u = bwd(k + 1);
        if (bprev.Has(k - 1) && bwd(k - 1) >= 0 && bwd(k - 1) + 1 <= n) {
          u = std::max(u, bwd(k - 1) + 1);
        }
        if (u >= 0) {
          Lin v = u - k;
          while (u < n && v < m && a[n - 1 - u] == b[m - 1 - v]) {
            ++u;
            ++v;
          }
        }
        bwd(k) = u;
        if (!odd && u >= 0 && fprev.Has(delta - k) && fwd(delta - k) >= 0 &&
            fwd(delta - k) + u >= n) {
          return {n - u, m - (u - k)};
        }
      }
      bprev = bnow;
    }
  }

  const std::vector<Lin>& a_;
  const std::vector<Lin>& b_;
  const Lin cap_;
  std::vector<Lin> reach_[2];
};

// Slides each run of changed lines of one side (see the header), the other
// side's changes fixed.
void Slide(const std::vector<Lin>& classes, const std::vector<char>& other,
           std::vector<char>* changed) {
  // meets[c]: the other side changes lines between its unchanged lines
  // c - 1 and c, where a run of this side after c unchanged lines sits.
  std::vector<char> meets(1, 0);
  for (char o : other) {
    if (o) {
      meets.back() = 1;
    } else {
      meets.push_back(0);
    }
  }
  std::vector<char>& ch = *changed;
  const Lin n = static_cast<Lin>(ch.size());
  Lin c = 0;  // unchanged lines before i
  for (Lin i = 0; i < n;) {
    if (!ch[i]) {
      ++c;
      ++i;
      continue;
    }
    Lin s = i;
    Lin e = i;
    while (e < n && ch[e]) ++e;
    Lin met = meets[c] ? s : -1;
    while (e < n && classes[s] == classes[e]) {
      ch[s++] = 0;
      ch[e++] = 1;
      ++c;
      if (e < n && ch[e]) {
        met = -1;  // merged with the next run: it stays whole
        while (e < n && ch[e]) ++e;
      }
      if (meets[c]) met = s;
    }
    while (met >= 0 && s > met) {
      ch[--e] = 0;
      ch[--s] = 1;
      --c;
    }
    i = e;
  }
}

}  // namespace

LineScript DiffLines(const std::vector<int64_t>& old_classes,
                     const std::vector<int64_t>& new_classes) {
  const std::vector<Lin>* sides[2] = {&old_classes, &new_classes};
  LineScript script;
  Lin classes = 0;
  for (int k = 0; k < 2; ++k) {
    script.changed[k].assign(sides[k]->size(), 0);
    for (Lin c : *sides[k]) classes = std::max(classes, c + 1);
  }
  std::vector<char> present[2];
  for (int k = 0; k < 2; ++k) {
    present[k].assign(classes, 0);
    for (Lin c : *sides[k]) present[k][c] = 1;
  }
  // Lines without a match on the other side are changes whatever the path.
  std::vector<Lin> kept[2];
  std::vector<Lin> index[2];
  for (int k = 0; k < 2; ++k) {
    for (size_t i = 0; i < sides[k]->size(); ++i) {
      const Lin c = (*sides[k])[i];
      if (present[1 - k][c]) {
        kept[k].push_back(c);
        index[k].push_back(static_cast<Lin>(i));
      } else {
        script.changed[k][i] = 1;
      }
    }
  }
  const double lines = static_cast<double>(kept[0].size() + kept[1].size());
  const Lin cap =
      std::clamp<Lin>(static_cast<Lin>(4 * std::sqrt(lines)), 256, static_cast<Lin>(kMaxDiffEdits));
  std::vector<char> found[2] = {std::vector<char>(kept[0].size(), 0),
                                std::vector<char>(kept[1].size(), 0)};
  Search(kept[0], kept[1], cap).Run(&found[0], &found[1]);
  for (int k = 0; k < 2; ++k) {
    for (size_t i = 0; i < found[k].size(); ++i) {
      if (found[k][i]) script.changed[k][index[k][i]] = 1;
    }
  }
  Slide(old_classes, script.changed[1], &script.changed[0]);
  Slide(new_classes, script.changed[0], &script.changed[1]);
  return script;
}

}  // namespace driftwatch
