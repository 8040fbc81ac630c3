#include "core/drift.h"

#include <algorithm>
#include <array>

#include "core/hash.h"

namespace driftwatch {
namespace {

constexpr std::array<std::string_view, 4> kSeverities = {"low", "medium", "high", "critical"};
constexpr std::array<std::string_view, 7> kKinds = {"added",
                                                    "modified",
                                                    "removed",
                                                    "package-installed",
                                                    "package-removed",
                                                    "package-changed",
                                                    "package-file-modified"};

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (b(i + k) & 0x3f);
  }
  // Reject overlong forms, surrogates and values past U+10FFFF.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
  return n;
}

}  // namespace

std::string_view SeverityName(Severity s) {
  size_t i = static_cast<size_t>(s) - 1;
  return i < kSeverities.size() ? kSeverities[i] : "unknown";
}

Result<Severity> ParseSeverity(std::string_view name) {
  for (size_t i = 0; i < kSeverities.size(); ++i) {
    if (kSeverities[i] == name) return static_cast<Severity>(i + 1);
  }
  return Status::InvalidArgument("unknown severity '" + std::string(name) +
                                 "' (expected low, medium, high or critical)");
}

std::string_view DriftKindName(DriftKind k) {
  size_t i = static_cast<size_t>(k) - 1;
  return i < kKinds.size() ? kKinds[i] : "unknown";
}

Result<DriftKind> ParseDriftKind(std::string_view name) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (kKinds[i] == name) return static_cast<DriftKind>(i + 1);
  }
  return Status::InvalidArgument("unknown drift kind '" + std::string(name) + "'");
}

void EventCounts::Add(DriftKind k, Severity s, int64_t n) {
  total += n;
  kinds[std::clamp(static_cast<int>(k), 0, 7)] += n;
  severities[std::clamp(static_cast<int>(s), 0, 4)] += n;
}

void EventCounts::Add(const EventCounts& o) {
  total += o.total;
  for (int i = 0; i < 8; ++i) kinds[i] += o.kinds[i];
  for (int i = 0; i < 5; ++i) severities[i] += o.severities[i];
}

EventCounts CountEvents(const std::vector<DriftEvent>& events) {
  EventCounts c;
  for (const DriftEvent& e : events) c.Add(e.kind, e.severity);
  return c;
}

EventCounts ReportCounts(const CheckResult& r) {
  if (r.fold.totals) return *r.fold.totals;
  EventCounts c = CountEvents(r.events);
  c.Add(r.fold.folded);
  return c;
}

DriftSummary Summarize(const std::vector<DriftEvent>& events) {
  DriftSummary s;
  for (const DriftEvent& e : events) {
    switch (e.kind) {
      case DriftKind::kAdded:
        ++s.added;
        break;
      case DriftKind::kModified:
        ++s.modified;
        break;
      case DriftKind::kRemoved:
        ++s.removed;
        break;
      default:
        ++s.packages;
        break;
    }
  }
  return s;
}

// The Unicode bidirectional controls: U+061C ARABIC LETTER MARK, U+200E/F
// LEFT-TO-RIGHT / RIGHT-TO-LEFT MARK, U+202A..U+202E embeddings and
// overrides, U+2066..U+2069 isolates. `ch` is one well-formed UTF-8 sequence.
namespace {
bool IsBidiControl(std::string_view ch) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(ch[k]); };
  if (ch.size() == 2) return b(0) == 0xd8 && b(1) == 0x9c;
  if (ch.size() != 3 || b(0) != 0xe2) return false;
  if (b(1) == 0x80) return b(2) == 0x8e || b(2) == 0x8f || (b(2) >= 0xaa && b(2) <= 0xae);
  if (b(1) == 0x81) return b(2) >= 0xa6 && b(2) <= 0xa9;
  return false;
}
}  // namespace

std::string EscapePath(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
      ++i;
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      ++i;
      continue;
    }
    if (c == '\r') {
      out += "\\r";
      ++i;
      continue;
    }
    size_t n = (c < 0x20 || c == 0x7f) ? 0 : Utf8Length(raw, i);
    if (n > 1 && IsBidiControl(raw.substr(i, n))) {
      // Valid UTF-8, but it would reorder the text around it on a terminal
      // or a web page: each byte is shown as \xHH, as UnescapePath expects.
      for (size_t k = 0; k < n; ++k) out += "\\x" + HexEncode(raw.substr(i + k, 1));
      i += n;
      continue;
    }
    if (n == 0) {
      out += "\\x" + HexEncode(raw.substr(i, 1));
      ++i;
      continue;
    }
    out.append(raw.substr(i, n));
    i += n;
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

Result<std::string> UnescapePath(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 1 >= s.size()) return Status::InvalidArgument("path ends in a lone backslash");
    char e = s[++i];
    switch (e) {
      case '\\':
        out.push_back('\\');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'x': {
        if (s.size() - i < 3) return Status::InvalidArgument("truncated \\x escape in path");
        auto hex = HexDecode(s.substr(i + 1, 2));
        if (!hex.ok()) return Status::InvalidArgument("bad \\x escape in path");
        out += *hex;
        i += 2;
        break;
      }
      default:
        return Status::InvalidArgument("unknown escape in path");
    }
  }
  return out;
}

std::string PackageInventoryText(const std::vector<PackageInfo>& list) {
  std::string out;
  for (const PackageInfo& p : list) {
    out += p.manager + '\t' + p.name + '\t' + p.version + '\t' + p.arch + '\n';
  }
  return out;
}

}  // namespace driftwatch
