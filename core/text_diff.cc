#include "core/text_diff.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/drift.h"
#include "core/line_script.h"

namespace driftwatch {
namespace {

using Lin = int64_t;

// The lines of a text, each with its newline; the last one may lack it
// (and is then a different line from the same text with one).
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const size_t len = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(0, len));
    text.remove_prefix(len);
  }
  return lines;
}

// One block of the edit script: `deleted` lines of the old text from
// old_line on replaced by `inserted` lines of the new one from new_line
// (0-based line numbers).
struct Block {
  Lin old_line, new_line, deleted, inserted;
};

std::vector<Block> Blocks(const LineScript& script) {
  const std::vector<char>& del = script.changed[0];
  const std::vector<char>& ins = script.changed[1];
  const Lin n0 = static_cast<Lin>(del.size());
  const Lin n1 = static_cast<Lin>(ins.size());
  std::vector<Block> blocks;
  Lin i = 0;
  Lin j = 0;
  while (i < n0 || j < n1) {
    if ((i < n0 && del[i]) || (j < n1 && ins[j])) {
      Block b{i, j, 0, 0};
      while (i < n0 && del[i]) ++i, ++b.deleted;
      while (j < n1 && ins[j]) ++j, ++b.inserted;
      blocks.push_back(b);
    } else {
      ++i;
      ++j;
    }
  }
  return blocks;
}

// "start,count" of a hunk side in the unified format: 1-based, ",count"
// left out when it is 1, and an empty side names the line before it.
std::string Range(Lin first, Lin count) {
  if (count == 0) return std::to_string(first) + ",0";
  if (count == 1) return std::to_string(first + 1);
  return std::to_string(first + 1) + "," + std::to_string(count);
}

void AppendLine(char mark, std::string_view line, std::string* out) {
  out->push_back(mark);
  out->append(line);
  if (line.back() != '\n') out->append("\n\\ No newline at end of file\n");
}

}  // namespace

bool LooksBinary(std::string_view data) {
  return data.substr(0, kBinaryProbeBytes).find('\0') != std::string_view::npos;
}

std::string UnifiedDiff(std::string_view old_text, std::string_view new_text,
                        const UnifiedDiffOptions& options) {
  if (old_text == new_text) return "";
  const std::vector<std::string_view> lines[2] = {SplitLines(old_text), SplitLines(new_text)};
  // Equal lines, equal classes.
  std::unordered_map<std::string_view, Lin> class_of;
  class_of.reserve(lines[0].size() + lines[1].size());
  std::vector<Lin> classes[2];
  for (int k = 0; k < 2; ++k) {
    classes[k].reserve(lines[k].size());
    for (std::string_view line : lines[k]) {
      classes[k].push_back(
          class_of.try_emplace(line, static_cast<Lin>(class_of.size())).first->second);
    }
  }
  const std::vector<Block> blocks = Blocks(DiffLines(classes[0], classes[1]));

  const Lin context = std::max(options.context, 0);
  const Lin n0 = static_cast<Lin>(lines[0].size());
  const Lin n1 = static_cast<Lin>(lines[1].size());
  std::string out = "--- " + options.old_label + "\n+++ " + options.new_label + "\n";
  for (size_t h = 0; h < blocks.size();) {
    if (options.max_bytes != 0 && out.size() > options.max_bytes) break;
    // A hunk takes in the blocks whose gaps its context would cover.
    size_t last = h;
    while (last + 1 < blocks.size() &&
           blocks[last + 1].old_line - (blocks[last].old_line + blocks[last].deleted) <=
               2 * context) {
      ++last;
    }
    const Lin old_first = std::max<Lin>(blocks[h].old_line - context, 0);
    const Lin new_first = std::max<Lin>(blocks[h].new_line - context, 0);
    const Lin old_end = std::min(blocks[last].old_line + blocks[last].deleted + context, n0);
    const Lin new_end = std::min(blocks[last].new_line + blocks[last].inserted + context, n1);
    out += "@@ -" + Range(old_first, old_end - old_first) + " +" +
           Range(new_first, new_end - new_first) + " @@\n";
    Lin i = old_first;
    Lin j = new_first;
    for (size_t b = h; b <= last; ++b) {
      for (; i < blocks[b].old_line; ++i, ++j) AppendLine(' ', lines[0][i], &out);
      for (Lin k = 0; k < blocks[b].deleted; ++k) AppendLine('-', lines[0][i++], &out);
      for (Lin k = 0; k < blocks[b].inserted; ++k) AppendLine('+', lines[1][j++], &out);
    }
    for (; i < old_end; ++i) AppendLine(' ', lines[0][i], &out);
    h = last + 1;
  }
  if (options.max_bytes != 0 && out.size() > options.max_bytes) {
    // Cut at the last line end that leaves room for the marker.
    const size_t room = options.max_bytes > kDiffTruncatedMarker.size()
                            ? options.max_bytes - kDiffTruncatedMarker.size()
                            : 0;
    const size_t nl = room == 0 ? std::string::npos : out.rfind('\n', room - 1);
    out.resize(nl == std::string::npos ? 0 : nl + 1);
    out.append(kDiffTruncatedMarker);
  }
  return out;
}

}  // namespace driftwatch
