#include <algorithm>
#include <array>
#include <tuple>

#include "core/chain_json.h"
#include "core/drift_json.h"
#include "core/json_fields.h"

namespace driftwatch {
namespace {

using web::json::value;
using namespace json_fields;  // NOLINT: the codec's field readers

constexpr size_t kMaxInventoryContainers = 10000;
constexpr size_t kMaxInventoryPackages = 200000;

// The inventory fields of a report (docs/wire.md): interval_seconds,
// containers, packages. Each is optional.
Status InventoryFromJson(const value& v, CheckResult* r) {
  const std::string top;
  uint64_t interval = 0;
  DW_RETURN_IF_ERROR(GetUint64(v, "interval_seconds", top, false, &interval));
  if (interval > 366ULL * 86400) return TypeError("interval_seconds", "at most a year of seconds");
  r->interval_ns = static_cast<int64_t>(interval) * 1000000000;
  if (const value* c = Find(v, "containers")) {
    if (!c->is_array()) return TypeError("containers", "an array");
    if (c->size() > kMaxInventoryContainers) {
      return TypeError("containers",
                       "at most " + std::to_string(kMaxInventoryContainers) + " containers");
    }
    std::vector<ContainerInfo> list;
    size_t i = 0;
    for (const value& x : c->as_array()) {
      const std::string f = "containers[" + std::to_string(i++) + "]";
      DW_ASSIGN_OR_RETURN(ContainerInfo ci, ContainerInfoFromJson(x, f));
      list.push_back(std::move(ci));
    }
    r->containers = std::move(list);
  }
  if (const value* p = Find(v, "packages")) {
    if (!p->is_object()) return TypeError("packages", "an object");
    PackageInventory inv;
    std::string hex;
    DW_RETURN_IF_ERROR(GetString(*p, "digest", "packages", true, &hex));
    auto d = Hash128::FromHex(hex);
    if (!d.ok()) return TypeError("packages.digest", "32 hex digits");
    inv.digest = *d;
    uint64_t count = 0;
    DW_RETURN_IF_ERROR(GetUint64(*p, "count", "packages", false, &count));
    if (const value* l = Find(*p, "list")) {
      if (!l->is_array()) return TypeError("packages.list", "an array");
      if (l->size() > kMaxInventoryPackages) {
        return TypeError("packages.list",
                         "at most " + std::to_string(kMaxInventoryPackages) + " packages");
      }
      inv.full = true;
      size_t i = 0;
      for (const value& x : l->as_array()) {
        const std::string f = "packages.list[" + std::to_string(i++) + "]";
        DW_ASSIGN_OR_RETURN(PackageInfo pk, PackageInfoFromJson(x, f));
        inv.list.push_back(std::move(pk));
      }
      if (HashBytes(PackageInventoryText(inv.list)) != inv.digest) {
        return Status::InvalidArgument("packages.digest: does not match packages.list");
      }
      count = inv.list.size();
    }
    inv.count = static_cast<int64_t>(std::min<uint64_t>(count, INT64_MAX));
    r->packages = std::move(inv);
  }
  return Status::Ok();
}

constexpr int64_t kMaxCount = int64_t{1} << 40;

value CountsObject(const int64_t* counts, int from, int to, bool kinds) {
  value o = value::object();
  for (int i = from; i <= to; ++i) {
    if (counts[i] == 0) continue;
    std::string name(kinds ? DriftKindName(static_cast<DriftKind>(i))
                           : SeverityName(static_cast<Severity>(i)));
    o[name] = value::number(counts[i]);
  }
  return o;
}

value KindsJson(const EventCounts& c) { return CountsObject(c.kinds, 1, 7, true); }
value SeveritiesJson(const EventCounts& c) { return CountsObject(c.severities, 1, 4, false); }

// {"added": n, ...} or {"critical": n, ...} into counts[]; the sum goes to *sum.
Status CountsFromJson(const value& o, const std::string& field, bool kinds, int64_t* counts,
                      int64_t* sum) {
  if (!o.is_object()) return TypeError(field, "an object of counts");
  *sum = 0;
  for (const auto& [name, n] : o.as_object()) {
    int index = 0;
    if (kinds) {
      auto k = ParseDriftKind(name);
      if (!k.ok()) return TypeError(field + "." + name, "a drift kind name");
      index = static_cast<int>(*k);
    } else {
      auto sv = ParseSeverity(name);
      if (!sv.ok()) return TypeError(field + "." + name, "a severity name");
      index = static_cast<int>(*sv);
    }
    if (!n.is_number() || !n.as_number().is_int64() || n.as_number().to_int64() < 0 ||
        n.as_number().to_int64() > kMaxCount) {
      return TypeError(field + "." + name, "a count below 2^40");
    }
    counts[index] = n.as_number().to_int64();
    *sum += counts[index];
  }
  return Status::Ok();
}

// "kinds" and "severities" of `o` (both required, same sum) as counts.
Status EventCountsFromJson(const value& o, const std::string& field, EventCounts* out) {
  const value* k = Find(o, "kinds");
  const value* sv = Find(o, "severities");
  if (k == nullptr) return Status::InvalidArgument(field + ".kinds: missing");
  if (sv == nullptr) return Status::InvalidArgument(field + ".severities: missing");
  int64_t by_kind = 0, by_severity = 0;
  DW_RETURN_IF_ERROR(CountsFromJson(*k, field + ".kinds", true, out->kinds, &by_kind));
  DW_RETURN_IF_ERROR(
      CountsFromJson(*sv, field + ".severities", false, out->severities, &by_severity));
  if (by_kind != by_severity) {
    return Status::InvalidArgument(field + ": kinds and severities count different totals");
  }
  out->total = by_kind;
  return Status::Ok();
}

// The fold of a report over the budget (docs/wire.md "Reports over the
// budget"): "folded", "parts", "part_of"/"part", and the summary's exact
// totals of a folded or split check.
Status FoldFromJson(const value& v, CheckResult* r) {
  ReportFold& f = r->fold;
  if (const value* fo = Find(v, "folded")) {
    if (!fo->is_object()) return TypeError("folded", "an object");
    DW_RETURN_IF_ERROR(EventCountsFromJson(*fo, "folded", &f.folded));
    uint64_t events = 0;
    DW_RETURN_IF_ERROR(GetUint64(*fo, "events", "folded", true, &events));
    if (static_cast<int64_t>(events) != f.folded.total) {
      return Status::InvalidArgument("folded.events: does not match folded.kinds");
    }
    if (const value* p = Find(*fo, "prefixes")) {
      if (!p->is_array()) return TypeError("folded.prefixes", "an array");
      if (p->size() > kMaxFoldPrefixes) {
        return TypeError("folded.prefixes",
                         "at most " + std::to_string(kMaxFoldPrefixes) + " prefixes");
      }
      size_t i = 0;
      for (const value& x : p->as_array()) {
        const std::string pf = "folded.prefixes[" + std::to_string(i++) + "]";
        if (!x.is_object()) return TypeError(pf, "an object");
        PathPrefixCount pc;
        DW_RETURN_IF_ERROR(GetPath(x, "prefix", pf, true, &pc.prefix));
        uint64_t n = 0;
        DW_RETURN_IF_ERROR(GetUint64(x, "events", pf, true, &n));
        if (n > static_cast<uint64_t>(f.folded.total)) {
          return TypeError(pf + ".events", "at most folded.events");
        }
        pc.events = static_cast<int64_t>(n);
        f.prefixes.push_back(std::move(pc));
      }
    }
  }
  uint64_t parts = 0;
  DW_RETURN_IF_ERROR(GetUint64(v, "parts", "", false, &parts));
  if (parts > 100000) return TypeError("parts", "at most 100000");
  f.parts = static_cast<int64_t>(parts);
  DW_RETURN_IF_ERROR(GetString(v, "part_of", "", false, &f.part_of));
  if (!f.part_of.empty()) {
    uint64_t part = 0;
    DW_RETURN_IF_ERROR(GetUint64(v, "part", "", true, &part));
    if (part == 0 || part > 100000) return TypeError("part", "an integer from 1 to 100000");
    f.part = static_cast<int64_t>(part);
  }
  const value* sum = Find(v, "summary");
  if (sum != nullptr && sum->is_object() && Find(*sum, "kinds") != nullptr &&
      (f.folded.total > 0 || f.parts > 1)) {
    EventCounts totals;
    DW_RETURN_IF_ERROR(EventCountsFromJson(*sum, "summary", &totals));
    // The totals cover at least what this report lists and folds.
    EventCounts here = CountEvents(r->events);
    here.Add(f.folded);
    for (int i = 0; i < 8; ++i) {
      if (totals.kinds[i] < here.kinds[i]) {
        return Status::InvalidArgument("summary.kinds: fewer events than the report holds");
      }
    }
    for (int i = 0; i < 5; ++i) {
      if (totals.severities[i] < here.severities[i]) {
        return Status::InvalidArgument("summary.severities: fewer events than the report holds");
      }
    }
    f.totals = totals;
  }
  return Status::Ok();
}

constexpr size_t kMaxFullReason = 1024;

// "source" ("realtime" or absent) and "walk" (docs/wire.md).
Status SourceAndWalkFromJson(const value& v, CheckResult* r) {
  const std::string top;
  DW_RETURN_IF_ERROR(GetString(v, "source", top, false, &r->source));
  if (!r->source.empty() && r->source != "realtime") {
    return TypeError("source", "\"realtime\" or absent (a check)");
  }
  if (const value* w = Find(v, "walk")) {
    if (!w->is_object()) return TypeError("walk", "an object");
    DW_RETURN_IF_ERROR(GetBool(*w, "journal", "walk", false, &r->walk.journal));
    uint64_t dirty = 0;
    DW_RETURN_IF_ERROR(GetUint64(*w, "dirty_paths", "walk", false, &dirty));
    if (dirty > static_cast<uint64_t>(kMaxCount)) {
      return TypeError("walk.dirty_paths", "a count below 2^40");
    }
    r->walk.dirty_paths = static_cast<int64_t>(dirty);
    DW_RETURN_IF_ERROR(GetString(*w, "full_reason", "walk", false, &r->walk.full_reason));
    if (r->walk.full_reason.size() > kMaxFullReason) {
      return TypeError("walk.full_reason", "at most " + std::to_string(kMaxFullReason) + " bytes");
    }
  }
  return Status::Ok();
}

}  // namespace

web::json::value StringsToJson(const std::vector<std::string>& items) {
  value arr = value::array(items.size());
  for (size_t i = 0; i < items.size(); ++i) arr[i] = value::string(items[i]);
  return arr;
}

web::json::value PackageInfoToJson(const PackageInfo& p) {
  value x = value::object();
  x["manager"] = value::string(p.manager);
  x["name"] = value::string(p.name);
  x["version"] = value::string(p.version);
  x["arch"] = value::string(p.arch);
  return x;
}

Result<PackageInfo> PackageInfoFromJson(const web::json::value& v, const std::string& field) {
  if (!v.is_object()) return TypeError(field, "an object");
  PackageInfo p;
  DW_RETURN_IF_ERROR(GetString(v, "manager", field, true, &p.manager));
  DW_RETURN_IF_ERROR(GetString(v, "name", field, true, &p.name));
  DW_RETURN_IF_ERROR(GetString(v, "version", field, false, &p.version));
  DW_RETURN_IF_ERROR(GetString(v, "arch", field, false, &p.arch));
  return p;
}

web::json::value ContainerInfoToJson(const ContainerInfo& c) {
  value x = value::object();
  x["name"] = value::string(c.name);
  x["id"] = value::string(c.id);
  x["runtime"] = value::string(c.runtime);
  x["image"] = value::string(c.image);
  x["image_digest"] = value::string(c.image_digest);
  x["drift_known"] = value::boolean(c.drift_known);
  x["events"] = value::number(c.events);
  if (!c.image_id.empty()) x["image_id"] = value::string(c.image_id);
  if (!c.image_tree.empty()) x["image_tree"] = value::string(c.image_tree);
  if (!c.labels.empty()) {
    value labels = value::object();
    for (const auto& [k, v] : c.labels) labels[k] = value::string(v);
    x["labels"] = labels;
  }
  if (c.started_ns != 0) x["started"] = value::string(FormatRfc3339Nanos(c.started_ns));
  if (c.pid != 0) x["pid"] = value::number(c.pid);
  if (!c.excluded.empty()) {
    std::vector<value> ex;
    for (const std::string& p : c.excluded) ex.push_back(value::string(EscapePath(p)));
    x["excluded"] = value::array(ex);
  }
  if (!c.note.empty()) x["note"] = value::string(c.note);
  return x;
}

namespace {

Status ContainerIdentityFromJson(const value& v, const std::string& field, ContainerInfo* c) {
  DW_RETURN_IF_ERROR(GetString(v, "image_id", field, false, &c->image_id));
  DW_RETURN_IF_ERROR(GetString(v, "image_tree", field, false, &c->image_tree));
  if (const value* labels = Find(v, "labels")) {
    const std::string lf = Join(field, "labels");
    if (!labels->is_object()) return TypeError(lf, "an object");
    if (labels->size() > kMaxContainerLabels) {
      return Status::InvalidArgument(lf + ": more than " + std::to_string(kMaxContainerLabels) +
                                     " labels");
    }
    for (const auto& [k, lv] : labels->as_object()) {
      if (!lv.is_string()) return TypeError(Join(lf, k), "a string");
      if (k.size() > kMaxContainerLabelBytes || lv.as_string().size() > kMaxContainerLabelBytes) {
        return Status::InvalidArgument(lf + ": a label over " +
                                       std::to_string(kMaxContainerLabelBytes) + " bytes");
      }
      c->labels.emplace_back(k, lv.as_string());
    }
    std::sort(c->labels.begin(), c->labels.end());
  }
  DW_RETURN_IF_ERROR(GetOptionalTime(v, "started", field, &c->started_ns));
  DW_RETURN_IF_ERROR(GetInt64(v, "pid", field, false, &c->pid));
  if (const value* ex = Find(v, "excluded")) {
    const std::string ef = Join(field, "excluded");
    if (!ex->is_array()) return TypeError(ef, "an array");
    if (ex->size() > kMaxContainerExcluded) {
      return Status::InvalidArgument(ef + ": more than " + std::to_string(kMaxContainerExcluded) +
                                     " paths");
    }
    for (const value& p : ex->as_array()) {
      if (!p.is_string()) return TypeError(ef, "an array of strings");
      DW_ASSIGN_OR_RETURN(std::string raw, UnescapePath(p.as_string()));
      c->excluded.push_back(std::move(raw));
    }
  }
  DW_RETURN_IF_ERROR(GetString(v, "note", field, false, &c->note));
  if (c->note.size() > kMaxContainerNoteBytes) {
    return Status::InvalidArgument(Join(field, "note") + ": over " +
                                   std::to_string(kMaxContainerNoteBytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

Result<ContainerInfo> ContainerInfoFromJson(const web::json::value& v, const std::string& field) {
  if (!v.is_object()) return TypeError(field, "an object");
  ContainerInfo c;
  DW_RETURN_IF_ERROR(GetString(v, "name", field, true, &c.name));
  DW_RETURN_IF_ERROR(GetString(v, "id", field, false, &c.id));
  DW_RETURN_IF_ERROR(GetString(v, "runtime", field, false, &c.runtime));
  DW_RETURN_IF_ERROR(GetString(v, "image", field, false, &c.image));
  DW_RETURN_IF_ERROR(GetString(v, "image_digest", field, false, &c.image_digest));
  DW_RETURN_IF_ERROR(GetBool(v, "drift_known", field, false, &c.drift_known));
  uint64_t events = 0;
  DW_RETURN_IF_ERROR(GetUint64(v, "events", field, false, &events));
  c.events = static_cast<int64_t>(std::min<uint64_t>(events, INT64_MAX));
  DW_RETURN_IF_ERROR(ContainerIdentityFromJson(v, field, &c));
  return c;
}

web::json::value ScanStatsToJson(const ScanStats& stats) {
  value st = value::object();
  st["files"] = value::number(stats.files);
  st["dirs"] = value::number(stats.dirs);
  st["others"] = value::number(stats.others);
  st["files_hashed"] = value::number(stats.files_hashed);
  st["bytes_hashed"] = value::number(stats.bytes_hashed);
  st["duration_ns"] = value::number(stats.duration_ns);
  return st;
}

web::json::value SubtreesToJson(const Subtrees& subtrees) {
  value sub = value::object();
  for (const auto& [path, hash] : subtrees) sub[EscapePath(path)] = value::string(hash.Hex());
  return sub;
}

Result<Subtrees> SubtreesFromJson(const web::json::value& v, const std::string& field) {
  if (!v.is_object()) return TypeError(field, "an object of path: hash");
  Subtrees out;
  for (const auto& [path, hash] : v.as_object()) {
    std::string f = field + "[\"" + path + "\"]";
    auto raw = UnescapePath(path);
    if (!raw.ok()) return Status::InvalidArgument(f + ": " + raw.status().message());
    if (!hash.is_string()) return TypeError(f, "32 hex digits");
    auto h = Hash128::FromHex(hash.as_string());
    if (!h.ok()) return TypeError(f, "32 hex digits");
    out.emplace_back(std::move(raw).value(), *h);
  }
  return out;
}

web::json::value CheckResultToJson(const CheckResult& r) {
  value o = value::object();
  o["baseline"] = value::string(r.baseline);
  o["baseline_revision"] = value::number(r.baseline_revision);
  o["baseline_root"] = value::string(r.baseline_root.Hex());
  o["root"] = value::string(r.root.Hex());
  o["target"] = value::string(r.target);
  o["started"] = value::string(FormatRfc3339Nanos(r.started_ns));
  o["finished"] = value::string(FormatRfc3339Nanos(r.finished_ns));
  const EventCounts counts = ReportCounts(r);
  value s = value::object();
  s["added"] = value::number(counts.kinds[static_cast<int>(DriftKind::kAdded)]);
  s["modified"] = value::number(counts.kinds[static_cast<int>(DriftKind::kModified)]);
  s["removed"] = value::number(counts.kinds[static_cast<int>(DriftKind::kRemoved)]);
  s["packages"] =
      value::number(counts.kinds[4] + counts.kinds[5] + counts.kinds[6] + counts.kinds[7]);
  const ReportFold& f = r.fold;
  const bool folded = f.folded.total > 0 || f.parts > 1;
  if (folded) {
    s["kinds"] = KindsJson(counts);
    s["severities"] = SeveritiesJson(counts);
  }
  o["summary"] = s;
  if (f.folded.total > 0) {
    value fo = value::object();
    fo["events"] = value::number(f.folded.total);
    fo["kinds"] = KindsJson(f.folded);
    fo["severities"] = SeveritiesJson(f.folded);
    std::vector<value> prefixes;
    for (const PathPrefixCount& p : f.prefixes) {
      value x = value::object();
      x["prefix"] = value::string(EscapePath(p.prefix));
      x["events"] = value::number(p.events);
      prefixes.push_back(std::move(x));
    }
    fo["prefixes"] = value::array(std::move(prefixes));
    o["folded"] = fo;
  }
  if (f.parts > 1) o["parts"] = value::number(f.parts);
  if (f.IsPart()) {
    o["part_of"] = value::string(f.part_of);
    o["part"] = value::number(f.part);
  }
  o["subtrees"] = SubtreesToJson(r.subtrees);
  std::vector<value> events;
  events.reserve(r.events.size());
  for (const DriftEvent& e : r.events) events.push_back(DriftEventToJson(e));
  o["events"] = value::array(std::move(events));
  o["warnings"] = StringsToJson(r.warnings);
  o["stats"] = ScanStatsToJson(r.stats);
  if (r.interval_ns > 0) o["interval_seconds"] = value::number(r.interval_ns / 1000000000);
  if (r.containers) {
    std::vector<value> list;
    list.reserve(r.containers->size());
    for (const ContainerInfo& c : *r.containers) list.push_back(ContainerInfoToJson(c));
    o["containers"] = value::array(std::move(list));
  }
  if (!r.source.empty()) o["source"] = value::string(r.source);
  if (r.walk.journal || !r.walk.full_reason.empty()) {
    value w = value::object();
    w["journal"] = value::boolean(r.walk.journal);
    w["dirty_paths"] = value::number(r.walk.dirty_paths);
    w["full_reason"] = value::string(r.walk.full_reason);
    o["walk"] = w;
  }
  if (r.packages) {
    value p = value::object();
    p["digest"] = value::string(r.packages->digest.Hex());
    p["count"] = value::number(r.packages->count);
    if (r.packages->full) {
      std::vector<value> list;
      list.reserve(r.packages->list.size());
      for (const PackageInfo& pk : r.packages->list) list.push_back(PackageInfoToJson(pk));
      p["list"] = value::array(std::move(list));
    }
    o["packages"] = p;
  }
  ChainToJson(r, o);
  return o;
}

Result<CheckResult> CheckResultFromJson(const web::json::value& v) {
  if (!v.is_object()) return TypeError("report", "a JSON object");
  CheckResult r;
  const std::string top;
  DW_RETURN_IF_ERROR(GetString(v, "target", top, true, &r.target));
  DW_RETURN_IF_ERROR(GetString(v, "baseline", top, true, &r.baseline));
  DW_RETURN_IF_ERROR(GetInt64(v, "baseline_revision", top, false, &r.baseline_revision));
  DW_RETURN_IF_ERROR(GetHash(v, "baseline_root", top, &r.baseline_root));
  DW_RETURN_IF_ERROR(GetHash(v, "root", top, &r.root));
  DW_RETURN_IF_ERROR(GetTime(v, "started", top, &r.started_ns));
  DW_RETURN_IF_ERROR(GetTime(v, "finished", top, &r.finished_ns));
  if (const value* s = Find(v, "subtrees")) {
    DW_ASSIGN_OR_RETURN(r.subtrees, SubtreesFromJson(*s, "subtrees"));
  }
  const value* events = Find(v, "events");
  if (events == nullptr) return Status::InvalidArgument("events: missing");
  if (!events->is_array()) return TypeError("events", "an array");
  size_t i = 0;
  for (const value& ev : events->as_array()) {
    DW_ASSIGN_OR_RETURN(DriftEvent e,
                        DriftEventFromJson(ev, "events[" + std::to_string(i++) + "]"));
    r.events.push_back(std::move(e));
  }
  if (const value* w = Find(v, "warnings")) {
    if (!w->is_array()) return TypeError("warnings", "an array of strings");
    i = 0;
    for (const value& s : w->as_array()) {
      if (!s.is_string()) return TypeError("warnings[" + std::to_string(i) + "]", "a string");
      r.warnings.push_back(s.as_string());
      ++i;
    }
  }
  if (const value* st = Find(v, "stats")) {
    if (!st->is_object()) return TypeError("stats", "an object");
    DW_RETURN_IF_ERROR(GetUint64(*st, "files", "stats", false, &r.stats.files));
    DW_RETURN_IF_ERROR(GetUint64(*st, "dirs", "stats", false, &r.stats.dirs));
    DW_RETURN_IF_ERROR(GetUint64(*st, "others", "stats", false, &r.stats.others));
    DW_RETURN_IF_ERROR(GetUint64(*st, "files_hashed", "stats", false, &r.stats.files_hashed));
    DW_RETURN_IF_ERROR(GetUint64(*st, "bytes_hashed", "stats", false, &r.stats.bytes_hashed));
    DW_RETURN_IF_ERROR(GetInt64(*st, "duration_ns", "stats", false, &r.stats.duration_ns));
  }
  DW_RETURN_IF_ERROR(InventoryFromJson(v, &r));
  DW_RETURN_IF_ERROR(FoldFromJson(v, &r));
  DW_RETURN_IF_ERROR(SourceAndWalkFromJson(v, &r));
  DW_RETURN_IF_ERROR(ChainFromJson(v, &r));
  return r;
}

}  // namespace driftwatch
