#include "core/report_fold.h"

#include <algorithm>
#include <map>

#include "core/drift_json.h"

namespace driftwatch {
namespace {

// Room kept in the head for the envelope and the "folded" object: 32
// prefixes of at most kMaxPrefixBytes raw bytes (4 times as many escaped),
// plus the counts.
constexpr size_t kMaxPrefixBytes = 256;
constexpr size_t kEnvelopeBytes = 1024;
constexpr size_t kFoldBytes = kMaxFoldPrefixes * (4 * kMaxPrefixBytes + 40) + 1024;

// The directory part of a path or prefix ("/a/b/c" -> "/a/b/"), cut back to
// a '/' within kMaxPrefixBytes.
std::string DirOf(const std::string& s) {
  size_t slash = s.rfind('/');
  if (slash == std::string::npos) return "";
  std::string dir = s.substr(0, slash + 1);
  if (dir.size() > kMaxPrefixBytes) {
    size_t cut = dir.rfind('/', kMaxPrefixBytes - 1);
    dir.resize(cut == std::string::npos ? 0 : cut + 1);
  }
  return dir;
}

// The first `k` components of dir, each ending in '/'.
std::string_view Truncate(std::string_view dir, int k) {
  size_t pos = 0;
  for (int i = 0; i < k; ++i) {
    size_t slash = dir.find('/', pos);
    if (slash == std::string_view::npos) return dir;
    pos = slash + 1;
  }
  return dir.substr(0, pos);
}

// The longest common prefix of a and b that ends with '/' (or "").
std::string_view CommonDir(std::string_view a, std::string_view b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  size_t slash = a.substr(0, n).rfind('/');
  return slash == std::string_view::npos ? std::string_view() : a.substr(0, slash + 1);
}

size_t Serialized(const DriftEvent& e) { return DriftEventToJson(e).serialize().size() + 1; }

bool Mandatory(const DriftEvent& e) { return e.severity >= Severity::kHigh; }

// A part of `head`: its identity and times, no inventory, no events yet.
CheckResult PartOf(const CheckResult& head, int64_t number) {
  CheckResult p;
  p.target = head.target;
  p.baseline = head.baseline;
  p.baseline_revision = head.baseline_revision;
  p.baseline_root = head.baseline_root;
  p.root = head.root;
  p.started_ns = head.started_ns;
  p.finished_ns = head.finished_ns;
  p.source = head.source;  // the parts of a realtime report are realtime too
  p.fold.part = number;
  return p;
}

// Caps r's warnings and subtrees (report_fold.h).
void CapLists(CheckResult* r) {
  std::vector<std::string>& w = r->warnings;
  for (std::string& x : w) {
    if (x.size() <= kMaxWarningBytes) continue;
    x.resize(kMaxWarningBytes);
    // Cut at a character boundary: drop a partial UTF-8 sequence.
    size_t end = x.size();
    while (end > 0 && (static_cast<unsigned char>(x[end - 1]) & 0xc0) == 0x80) --end;
    if (end > 0 && static_cast<unsigned char>(x[end - 1]) >= 0xc0) --end;
    x.resize(end);
    x += "...";
  }
  if (w.size() > kMaxReportWarnings) {
    const size_t total = w.size();
    w.resize(kMaxReportWarnings - 1);
    w.push_back(std::to_string(total - w.size()) + " more warnings not listed (" +
                std::to_string(total) + " in all)");
  }
  if (r->subtrees.size() > kMaxReportSubtrees) r->subtrees.resize(kMaxReportSubtrees);
}

}  // namespace

std::vector<PathPrefixCount> CommonPrefixes(
    const std::vector<std::pair<std::string, int64_t>>& weighted, size_t max) {
  std::map<std::string, int64_t> dirs;
  for (const auto& [path, n] : weighted) dirs[DirOf(path)] += n;
  if (dirs.empty()) return {};
  // The deepest truncation whose distinct prefixes still number at most max.
  int best = 0;
  for (int k = 1; k <= kMaxPrefixDepth; ++k) {
    std::map<std::string_view, int> distinct;
    bool deeper = false;
    for (const auto& [dir, n] : dirs) {
      std::string_view t = Truncate(dir, k);
      if (t.size() < dir.size()) deeper = true;
      distinct[t];
      if (distinct.size() > max) break;
    }
    if (distinct.size() > max) break;
    best = k;
    if (!deeper) break;
  }
  // Each group narrowed to what its members share.
  std::map<std::string_view, std::pair<std::string_view, int64_t>> groups;
  for (const auto& [dir, n] : dirs) {
    std::string_view key = Truncate(dir, best);
    auto [it, fresh] = groups.try_emplace(key, std::string_view(dir), 0);
    if (!fresh) it->second.first = CommonDir(it->second.first, dir);
    it->second.second += n;
  }
  std::vector<PathPrefixCount> out;
  for (const auto& [key, g] : groups) out.push_back({std::string(g.first), g.second});
  std::sort(out.begin(), out.end(),
            [](const PathPrefixCount& a, const PathPrefixCount& b) { return a.prefix < b.prefix; });
  return out;
}

std::vector<CheckResult> FitReport(CheckResult r, const ReportBudget& asked) {
  ReportBudget budget;
  budget.max_bytes = std::max(asked.max_bytes, kMinReportBudget.max_bytes);
  budget.max_events = std::max(asked.max_events, kMinReportBudget.max_events);
  CapLists(&r);

  std::vector<size_t> sizes;
  sizes.reserve(r.events.size());
  size_t event_bytes = 0;
  for (const DriftEvent& e : r.events) {
    sizes.push_back(Serialized(e));
    event_bytes += sizes.back();
  }
  std::vector<DriftEvent> events = std::move(r.events);
  r.events.clear();
  const size_t overhead = CheckResultToJson(r).serialize().size() + kEnvelopeBytes;
  auto fits = [&] {
    return events.size() <= budget.max_events && overhead + event_bytes <= budget.max_bytes;
  };
  if (fits()) {
    r.events = std::move(events);
    return {std::move(r)};
  }
  // Content diffs go first: an event without its diff is still listed, and
  // the agent's history keeps the diff (`history --diff`).
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].diff.empty()) continue;
    events[i].diff.clear();
    events[i].content_note = "omitted";
    event_bytes -= sizes[i];
    sizes[i] = Serialized(events[i]);
    event_bytes += sizes[i];
  }
  if (fits()) {
    r.events = std::move(events);
    return {std::move(r)};
  }

  const EventCounts totals = [&] {
    if (r.fold.totals) return *r.fold.totals;
    EventCounts c = CountEvents(events);
    c.Add(r.fold.folded);
    return c;
  }();
  // The head lists critical and high events first, then medium and low ones
  // while they fit; listed events keep the check's order.
  const size_t head_room =
      budget.max_bytes > overhead + kFoldBytes ? budget.max_bytes - overhead - kFoldBytes : 0;
  std::vector<char> in_head(events.size(), 0);
  size_t used = 0, listed = 0;
  std::vector<size_t> overflow;  // critical and high events that did not fit
  for (size_t i = 0; i < events.size(); ++i) {
    if (!Mandatory(events[i])) continue;
    if (listed < budget.max_events && used + sizes[i] <= head_room) {
      in_head[i] = 1;
      used += sizes[i];
      ++listed;
    } else {
      overflow.push_back(i);
    }
  }
  for (size_t i = 0; i < events.size() && overflow.empty(); ++i) {
    if (Mandatory(events[i]) || listed >= budget.max_events) continue;
    if (used + sizes[i] > head_room) continue;
    in_head[i] = 1;
    used += sizes[i];
    ++listed;
  }

  std::vector<std::pair<std::string, int64_t>> folded_paths;
  for (const PathPrefixCount& p : r.fold.prefixes) folded_paths.emplace_back(p.prefix, p.events);
  int64_t next_part = std::max<int64_t>(r.fold.parts, 1);
  std::vector<CheckResult> parts;
  const size_t part_overhead =
      CheckResultToJson(PartOf(r, 1)).serialize().size() + kEnvelopeBytes + 64;
  const size_t part_room = budget.max_bytes > part_overhead ? budget.max_bytes - part_overhead : 0;
  size_t part_used = 0;
  for (size_t i : overflow) {
    if (parts.empty() || parts.back().events.size() >= budget.max_events ||
        (part_used + sizes[i] > part_room && !parts.back().events.empty())) {
      parts.push_back(PartOf(r, next_part++));
      part_used = 0;
    }
    part_used += sizes[i];
    parts.back().events.push_back(std::move(events[i]));
  }
  std::vector<char> in_part(events.size(), 0);
  for (size_t i : overflow) in_part[i] = 1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (in_head[i]) {
      r.events.push_back(std::move(events[i]));
    } else if (!in_part[i]) {
      r.fold.folded.Add(events[i].kind, events[i].severity);
      folded_paths.emplace_back(events[i].path, 1);
    }
  }
  r.fold.prefixes = CommonPrefixes(folded_paths, kMaxFoldPrefixes);
  if (!parts.empty()) r.fold.parts = next_part;
  r.fold.totals = totals;
  std::vector<CheckResult> out;
  out.reserve(parts.size() + 1);
  out.push_back(std::move(r));
  for (CheckResult& p : parts) out.push_back(std::move(p));
  return out;
}

}  // namespace driftwatch
