#include "container/records.h"

#include <cpprest/json.h>

#include <cstdint>

#include "core/drift_json.h"
#include "core/json_fields.h"

namespace driftwatch::container {
namespace {

using web::json::value;

value Strings(const std::vector<std::string>& v) {
  value a = value::array(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = value::string(v[i]);
  return a;
}

// The typed field readers of core/json_fields.h; a field of the wrong type
// makes the record corrupt: "state.json: pid: expected an integer".
class Fields {
 public:
  Fields(const value& v, std::string what) : v_(v), what_(std::move(what)) {}
  Status Str(const char* key, std::string* out) {
    return Checked(json_fields::GetString(v_, key, "", false, out));
  }
  Status I64(const char* key, int64_t* out) {
    return Checked(json_fields::GetInt64(v_, key, "", false, out));
  }
  Status I32(const char* key, int32_t* out) {
    return Checked(json_fields::GetInt32(v_, key, "", out));
  }
  Status U64(const char* key, uint64_t* out) {
    return Checked(json_fields::GetUint64(v_, key, "", false, out));
  }
  Status Strs(const char* key, std::vector<std::string>* out) {
    return Checked(json_fields::GetStringList(v_, key, "", out));
  }
  Status Hash(const char* key, Hash128* out) {
    return Checked(json_fields::GetHash(v_, key, "", out));
  }

 private:
  Status Checked(const Status& s) const {
    if (s.ok()) return s;
    return Status::Corruption(what_ + ": " + s.message());
  }

  const value& v_;
  std::string what_;
};

Result<value> ParseVersioned(std::string_view text, const std::string& what) {
  if (!JsonDepthWithin(text, 16)) return Status::Corruption(what + ": nested too deeply");
  value v;
  try {
    v = value::parse(std::string(text));
  } catch (const std::exception& e) {
    return Status::Corruption(what + ": " + e.what());
  }
  if (!v.is_object()) return Status::Corruption(what + ": not a JSON object");
  if (!v.has_field("version") || !v.at("version").is_number()) {
    return Status::Corruption(what + ": no version");
  }
  int64_t version = v.at("version").as_number().to_int64();
  if (version != kStateVersion) {
    return Status::Unsupported(what + ": format version " + std::to_string(version) +
                               " is not supported (this build reads version " +
                               std::to_string(kStateVersion) + ")");
  }
  return v;
}

}  // namespace

std::string ImageRecordToJson(const ImageRecord& r) {
  value v = value::object();
  v["version"] = value::number(kStateVersion);
  v["name"] = value::string(r.name);
  v["digest"] = value::string(r.digest.Hex());
  v["imported_ns"] = value::number(static_cast<int64_t>(r.imported_ns));
  v["source"] = value::string(r.source);
  v["entries"] = value::number(static_cast<uint64_t>(r.entries));
  return v.serialize() + "\n";
}

Result<ImageRecord> ImageRecordFromJson(std::string_view text) {
  DW_ASSIGN_OR_RETURN(value v, ParseVersioned(text, "image.json"));
  ImageRecord r;
  Fields rd(v, "image.json");
  DW_RETURN_IF_ERROR(rd.Str("name", &r.name));
  DW_RETURN_IF_ERROR(rd.Hash("digest", &r.digest));
  DW_RETURN_IF_ERROR(rd.I64("imported_ns", &r.imported_ns));
  DW_RETURN_IF_ERROR(rd.Str("source", &r.source));
  DW_RETURN_IF_ERROR(rd.U64("entries", &r.entries));
  return r;
}

std::string ContainerRecordToJson(const ContainerRecord& r) {
  value v = value::object();
  v["version"] = value::number(kStateVersion);
  v["name"] = value::string(r.name);
  v["id"] = value::string(r.id);
  v["image"] = value::string(r.image);
  v["image_digest"] = value::string(r.image_digest.Hex());
  v["command"] = Strings(r.command);
  v["env"] = Strings(r.env);
  value vols = value::array(r.volumes.size());
  for (size_t i = 0; i < r.volumes.size(); ++i) {
    vols[i] = value::string(r.volumes[i].source + ":" + r.volumes[i].destination +
                            (r.volumes[i].read_only ? ":ro" : ":rw"));
  }
  v["volumes"] = vols;
  v["net"] = value::string(r.net);
  v["seccomp"] = value::string(r.seccomp);
  v["seccomp_allow"] = Strings(r.seccomp_allow);
  v["cap_add"] = Strings(r.cap_add);
  v["memory_bytes"] = value::number(static_cast<uint64_t>(r.memory_bytes));
  v["pids_max"] = value::number(static_cast<uint64_t>(r.pids_max));
  v["userns_host"] = value::number(static_cast<uint64_t>(r.userns.host));
  v["userns_count"] = value::number(static_cast<uint64_t>(r.userns.count));
  v["service"] = value::string(r.service);
  v["slot"] = value::string(r.slot);
  v["pid"] = value::number(static_cast<int32_t>(r.pid));
  v["start_ticks"] = value::number(static_cast<uint64_t>(r.start_ticks));
  v["monitor_pid"] = value::number(static_cast<int32_t>(r.monitor_pid));
  v["created_ns"] = value::number(static_cast<int64_t>(r.created_ns));
  v["started_ns"] = value::number(static_cast<int64_t>(r.started_ns));
  v["finished_ns"] = value::number(static_cast<int64_t>(r.finished_ns));
  v["status"] = value::string(r.status);
  v["exit_code"] = value::number(r.exit_code);
  return v.serialize() + "\n";
}

Result<ContainerRecord> ContainerRecordFromJson(std::string_view text) {
  DW_ASSIGN_OR_RETURN(value v, ParseVersioned(text, "state.json"));
  ContainerRecord r;
  Fields rd(v, "state.json");
  DW_RETURN_IF_ERROR(rd.Str("name", &r.name));
  DW_RETURN_IF_ERROR(rd.Str("id", &r.id));
  DW_RETURN_IF_ERROR(rd.Str("image", &r.image));
  DW_RETURN_IF_ERROR(rd.Hash("image_digest", &r.image_digest));
  DW_RETURN_IF_ERROR(rd.Strs("command", &r.command));
  DW_RETURN_IF_ERROR(rd.Strs("env", &r.env));
  std::vector<std::string> vols;
  DW_RETURN_IF_ERROR(rd.Strs("volumes", &vols));
  for (const std::string& s : vols) {
    DW_ASSIGN_OR_RETURN(VolumeSpec vs, ParseVolume(s));
    r.volumes.push_back(std::move(vs));
  }
  DW_RETURN_IF_ERROR(rd.Str("net", &r.net));
  DW_RETURN_IF_ERROR(rd.Str("seccomp", &r.seccomp));
  DW_RETURN_IF_ERROR(rd.Strs("seccomp_allow", &r.seccomp_allow));
  DW_RETURN_IF_ERROR(rd.Strs("cap_add", &r.cap_add));
  DW_RETURN_IF_ERROR(rd.U64("memory_bytes", &r.memory_bytes));
  DW_RETURN_IF_ERROR(rd.U64("pids_max", &r.pids_max));
  uint64_t userns_host = 0, userns_count = 0;
  DW_RETURN_IF_ERROR(rd.U64("userns_host", &userns_host));
  DW_RETURN_IF_ERROR(rd.U64("userns_count", &userns_count));
  if (userns_host > UINT32_MAX || userns_count > UINT32_MAX ||
      userns_host + userns_count > UINT32_MAX) {
    return Status::InvalidArgument("state.json: userns_host/userns_count out of range");
  }
  r.userns = IdRange{static_cast<uint32_t>(userns_host), static_cast<uint32_t>(userns_count)};
  DW_RETURN_IF_ERROR(rd.Str("service", &r.service));
  DW_RETURN_IF_ERROR(rd.Str("slot", &r.slot));
  DW_RETURN_IF_ERROR(rd.I32("pid", &r.pid));
  DW_RETURN_IF_ERROR(rd.U64("start_ticks", &r.start_ticks));
  DW_RETURN_IF_ERROR(rd.I32("monitor_pid", &r.monitor_pid));
  DW_RETURN_IF_ERROR(rd.I64("created_ns", &r.created_ns));
  DW_RETURN_IF_ERROR(rd.I64("started_ns", &r.started_ns));
  DW_RETURN_IF_ERROR(rd.I64("finished_ns", &r.finished_ns));
  DW_RETURN_IF_ERROR(rd.Str("status", &r.status));
  DW_RETURN_IF_ERROR(rd.I32("exit_code", &r.exit_code));
  return r;
}

std::string ServiceRecordToJson(const ServiceRecord& r) {
  value v = value::object();
  v["version"] = value::number(kStateVersion);
  v["name"] = value::string(r.name);
  v["active"] = value::string(r.active);
  v["previous"] = value::string(r.previous);
  v["health"] = value::string(r.health);
  return v.serialize() + "\n";
}

Result<ServiceRecord> ServiceRecordFromJson(std::string_view text) {
  DW_ASSIGN_OR_RETURN(value v, ParseVersioned(text, "service"));
  ServiceRecord r;
  Fields rd(v, "service");
  DW_RETURN_IF_ERROR(rd.Str("name", &r.name));
  DW_RETURN_IF_ERROR(rd.Str("active", &r.active));
  DW_RETURN_IF_ERROR(rd.Str("previous", &r.previous));
  DW_RETURN_IF_ERROR(rd.Str("health", &r.health));
  return r;
}

}  // namespace driftwatch::container
