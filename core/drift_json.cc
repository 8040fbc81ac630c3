#include "core/drift_json.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <tuple>

#include "core/json_fields.h"

namespace driftwatch {
namespace {

using web::json::value;
using namespace json_fields;  // NOLINT: the codec's field readers

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
// packages/package.h) or a path in a container ("container:web:/etc/x").
bool ValidEventPath(std::string_view p) {
  if (!p.empty() && p[0] == '/') return true;
  if (p.rfind("pkg:", 0) == 0) return p.size() > 4;
  if (p.rfind("container:", 0) == 0) {
    const size_t sep = p.find(":/", 10);
    return sep != std::string_view::npos && sep > 10;
  }
  return false;
}

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

}  // namespace driftwatch
