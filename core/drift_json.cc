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

// Byte limits of an actor's strings (core/actor.h): paths as PATH_MAX,
// the command line as the agent truncates it, names as short.
constexpr size_t kMaxActorPath = 4096;
constexpr size_t kMaxActorName = 256;

struct ActorString {
  const char* key;
  std::string Actor::*member;
  size_t max;
};
constexpr std::array<ActorString, 7> kActorStrings = {{
    {"exe", &Actor::exe, kMaxActorPath},
    {"cmdline", &Actor::cmdline, kMaxActorCmdline},
    {"comm", &Actor::comm, kMaxActorName},
    {"login", &Actor::login, kMaxActorName},
    {"parent_exe", &Actor::parent_exe, kMaxActorPath},
    {"cgroup", &Actor::cgroup, kMaxActorPath},
    {"container", &Actor::container, kMaxActorName},
}};

struct ActorId {
  const char* key;
  int64_t Actor::*member;
};
// Ids that are -1 when unknown, at most 2^32-1 otherwise.
constexpr std::array<ActorId, 4> kActorIds = {{
    {"uid", &Actor::uid},
    {"euid", &Actor::euid},
    {"loginuid", &Actor::loginuid},
    {"session", &Actor::session},
}};

constexpr int64_t kMaxPid = int64_t{1} << 32;

}  // namespace

web::json::value ActorToJson(const Actor& a) {
  value o = value::object();
  o["pid"] = value::number(a.pid);
  if (a.ppid != 0) o["ppid"] = value::number(a.ppid);
  for (const ActorId& id : kActorIds) {
    if (a.*id.member >= 0) o[id.key] = value::number(a.*id.member);
  }
  for (const ActorString& str : kActorStrings) {
    const std::string& raw = a.*str.member;
    if (!raw.empty()) o[str.key] = value::string(EscapePath(raw));
  }
  if (a.exited) o["exited"] = value::boolean(true);
  return o;
}

Result<Actor> ActorFromJson(const web::json::value& v, const std::string& field) {
  if (!v.is_object()) return TypeError(field, "an object");
  Actor a;
  DW_RETURN_IF_ERROR(GetInt64(v, "pid", field, true, &a.pid));
  if (a.pid < 0 || a.pid > kMaxPid) return TypeError(field + ".pid", "a process id (0 to 2^32)");
  DW_RETURN_IF_ERROR(GetInt64(v, "ppid", field, false, &a.ppid));
  if (a.ppid < 0 || a.ppid > kMaxPid) {
    return TypeError(field + ".ppid", "a process id (0 to 2^32)");
  }
  for (const ActorId& id : kActorIds) {
    int64_t* out = &(a.*id.member);
    DW_RETURN_IF_ERROR(GetInt64(v, id.key, field, false, out));
    if (*out < -1 || *out > UINT32_MAX) {
      return TypeError(field + "." + id.key, "-1 (unknown) or an id from 0 to 4294967295");
    }
  }
  for (const ActorString& str : kActorStrings) {
    std::string* out = &(a.*str.member);
    DW_RETURN_IF_ERROR(GetPath(v, str.key, field, false, out));
    if (out->size() > str.max) {
      return Status::InvalidArgument(field + "." + str.key + ": " + std::to_string(out->size()) +
                                     " bytes; expected at most " + std::to_string(str.max));
    }
  }
  DW_RETURN_IF_ERROR(GetBool(v, "exited", field, false, &a.exited));
  return a;
}

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
  if (e.time_ns != 0) o["time"] = value::string(FormatRfc3339Nanos(e.time_ns));
  if (e.actor) o["actor"] = ActorToJson(*e.actor);
  if (e.transient) o["transient"] = value::boolean(true);
  if (e.reverted_by) o["reverted_by"] = ActorToJson(*e.reverted_by);
  if (!e.diff.empty()) o["diff"] = value::string(ReplaceInvalidUtf8(e.diff));
  if (!e.content_note.empty()) o["content"] = value::string(e.content_note);
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
  DW_RETURN_IF_ERROR(GetOptionalTime(v, "time", field, &e.time_ns));
  if (const value* a = Find(v, "actor")) {
    DW_ASSIGN_OR_RETURN(Actor actor, ActorFromJson(*a, field + ".actor"));
    e.actor = std::move(actor);
  }
  DW_RETURN_IF_ERROR(GetBool(v, "transient", field, false, &e.transient));
  if (const value* a = Find(v, "reverted_by")) {
    DW_ASSIGN_OR_RETURN(Actor actor, ActorFromJson(*a, field + ".reverted_by"));
    e.reverted_by = std::move(actor);
  }
  DW_RETURN_IF_ERROR(GetString(v, "diff", field, false, &e.diff));
  if (e.diff.size() > kMaxEventDiffBytes + kDiffTruncatedMarker.size()) {
    return TypeError(field + ".diff",
                     "at most " + std::to_string(kMaxEventDiffBytes) + " bytes of unified diff");
  }
  DW_RETURN_IF_ERROR(GetString(v, "content", field, false, &e.content_note));
  if (!e.content_note.empty() && e.content_note != "redacted" && e.content_note != "binary" &&
      e.content_note != "not-kept" && e.content_note != "omitted") {
    return TypeError(field + ".content", "one of redacted, binary, not-kept, omitted");
  }
  // Entry names are the last path component, as a scan would record them.
  std::string base = e.path.substr(e.path.rfind('/') + 1);
  if (e.old_entry) e.old_entry->name = base;
  if (e.new_entry) e.new_entry->name = base;
  return e;
}

}  // namespace driftwatch
