// Fuzz targets of kept content (see tests/fuzz/targets.h): unified diffs of
// any two texts, and blobs read back from a store that may be damaged.
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/blob_codec.h"
#include "core/drift.h"
#include "core/text_diff.h"
#include "tests/fuzz/targets.h"

namespace driftwatch::fuzz {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return lines;
}

// A strict patch(1): applies a unified diff made with any context to `old`,
// checking every context and deleted line. Empty when it does not apply.
struct Applied {
  bool ok = false;
  std::string text;
  std::string error;
};

Applied Apply(std::string_view old_text, std::string_view diff) {
  Applied r;
  std::vector<std::string_view> old_lines = Lines(old_text);
  std::vector<std::string_view> d = Lines(diff);
  if (d.size() < 2 || !d[0].starts_with("--- ") || !d[1].starts_with("+++ ")) {
    r.error = "no --- / +++ header";
    return r;
  }
  size_t next_old = 0;  // old lines copied so far
  std::string out;
  for (size_t i = 2; i < d.size();) {
    long a = 0, b = 0, c = 0, e = 0;
    std::string hdr(d[i]);
    if (std::sscanf(hdr.c_str(), "@@ -%ld,%ld +%ld,%ld @@", &a, &b, &c, &e) != 4) {
      long x = 0, y = 0;
      // Counts of 1 are left out.
      if (std::sscanf(hdr.c_str(), "@@ -%ld +%ld,%ld @@", &a, &c, &e) == 3) {
        b = 1;
      } else if (std::sscanf(hdr.c_str(), "@@ -%ld,%ld +%ld @@", &a, &b, &c) == 3) {
        e = 1;
      } else if (std::sscanf(hdr.c_str(), "@@ -%ld +%ld @@", &x, &y) == 2) {
        a = x;
        c = y;
        b = e = 1;
      } else {
        r.error = "bad hunk header: " + hdr;
        return r;
      }
    }
    size_t start = b == 0 ? static_cast<size_t>(a) : static_cast<size_t>(a - 1);
    if (start < next_old || start > old_lines.size()) {
      r.error = "hunk out of order: " + hdr;
      return r;
    }
    for (; next_old < start; ++next_old) out.append(old_lines[next_old]);
    ++i;
    long seen_old = 0, seen_new = 0;
    while (i < d.size() && !d[i].starts_with("@@")) {
      std::string_view line = d[i++];
      char mark = line[0];
      std::string_view body = line.substr(1);
      // "\ No newline at end of file": the line before ends without one.
      if (i < d.size() && d[i].starts_with("\\ ")) {
        if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
        ++i;
      }
      if (mark == ' ' || mark == '-') {
        if (next_old >= old_lines.size() || old_lines[next_old] != body) {
          r.error = "line " + std::to_string(next_old + 1) + " does not match";
          return r;
        }
        ++next_old;
        ++seen_old;
      }
      if (mark == ' ' || mark == '+') {
        out.append(body);
        ++seen_new;
      }
      if (mark != ' ' && mark != '-' && mark != '+') {
        r.error = "bad line mark";
        return r;
      }
    }
    if (seen_old != b || seen_new != e) {
      r.error = "hunk counts do not match its lines: " + hdr;
      return r;
    }
  }
  for (; next_old < old_lines.size(); ++next_old) out.append(old_lines[next_old]);
  r.ok = true;
  r.text = std::move(out);
  return r;
}

}  // namespace

// Input: one byte of options (context 0-7, a byte cap or none), then the old
// and the new text separated by the first NUL byte (texts with NUL bytes are
// binary and never diffed). Properties: equal texts give ""; otherwise the
// diff applies and gives the new text; its size is bounded by the inputs; a
// cap is honoured and marked.
std::string FuzzUnifiedDiff(std::string_view input) {
  if (input.empty()) return "";
  const unsigned char opts = static_cast<unsigned char>(input[0]);
  input.remove_prefix(1);
  size_t nul = input.find('\0');
  std::string_view old_text = input.substr(0, nul);
  std::string_view new_text = nul == std::string_view::npos ? "" : input.substr(nul + 1);
  UnifiedDiffOptions o;
  o.old_label = "a/f";
  o.new_label = "b/f";
  o.context = opts & 7;
  if (!UnifiedDiff(old_text, old_text, o).empty()) return "equal texts gave a diff";

  const std::string diff = UnifiedDiff(old_text, new_text, o);
  if (old_text == new_text) return diff.empty() ? "" : "equal texts gave a diff";
  if (diff.empty()) return "different texts gave no diff";
  // Every line of each text is printed at most once, with a one-byte mark and
  // perhaps a "\ No newline" line; hunk headers are short.
  size_t lines = Lines(old_text).size() + Lines(new_text).size();
  size_t bound = 2 * (old_text.size() + new_text.size()) + 64 * (lines + 2) + 16;
  if (diff.size() > bound) return "diff larger than its inputs allow";
  Applied a = Apply(old_text, diff);
  if (!a.ok) return "diff does not apply: " + a.error;
  if (a.text != new_text) return "diff applied does not give the new text";

  if (opts & 8) {
    UnifiedDiffOptions capped = o;
    capped.max_bytes = (opts >> 4) * 16 + 1;
    const std::string cut = UnifiedDiff(old_text, new_text, capped);
    if (diff.size() <= capped.max_bytes) {
      if (cut != diff) return "a diff within the cap was changed";
    } else {
      if (cut.size() > std::max(capped.max_bytes, kDiffTruncatedMarker.size())) {
        return "capped diff over the cap";
      }
      if (!cut.ends_with(kDiffTruncatedMarker)) return "capped diff without the marker";
      std::string_view body(cut.data(), cut.size() - kDiffTruncatedMarker.size());
      if (!diff.starts_with(body)) return "capped diff is not a prefix of the diff";
      if (!body.empty() && body.back() != '\n') return "capped diff cut inside a line";
    }
  }
  return "";
}

// Input: two bytes of cap (in units of 64 bytes), then a frame. Properties:
// DecompressBlob never crashes, never returns more than the cap, and what it
// returns compresses and decompresses back to itself.
std::string FuzzBlobCodec(std::string_view input) {
  if (input.size() < 2) return "";
  size_t max_bytes = (static_cast<unsigned char>(input[0]) |
                      static_cast<size_t>(static_cast<unsigned char>(input[1])) << 8) *
                     64;
  input.remove_prefix(2);
  Result<std::string> raw = DecompressBlob(input, max_bytes);
  if (!raw.ok()) {
    if (raw.status().message().empty()) return "error without a message";
    if (raw.status().code() != StatusCode::kCorruption &&
        raw.status().code() != StatusCode::kResourceExhausted) {
      return "unexpected error code: " + raw.status().message();
    }
    return "";
  }
  if (raw->size() > max_bytes) return "decompressed past the cap";
  Result<std::string> frame = CompressBlob(*raw);
  if (!frame.ok()) return "compress failed: " + frame.status().message();
  Result<std::string> back = DecompressBlob(*frame, raw->size());
  if (!back.ok() || *back != *raw) return "round trip changed the bytes";
  return "";
}

}  // namespace driftwatch::fuzz
