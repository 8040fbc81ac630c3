#include "cli/output.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/drift_json.h"

namespace driftwatch::cli {
namespace {

std::string Octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

std::string ShortDigest(const Digest& d) {
  std::string hex = d.Hex();
  return hex.empty() ? "-" : hex.substr(0, hex.find(':') + 13);
}

std::string AttrValue(const Entry& e, uint32_t attr) {
  switch (attr) {
    case kAttrType:
      return std::string(EntryTypeName(e.type));
    case kAttrPerm:
      return Octal(e.mode);
    case kAttrUid:
      return std::to_string(e.uid);
    case kAttrGid:
      return std::to_string(e.gid);
    case kAttrSize:
      return std::to_string(e.size);
    case kAttrMtime:
      return FormatTime(e.mtime_ns);
    case kAttrCtime:
      return FormatTime(e.ctime_ns);
    case kAttrInode:
      return std::to_string(e.inode);
    case kAttrNlink:
      return std::to_string(e.nlink);
    case kAttrRdev:
      return std::to_string(e.rdev >> 8) + ":" + std::to_string(e.rdev & 0xff);
    case kAttrLink:
      return "'" + EscapePath(e.link_target) + "'";
    case kAttrHash:
      return ShortDigest(e.content);
    case kAttrXattrs:
      return e.xattrs.IsZero() ? "-" : e.xattrs.Hex().substr(0, 12);
    default:
      return "?";
  }
}

char KindLetter(DriftKind k) {
  switch (k) {
    case DriftKind::kAdded:
      return 'A';
    case DriftKind::kModified:
      return 'M';
    case DriftKind::kRemoved:
      return 'D';
    case DriftKind::kPackageInstalled:
      return 'I';
    case DriftKind::kPackageRemoved:
      return 'R';
    case DriftKind::kPackageChanged:
      return 'U';
    case DriftKind::kPackageFileModified:
      return 'P';
  }
  return '?';
}

}  // namespace

std::string FormatTime(int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / 1'000'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string FormatEvent(const DriftEvent& e) {
  std::string line(1, KindLetter(e.kind));
  line += " " + EscapePath(e.path);
  std::string detail;
  if (e.kind == DriftKind::kModified && e.old_entry && e.new_entry) {
    for (uint32_t bit = 1; bit <= kAttrXattrs; bit <<= 1) {
      if (!(e.changed & bit)) continue;
      if (!detail.empty()) detail += ", ";
      detail += std::string(AttrName(static_cast<Attr>(bit))) + " " + AttrValue(*e.old_entry, bit) +
                " -> " + AttrValue(*e.new_entry, bit);
    }
  } else if (e.kind == DriftKind::kAdded && e.new_entry) {
    detail = std::string(EntryTypeName(e.new_entry->type));
  } else if (e.kind == DriftKind::kRemoved && e.old_entry) {
    detail = std::string(EntryTypeName(e.old_entry->type));
  }
  if (!e.package.empty()) {
    if (!detail.empty()) detail += ", ";
    detail += "package " + e.package;
    if (!e.from_version.empty() || !e.to_version.empty()) {
      detail += " " + (e.from_version.empty() ? "-" : e.from_version) + " -> " +
                (e.to_version.empty() ? "-" : e.to_version);
    }
  }
  if (!e.cause.empty()) detail += " (" + e.cause + ")";
  if (!detail.empty()) line += "  " + detail;
  line += "  [" + std::string(SeverityName(e.severity)) + "]";
  return line;
}

std::string FormatContentDiff(const DriftEvent& e) {
  if (!e.diff.empty()) return e.diff;
  if (e.content_note == "binary") return "Binary files " + e.path + " and " + e.path + " differ\n";
  if (e.content_note == "redacted") return "content changed (redacted)\n";
  if (e.content_note == "not-kept") return "content changed (not kept)\n";
  return "";
}

std::string FormatSummary(const std::vector<DriftEvent>& events) {
  DriftSummary s = Summarize(events);
  std::string out = std::to_string(s.added) + " added, " + std::to_string(s.modified) +
                    " modified, " + std::to_string(s.removed) + " removed";
  if (s.packages > 0) out += ", " + std::to_string(s.packages) + " package";
  return out;
}

std::string FormatWalk(const WalkInfo& walk) {
  if (walk.journal) {
    return "walked " + std::to_string(walk.dirty_paths) +
           (walk.dirty_paths == 1 ? " dirty path" : " dirty paths") + " (realtime journal)";
  }
  if (!walk.full_reason.empty()) return "walked everything: " + walk.full_reason;
  return "";
}

Result<int64_t> ParseSince(const std::string& text, int64_t now_ns) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) && text.size() <= 8) {
    char* end = nullptr;
    long long n = std::strtoll(text.c_str(), &end, 10);
    std::string unit(end);
    int64_t scale = 0;
    if (unit == "s")
      scale = 1;
    else if (unit == "m")
      scale = 60;
    else if (unit == "h")
      scale = 3600;
    else if (unit == "d")
      scale = 86400;
    if (scale > 0 && n >= 0) return now_ns - n * scale * 1'000'000'000;
  }
  auto t = ParseRfc3339(text);
  if (!t.ok()) {
    return Status::InvalidArgument("--since: '" + text +
                                   "' is neither RFC 3339 (2026-11-01T00:00:00Z) nor a duration "
                                   "like 30m, 24h, 7d");
  }
  return *t;
}

std::string CurrentUser() {
  for (const char* var : {"SUDO_USER", "USER"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  }
  if (struct passwd* pw = getpwuid(getuid()); pw != nullptr) return pw->pw_name;
  return "uid " + std::to_string(getuid());
}

}  // namespace driftwatch::cli
