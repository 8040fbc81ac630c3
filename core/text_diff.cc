#include "core/text_diff.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/drift.h"
#include "core/line_script.h"

// The steps and their order are those of GNU diff (io.c and context.c here,
// analyze.c in core/line_script.cc): identical ends trimmed but for `context`
// lines of horizon, lines put in equivalence classes, the changed lines
// marked, hunks printed. Trimming changes which of the equally short scripts
// is found (it bounds how far runs of changes slide), so it is needed too.

namespace driftwatch {
namespace {

using Lin = int64_t;

constexpr std::string_view kNoNewline = "\\ No newline at end of file\n";

// A text as GNU diff sees it: a trailing newline appended when missing.
class Text {
 public:
  explicit Text(std::string_view raw)
      : raw_(raw), missing_newline_(!raw.empty() && raw.back() != '\n') {}
  Lin size() const { return static_cast<Lin>(raw_.size()) + (missing_newline_ ? 1 : 0); }
  char at(Lin i) const { return i < static_cast<Lin>(raw_.size()) ? raw_[i] : '\n'; }
  bool missing_newline() const { return missing_newline_; }
  std::string_view raw() const { return raw_; }

 private:
  std::string_view raw_;
  bool missing_newline_;
};

// Splits `raw` into lines, each with its newline when it has one.
std::vector<std::string_view> SplitLines(std::string_view raw) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < raw.size()) {
    size_t nl = raw.find('\n', start);
    size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
    lines.push_back(raw.substr(start, end - start));
    start = end;
  }
  return lines;
}

// Byte offsets of the region that is compared line by line: identical
// prefix and suffix lines are left out, but for `horizon` lines on each side.
struct Region {
  Lin begin = 0;  // same offset in both texts (the prefix is identical)
  Lin end[2] = {0, 0};
};

Region FindIdenticalEnds(const Text& t0, const Text& t1, Lin horizon) {
  Lin n0 = t0.size();
  Lin n1 = t1.size();
  Lin p = 0;
  Lin lim = std::min(n0, n1);
  while (p < lim && t0.at(p) == t1.at(p)) ++p;
  // A missing newline is not part of the prefix.
  if ((n0 - t0.missing_newline() < p) != (n1 - t1.missing_newline() < p)) --p;
  Lin hor = horizon;
  while (p != 0 && (t0.at(p - 1) != '\n' || hor-- != 0)) --p;

  Region r;
  r.begin = p;
  r.end[0] = n0;
  r.end[1] = n1;
  if (t0.missing_newline() != t1.missing_newline()) return r;

  Lin p0 = n0;
  Lin p1 = n1;
  Lin beg0 = r.begin + (n0 < n1 ? 0 : n0 - n1);
  while (p0 != beg0) {
    --p0;
    --p1;
    if (t0.at(p0) != t1.at(p1)) {
      ++p0;
      ++p1;
      beg0 = p0;
      break;
    }
  }
  bool at_line_beginning = (p0 == 0 || t0.at(p0 - 1) == '\n') && (p1 == 0 || t1.at(p1 - 1) == '\n');
  Lin skip = horizon + (at_line_beginning ? 0 : 1);
  while (skip-- > 0 && p0 != n0) {
    while (t0.at(p0++) != '\n') {
    }
  }
  r.end[0] = p0;
  r.end[1] = p1 + (p0 - beg0);
  return r;
}

// Numbers lines by content: equal lines get the same class, from 1 on.
// Open addressing, sized once: one allocation however many lines there are.
class LineClasses {
 public:
  explicit LineClasses(size_t lines) {
    size_t cap = 16;
    while (cap < 2 * lines) cap <<= 1;
    slots_.resize(cap);
  }
  Lin ClassOf(std::string_view line) {
    size_t h = std::hash<std::string_view>()(line);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.id == 0) {
        s = {h, next_, line};
        return next_++;
      }
      if (s.hash == h && s.line == line) return s.id;
    }
  }
  Lin count() const { return next_; }  // one more than the last class

 private:
  struct Slot {
    size_t hash = 0;
    Lin id = 0;
    std::string_view line;
  };
  std::vector<Slot> slots_;
  Lin next_ = 1;
};

struct Change {
  Lin line0, line1;  // first line of each file in the change (whole-file index)
  Lin deleted, inserted;
};

// Appends to `out` until it is longer than `limit` (0: no limit); says
// whether it may go on.
class Output {
 public:
  explicit Output(size_t limit) : limit_(limit) {}
  bool full() const { return limit_ != 0 && out_.size() > limit_; }
  void Append(std::string_view s) { out_.append(s); }
  void Line(char mark, std::string_view line) {
    out_.push_back(mark);
    out_.append(line);
    if (line.empty() || line.back() != '\n') {
      out_.push_back('\n');
      out_.append(kNoNewline);
    }
  }
  std::string& str() { return out_; }

 private:
  size_t limit_;
  std::string out_;
};

void AppendRange(Output& out, Lin a, Lin b) {
  Lin ta = a + 1;
  Lin tb = b + 1;
  if (tb < ta) {
    out.Append(std::to_string(tb) + ",0");
  } else if (tb == ta) {
    out.Append(std::to_string(tb));
  } else {
    out.Append(std::to_string(ta) + "," + std::to_string(tb - ta + 1));
  }
}

// Cuts `out` at the last line end that leaves room for the marker.
std::string Truncate(std::string out, size_t max_bytes) {
  size_t room =
      max_bytes > kDiffTruncatedMarker.size() ? max_bytes - kDiffTruncatedMarker.size() : 0;
  size_t cut = 0;
  if (room > 0) {
    size_t nl = out.rfind('\n', room - 1);
    cut = nl == std::string::npos ? 0 : nl + 1;
  }
  out.resize(cut);
  out.append(kDiffTruncatedMarker);
  return out;
}

}  // namespace

bool LooksBinary(std::string_view data) {
  std::string_view probe = data.substr(0, std::min(data.size(), kBinaryProbeBytes));
  return probe.find('\0') != std::string_view::npos;
}

std::string UnifiedDiff(std::string_view old_text, std::string_view new_text,
                        const UnifiedDiffOptions& options) {
  if (old_text == new_text) return "";
  const Lin context = std::max(options.context, 0);
  const Text text[2] = {Text(old_text), Text(new_text)};
  const Region region = FindIdenticalEnds(text[0], text[1], context);

  // Lines of each whole text, and the range of them in the compared region.
  std::vector<std::string_view> lines[2] = {SplitLines(old_text), SplitLines(new_text)};
  Lin prefix_lines = std::count(old_text.begin(), old_text.begin() + region.begin, '\n');
  ScriptLines f[2];
  LineClasses classes(lines[0].size() + lines[1].size() - 2 * prefix_lines);
  for (int k = 0; k < 2; ++k) {
    Lin pos = region.begin;
    for (Lin li = prefix_lines; pos < region.end[k]; ++li) {
      std::string_view line = lines[k][li];
      f[k].equivs.push_back(classes.ClassOf(line));
      // An incomplete last line counts its appended newline, as in Text.
      pos += static_cast<Lin>(line.size()) + (line.back() == '\n' ? 0 : 1);
    }
    f[k].InitChanged();
  }

  MarkChangedLines(f, classes.count());

  std::vector<Change> changes;
  for (Lin i0 = 0, i1 = 0; i0 < f[0].n() || i1 < f[1].n(); ++i0, ++i1) {
    if (f[0].changed[i0] || f[1].changed[i1]) {
      Lin l0 = i0, l1 = i1;
      while (f[0].changed[i0]) ++i0;
      while (f[1].changed[i1]) ++i1;
      changes.push_back({l0 + prefix_lines, l1 + prefix_lines, i0 - l0, i1 - l1});
    }
  }
  if (changes.empty()) return "";

  Output out(options.max_bytes);
  out.Append("--- " + options.old_label + "\n+++ " + options.new_label + "\n");
  const Lin n0 = static_cast<Lin>(lines[0].size());
  const Lin n1 = static_cast<Lin>(lines[1].size());
  for (size_t h = 0; h < changes.size() && !out.full();) {
    size_t last = h;
    while (last + 1 < changes.size() &&
           changes[last + 1].line0 - (changes[last].line0 + changes[last].deleted) <
               2 * context + 1) {
      ++last;
    }
    Lin first0 = std::max<Lin>(changes[h].line0 - context, 0);
    Lin first1 = std::max<Lin>(changes[h].line1 - context, 0);
    Lin last0 = std::min(changes[last].line0 + changes[last].deleted - 1 + context, n0 - 1);
    Lin last1 = std::min(changes[last].line1 + changes[last].inserted - 1 + context, n1 - 1);
    out.Append("@@ -");
    AppendRange(out, first0, last0);
    out.Append(" +");
    AppendRange(out, first1, last1);
    out.Append(" @@\n");
    size_t next = h;
    Lin i = first0;
    Lin j = first1;
    while ((i <= last0 || j <= last1) && !out.full()) {
      if (next > last || i < changes[next].line0) {
        out.Line(' ', lines[0][i++]);
        ++j;
        continue;
      }
      for (Lin k = 0; k < changes[next].deleted; ++k) out.Line('-', lines[0][i++]);
      for (Lin k = 0; k < changes[next].inserted; ++k) out.Line('+', lines[1][j++]);
      ++next;
    }
    h = last + 1;
  }
  if (options.max_bytes != 0 && out.str().size() > options.max_bytes) {
    return Truncate(std::move(out.str()), options.max_bytes);
  }
  return std::move(out.str());
}

}  // namespace driftwatch
