#include "core/drift_json.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <tuple>

namespace driftwatch {
namespace {

using web::json::value;

std::string Join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

Status TypeError(const std::string& field, std::string_view expected) {
  return Status::InvalidArgument(field + ": expected " + std::string(expected));
}

// Looks up `key` in an object; nullptr when absent or JSON null.
const value* Find(const value& obj, const char* key) {
  const auto& o = obj.as_object();
  auto it = o.find(key);
  if (it == o.end() || it->second.is_null()) return nullptr;
  return &it->second;
}

Status GetString(const value& obj, const char* key, const std::string& prefix, bool required,
                 std::string* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) {
    return required ? Status::InvalidArgument(Join(prefix, key) + ": missing") : Status::Ok();
  }
  if (!v->is_string()) return TypeError(Join(prefix, key), "a string");
  *out = v->as_string();
  return Status::Ok();
}

Status GetUint64(const value& obj, const char* key, const std::string& prefix, bool required,
                 uint64_t* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) {
    return required ? Status::InvalidArgument(Join(prefix, key) + ": missing") : Status::Ok();
  }
  if (!v->is_number() || !v->as_number().is_uint64()) {
    return TypeError(Join(prefix, key), "a non-negative integer");
  }
  *out = v->as_number().to_uint64();
  return Status::Ok();
}

Status GetInt64(const value& obj, const char* key, const std::string& prefix, bool required,
                int64_t* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) {
    return required ? Status::InvalidArgument(Join(prefix, key) + ": missing") : Status::Ok();
  }
  if (!v->is_number() || !v->as_number().is_int64()) {
    return TypeError(Join(prefix, key), "an integer");
  }
  *out = v->as_number().to_int64();
  return Status::Ok();
}

Status GetUint32(const value& obj, const char* key, const std::string& prefix, uint32_t* out) {
  uint64_t v = *out;
  DW_RETURN_IF_ERROR(GetUint64(obj, key, prefix, false, &v));
  if (v > UINT32_MAX) return TypeError(Join(prefix, key), "an integer below 2^32");
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status GetHash(const value& obj, const char* key, const std::string& prefix, Hash128* out) {
  std::string hex;
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, false, &hex));
  if (hex.empty()) return Status::Ok();
  auto h = Hash128::FromHex(hex);
  if (!h.ok()) return TypeError(Join(prefix, key), "32 hex digits");
  *out = *h;
  return Status::Ok();
}

Status GetTime(const value& obj, const char* key, const std::string& prefix, int64_t* out) {
  std::string text;
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, true, &text));
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Status::InvalidArgument(Join(prefix, key) + ": " + t.status().message());
  *out = *t;
  return Status::Ok();
}

Status GetPath(const value& obj, const char* key, const std::string& prefix, bool required,
               std::string* out) {
  std::string escaped;
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, required, &escaped));
  auto raw = UnescapePath(escaped);
  if (!raw.ok()) return Status::InvalidArgument(Join(prefix, key) + ": " + raw.status().message());
  *out = std::move(raw).value();
  return Status::Ok();
}

std::string OctalPerm(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", mode & 07777);
  return buf;
}

Result<uint32_t> ParseOctalPerm(std::string_view s) {
  if (s.empty() || s.size() > 5) return Status::InvalidArgument("bad");
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return Status::InvalidArgument("bad");
    v = v * 8 + static_cast<uint32_t>(c - '0');
  }
  if (v > 07777) return Status::InvalidArgument("bad");
  return v;
}

// Event paths: a host path, a package ("pkg:dpkg/libc6:amd64", see
// agent/packages/package.h) or a path in a container ("container:web:/etc/x").
bool ValidEventPath(std::string_view p) {
  if (!p.empty() && p[0] == '/') return true;
  if (p.rfind("pkg:", 0) == 0) return p.size() > 4;
  if (p.rfind("container:", 0) == 0) {
    const size_t sep = p.find(":/", 10);
    return sep != std::string_view::npos && sep > 10;
  }
  return false;
}

constexpr size_t kMaxInventoryContainers = 10000;
constexpr size_t kMaxInventoryPackages = 200000;

constexpr std::array<EntryType, 7> kEntryTypes = {
    EntryType::kFile,   EntryType::kDir,     EntryType::kSymlink, EntryType::kFifo,
    EntryType::kSocket, EntryType::kCharDev, EntryType::kBlockDev};

std::string KindList() {
  std::string out;
  for (int k = 1; k <= 7; ++k) {
    if (!out.empty()) out += ", ";
    out += DriftKindName(static_cast<DriftKind>(k));
  }
  return out;
}

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
      if (!x.is_object()) return TypeError(f, "an object");
      ContainerInfo ci;
      DW_RETURN_IF_ERROR(GetString(x, "name", f, true, &ci.name));
      DW_RETURN_IF_ERROR(GetString(x, "id", f, false, &ci.id));
      DW_RETURN_IF_ERROR(GetString(x, "runtime", f, false, &ci.runtime));
      DW_RETURN_IF_ERROR(GetString(x, "image", f, false, &ci.image));
      DW_RETURN_IF_ERROR(GetString(x, "image_digest", f, false, &ci.image_digest));
      if (const value* k = Find(x, "drift_known")) {
        if (!k->is_boolean()) return TypeError(f + ".drift_known", "a boolean");
        ci.drift_known = k->as_bool();
      }
      uint64_t events = 0;
      DW_RETURN_IF_ERROR(GetUint64(x, "events", f, false, &events));
      ci.events = static_cast<int64_t>(std::min<uint64_t>(events, INT64_MAX));
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
        if (!x.is_object()) return TypeError(f, "an object");
        PackageInfo pk;
        DW_RETURN_IF_ERROR(GetString(x, "manager", f, true, &pk.manager));
        DW_RETURN_IF_ERROR(GetString(x, "name", f, true, &pk.name));
        DW_RETURN_IF_ERROR(GetString(x, "version", f, false, &pk.version));
        DW_RETURN_IF_ERROR(GetString(x, "arch", f, false, &pk.arch));
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

}  // namespace

web::json::value EntryAttributesToJson(const Entry& e) {
  value o = value::object();
  const uint32_t m = e.mask;
  if (m & kAttrType) o["type"] = value::string(std::string(EntryTypeName(e.type)));
  if (m & kAttrPerm) o["perm"] = value::string(OctalPerm(e.mode));
  if (m & kAttrUid) o["uid"] = value::number(static_cast<uint64_t>(e.uid));
  if (m & kAttrGid) o["gid"] = value::number(static_cast<uint64_t>(e.gid));
  if (m & kAttrSize) o["size"] = value::number(e.size);
  if (m & kAttrMtime) o["mtime_ns"] = value::number(e.mtime_ns);
  if (m & kAttrCtime) o["ctime_ns"] = value::number(e.ctime_ns);
  if (m & kAttrInode) o["inode"] = value::number(e.inode);
  if (m & kAttrNlink) o["nlink"] = value::number(e.nlink);
  if (m & kAttrRdev) o["rdev"] = value::number(e.rdev);
  if (m & kAttrLink) o["link"] = value::string(EscapePath(e.link_target));
  if (m & kAttrHash) o["hash"] = value::string(e.content.Hex());
  if (m & kAttrXattrs) o["xattrs"] = value::string(e.xattrs.Hex());
  return o;
}

Result<Entry> EntryAttributesFromJson(const web::json::value& v, const std::string& field) {
  if (!v.is_object()) return TypeError(field, "an object");
  Entry e;
  e.mask = 0;
  std::string s;
  if (const value* t = Find(v, "type")) {
    if (!t->is_string()) return TypeError(field + ".type", "a string");
    bool found = false;
    for (EntryType et : kEntryTypes) {
      if (EntryTypeName(et) == t->as_string()) {
        e.type = et;
        found = true;
      }
    }
    if (!found) {
      return TypeError(field + ".type",
                       "one of file, dir, symlink, fifo, socket, chardev, blockdev");
    }
    e.mask |= kAttrType;
  }
  if (Find(v, "perm") != nullptr) {
    DW_RETURN_IF_ERROR(GetString(v, "perm", field, true, &s));
    auto p = ParseOctalPerm(s);
    if (!p.ok()) return TypeError(field + ".perm", "an octal string such as \"0644\"");
    e.mode = *p;
    e.mask |= kAttrPerm;
  }
  if (Find(v, "uid") != nullptr) {
    DW_RETURN_IF_ERROR(GetUint32(v, "uid", field, &e.uid));
    e.mask |= kAttrUid;
  }
  if (Find(v, "gid") != nullptr) {
    DW_RETURN_IF_ERROR(GetUint32(v, "gid", field, &e.gid));
    e.mask |= kAttrGid;
  }
  for (auto [key, bit, out] :
       {std::tuple{"size", kAttrSize, &e.size}, std::tuple{"inode", kAttrInode, &e.inode},
        std::tuple{"nlink", kAttrNlink, &e.nlink}, std::tuple{"rdev", kAttrRdev, &e.rdev}}) {
    if (Find(v, key) == nullptr) continue;
    DW_RETURN_IF_ERROR(GetUint64(v, key, field, true, out));
    e.mask |= bit;
  }
  for (auto [key, bit, out] : {std::tuple{"mtime_ns", kAttrMtime, &e.mtime_ns},
                               std::tuple{"ctime_ns", kAttrCtime, &e.ctime_ns}}) {
    if (Find(v, key) == nullptr) continue;
    DW_RETURN_IF_ERROR(GetInt64(v, key, field, true, out));
    e.mask |= bit;
  }
  if (Find(v, "link") != nullptr) {
    DW_RETURN_IF_ERROR(GetPath(v, "link", field, true, &e.link_target));
    e.mask |= kAttrLink;
  }
  if (Find(v, "hash") != nullptr) {
    DW_RETURN_IF_ERROR(GetString(v, "hash", field, true, &s));
    if (!s.empty()) {
      auto d = Digest::Parse(s);
      if (!d.ok()) return TypeError(field + ".hash", "\"xxh128:<hex>\" or \"sha256:<hex>\"");
      e.content = *d;
    }
    e.mask |= kAttrHash;
  }
  if (Find(v, "xattrs") != nullptr) {
    DW_RETURN_IF_ERROR(GetHash(v, "xattrs", field, &e.xattrs));
    e.mask |= kAttrXattrs;
  }
  return e;
}

web::json::value DriftEventToJson(const DriftEvent& e) {
  value o = value::object();
  o["path"] = value::string(EscapePath(e.path));
  o["kind"] = value::string(std::string(DriftKindName(e.kind)));
  std::vector<value> attrs;
  for (std::string_view name : AttrNames(e.changed))
    attrs.push_back(value::string(std::string(name)));
  o["attributes"] = value::array(std::move(attrs));
  if (e.old_entry) o["old"] = EntryAttributesToJson(*e.old_entry);
  if (e.new_entry) o["new"] = EntryAttributesToJson(*e.new_entry);
  o["severity"] = value::string(std::string(SeverityName(e.severity)));
  o["rule"] = value::string(e.rule);
  if (!e.package.empty()) o["package"] = value::string(e.package);
  if (!e.from_version.empty()) o["from"] = value::string(e.from_version);
  if (!e.to_version.empty()) o["to"] = value::string(e.to_version);
  if (!e.cause.empty()) o["cause"] = value::string(e.cause);
  return o;
}

Result<DriftEvent> DriftEventFromJson(const web::json::value& v, const std::string& field) {
  if (!v.is_object()) return TypeError(field, "an object");
  DriftEvent e;
  DW_RETURN_IF_ERROR(GetPath(v, "path", field, true, &e.path));
  if (!ValidEventPath(e.path)) {
    return TypeError(field + ".path", "an absolute path, pkg:MANAGER/NAME or container:NAME:/PATH");
  }
  std::string s;
  DW_RETURN_IF_ERROR(GetString(v, "kind", field, true, &s));
  auto kind = ParseDriftKind(s);
  if (!kind.ok()) return TypeError(field + ".kind", "one of " + KindList());
  e.kind = *kind;
  DW_RETURN_IF_ERROR(GetString(v, "severity", field, true, &s));
  auto sev = ParseSeverity(s);
  if (!sev.ok()) return TypeError(field + ".severity", "one of low, medium, high, critical");
  e.severity = *sev;
  if (const value* a = Find(v, "attributes")) {
    if (!a->is_array()) return TypeError(field + ".attributes", "an array of attribute names");
    size_t i = 0;
    for (const value& name : a->as_array()) {
      std::string f = field + ".attributes[" + std::to_string(i++) + "]";
      if (!name.is_string()) return TypeError(f, "a string");
      uint32_t bit = AttrFromName(name.as_string());
      if (bit == 0) return TypeError(f, "an attribute name such as perm or hash");
      e.changed |= bit;
    }
  }
  if (const value* o = Find(v, "old")) {
    DW_ASSIGN_OR_RETURN(Entry en, EntryAttributesFromJson(*o, field + ".old"));
    e.old_entry = std::move(en);
  }
  if (const value* n = Find(v, "new")) {
    DW_ASSIGN_OR_RETURN(Entry en, EntryAttributesFromJson(*n, field + ".new"));
    e.new_entry = std::move(en);
  }
  DW_RETURN_IF_ERROR(GetString(v, "rule", field, false, &e.rule));
  DW_RETURN_IF_ERROR(GetString(v, "package", field, false, &e.package));
  DW_RETURN_IF_ERROR(GetString(v, "from", field, false, &e.from_version));
  DW_RETURN_IF_ERROR(GetString(v, "to", field, false, &e.to_version));
  DW_RETURN_IF_ERROR(GetString(v, "cause", field, false, &e.cause));
  // Entry names are the last path component, as a scan would record them.
  std::string base = e.path.substr(e.path.rfind('/') + 1);
  if (e.old_entry) e.old_entry->name = base;
  if (e.new_entry) e.new_entry->name = base;
  return e;
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
  value sub = value::object();
  for (const auto& [path, hash] : r.subtrees) sub[EscapePath(path)] = value::string(hash.Hex());
  o["subtrees"] = sub;
  std::vector<value> events;
  events.reserve(r.events.size());
  for (const DriftEvent& e : r.events) events.push_back(DriftEventToJson(e));
  o["events"] = value::array(std::move(events));
  std::vector<value> warnings;
  for (const std::string& w : r.warnings) warnings.push_back(value::string(w));
  o["warnings"] = value::array(std::move(warnings));
  value st = value::object();
  st["files"] = value::number(r.stats.files);
  st["dirs"] = value::number(r.stats.dirs);
  st["others"] = value::number(r.stats.others);
  st["files_hashed"] = value::number(r.stats.files_hashed);
  st["bytes_hashed"] = value::number(r.stats.bytes_hashed);
  st["duration_ns"] = value::number(r.stats.duration_ns);
  o["stats"] = st;
  if (r.interval_ns > 0) o["interval_seconds"] = value::number(r.interval_ns / 1000000000);
  if (r.containers) {
    std::vector<value> list;
    list.reserve(r.containers->size());
    for (const ContainerInfo& c : *r.containers) {
      value x = value::object();
      x["name"] = value::string(c.name);
      x["id"] = value::string(c.id);
      x["runtime"] = value::string(c.runtime);
      x["image"] = value::string(c.image);
      x["image_digest"] = value::string(c.image_digest);
      x["drift_known"] = value::boolean(c.drift_known);
      x["events"] = value::number(c.events);
      list.push_back(std::move(x));
    }
    o["containers"] = value::array(std::move(list));
  }
  if (r.packages) {
    value p = value::object();
    p["digest"] = value::string(r.packages->digest.Hex());
    p["count"] = value::number(r.packages->count);
    if (r.packages->full) {
      std::vector<value> list;
      list.reserve(r.packages->list.size());
      for (const PackageInfo& pk : r.packages->list) {
        value x = value::object();
        x["manager"] = value::string(pk.manager);
        x["name"] = value::string(pk.name);
        x["version"] = value::string(pk.version);
        x["arch"] = value::string(pk.arch);
        list.push_back(std::move(x));
      }
      p["list"] = value::array(std::move(list));
    }
    o["packages"] = p;
  }
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
    if (!s->is_object()) return TypeError("subtrees", "an object of path: hash");
    for (const auto& [path, hash] : s->as_object()) {
      std::string f = "subtrees[\"" + path + "\"]";
      auto raw = UnescapePath(path);
      if (!raw.ok()) return Status::InvalidArgument(f + ": " + raw.status().message());
      if (!hash.is_string()) return TypeError(f, "32 hex digits");
      auto h = Hash128::FromHex(hash.as_string());
      if (!h.ok()) return TypeError(f, "32 hex digits");
      r.subtrees.emplace_back(std::move(raw).value(), *h);
    }
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
  return r;
}

}  // namespace driftwatch
