#include "collector/api_json.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "core/drift_json.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

bool NameChars(const std::string& s) {
  if (s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

value CountsJson(const int64_t* counts, int from, int to, bool kinds) {
  value o = value::object();
  for (int i = from; i <= to; ++i) {
    std::string name(kinds ? DriftKindName(static_cast<DriftKind>(i))
                           : SeverityName(static_cast<Severity>(i)));
    o[name] = value::number(counts[i]);
  }
  return o;
}

}  // namespace

web::json::value ReportSummaryJson(const CheckResult& r, size_t warnings_total,
                                   size_t subtrees_total) {
  const EventCounts c = ReportCounts(r);
  value o = value::object();
  o["events"] = value::number(c.total);
  o["kinds"] = CountsJson(c.kinds, 1, 7, true);
  o["severities"] = CountsJson(c.severities, 1, 4, false);
  o["listed"] = value::number(static_cast<int64_t>(r.events.size()));
  o["folded"] = value::number(r.fold.folded.total);
  value prefixes = value::array(r.fold.prefixes.size());
  for (size_t i = 0; i < r.fold.prefixes.size(); ++i) {
    value p = value::object();
    p["prefix"] = value(EscapePath(r.fold.prefixes[i].prefix));
    p["events"] = value::number(r.fold.prefixes[i].events);
    prefixes[i] = p;
  }
  o["folded_prefixes"] = prefixes;
  o["parts"] = value::number(std::max<int64_t>(r.fold.parts, 1));
  if (r.fold.IsPart()) {
    o["part_of"] = value(r.fold.part_of);
    o["part"] = value::number(r.fold.part);
  }
  value w = value::object();
  w["stored"] = value::number(static_cast<int64_t>(r.warnings.size()));
  w["total"] = value::number(static_cast<int64_t>(warnings_total));
  o["warnings"] = w;
  value st = value::object();
  st["stored"] = value::number(static_cast<int64_t>(r.subtrees.size()));
  st["total"] = value::number(static_cast<int64_t>(subtrees_total));
  o["subtrees"] = st;
  return o;
}

web::json::value HostToJson(const HostRecord& h, int64_t now_ns, int64_t silent_after_ns,
                            bool detail) {
  value o = value::object();
  o["id"] = value(h.id);
  o["group"] = value(h.group);
  o["target"] = value(h.target);
  o["agent_version"] = value(h.agent_version);
  o["enrolled"] = TimeOrNull(h.enrolled_ns);
  o["last_seen"] = TimeOrNull(h.last_seen_ns);
  o["last_report"] = TimeOrNull(h.last_report_ns);
  o["silent"] = value::boolean(IsSilent(h, now_ns, silent_after_ns));
  o["interval_seconds"] =
      h.interval_ns > 0 ? value::number(h.interval_ns / 1000000000) : value::null();
  o["drifted"] = value::boolean(h.last_report_events > 0);
  o["reports"] = value::number(h.reports);
  o["events"] = value::number(h.events);
  o["last_report_events"] = value::number(h.last_report_events);
  value b = value::object();
  b["name"] = value(h.baseline);
  b["revision"] = value::number(h.baseline_revision);
  b["since"] = TimeOrNull(h.baseline_since_ns);
  b["age_seconds"] = h.baseline_since_ns == 0
                         ? value::null()
                         : value::number((now_ns - h.baseline_since_ns) / 1000000000);
  o["baseline"] = b;
  o["root"] = value(h.root.IsZero() ? "" : h.root.Hex());
  if (detail) {
    o["subtrees"] = SubtreesToJson(h.subtrees);
  } else {
    o["subtrees_count"] = value::number(static_cast<int64_t>(h.subtrees.size()));
  }
  value summary = value::null();
  if (!h.last_summary_json.empty()) {
    std::error_code ec;
    summary = value::parse(h.last_summary_json, ec);
    if (ec || !summary.is_object()) {
      summary = value::null();  // written by this collector; never expected
    } else if (!detail && summary.has_field("folded_prefixes")) {
      summary.erase("folded_prefixes");
    }
  }
  o["last_report_summary"] = summary;
  o["integrity_alerts"] = value::number(h.open_integrity_alerts);
  value refused = value::object();
  refused["count"] = value::number(h.reports_refused);
  refused["last"] = TimeOrNull(h.last_refused_ns);
  refused["reason"] = h.last_refused_reason.empty() ? value::null() : value(h.last_refused_reason);
  o["reports_refused"] = refused;
  return o;
}

std::string ListedEventJson(const DriftEvent& e) {
  if (e.diff.empty()) return DriftEventToJson(e).serialize();
  DriftEvent listed = e;
  listed.diff.clear();
  value j = DriftEventToJson(listed);
  j["has_diff"] = value::boolean(true);
  return j.serialize();
}

web::json::value EventToJson(const EventRecord& e) {
  value o;
  try {
    o = value::parse(e.event_json);
  } catch (const std::exception&) {
    o = value::object();  // stored by this collector; never expected
  }
  if (!o.has_boolean_field("has_diff")) o["has_diff"] = value::boolean(false);
  o["id"] = value::number(e.id);
  o["host"] = value(e.host_id);
  o["report_id"] = value(e.report_id);
  o["detected"] = value(FormatRfc3339Nanos(e.detected_ns));
  o["received"] = value(FormatRfc3339Nanos(e.received_ns));
  return o;
}

web::json::value CommandToJson(const CommandRecord& c) {
  value o = value::object();
  o["id"] = value::number(c.id);
  o["host"] = value(c.host_id);
  o["command"] = value(c.kind);
  o["created"] = TimeOrNull(c.created_ns);
  o["handed_out"] = TimeOrNull(c.handed_out_ns);
  o["acknowledged"] = TimeOrNull(c.acked_ns);
  if (c.kind == "accept") {
    value paths = value::array(c.paths.size());
    for (size_t i = 0; i < c.paths.size(); ++i) paths[i] = value(EscapePath(c.paths[i]));
    o["paths"] = paths;
  }
  if (c.kind == "restore") {
    value paths = value::array(c.paths.size());
    for (size_t i = 0; i < c.paths.size(); ++i) paths[i] = value(EscapePath(c.paths[i]));
    o["paths"] = paths;
    o["all"] = value::boolean(c.all);
    o["remove_added"] = value::boolean(c.remove_added);
    o["dry_run"] = value::boolean(c.dry_run);
    o["reason"] = value(c.reason);
  }
  if (c.acked_ns != 0) {
    o["ok"] = value::boolean(c.ok);
    o["detail"] = value(c.detail);
  }
  return o;
}

std::string EncodeCursor(const EventCursor& c) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "c2.%c%c.%016llx.%llx", c.newest_first ? 'd' : 'a',
                c.before ? 'p' : 'n',
                static_cast<unsigned long long>(static_cast<uint64_t>(c.key.detected_ns) ^
                                                (uint64_t{1} << 63)),
                static_cast<unsigned long long>(c.key.id));
  return buf;
}

namespace {

// Up to 16 lower-case hex digits; false for anything else.
bool ParseHex(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

Result<EventCursor> DecodeCursor(const std::string& cursor) {
  const Status bad = Status::InvalidArgument(
      "cursor: not a cursor returned by this API (use the next_cursor or prev_cursor of a page)");
  // "c2." + 2 flags + "." + 16 digits + "." + 1..16 digits.
  if (cursor.size() < 24 || cursor.size() > 39 || cursor.rfind("c2.", 0) != 0 || cursor[5] != '.' ||
      cursor[22] != '.') {
    return bad;
  }
  EventCursor c;
  if (cursor[3] != 'd' && cursor[3] != 'a') return bad;
  if (cursor[4] != 'n' && cursor[4] != 'p') return bad;
  c.newest_first = cursor[3] == 'd';
  c.before = cursor[4] == 'p';
  const std::string_view text(cursor);
  uint64_t detected = 0, id = 0;
  if (!ParseHex(text.substr(6, 16), &detected) || !ParseHex(text.substr(23), &id)) return bad;
  // Ids above INT64_MAX are refused.
  if (id > static_cast<uint64_t>(INT64_MAX)) return bad;
  c.key.detected_ns = static_cast<int64_t>(detected ^ (uint64_t{1} << 63));
  c.key.id = static_cast<int64_t>(id);
  return c;
}

bool ValidHostId(const std::string& id) { return !id.empty() && NameChars(id); }
bool ValidGroup(const std::string& group) { return NameChars(group); }

web::json::value GroupBaselineJson(const GroupBaseline& b) {
  web::json::value o = web::json::value::object();
  o["group"] = web::json::value(b.group);
  o["revision"] = web::json::value::number(b.revision);
  o["root"] = web::json::value(b.root.Hex());
  o["source"] = web::json::value(b.source);
  o["by"] = web::json::value(b.by);
  o["why"] = web::json::value(b.why);
  o["created"] = web::json::value(FormatRfc3339Nanos(b.created_ns));
  return o;
}

}  // namespace driftwatch::collector
