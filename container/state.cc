#include "container/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpprest/json.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <limits>

#include "core/drift.h"
#include "core/drift_json.h"

namespace driftwatch::container {
namespace {

using web::json::value;

bool IsClean(std::string_view path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  size_t i = 1;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = j + 1;
  }
  return true;
}

value Strings(const std::vector<std::string>& v) {
  value a = value::array(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = value::string(v[i]);
  return a;
}

// Field readers: a missing field keeps the default, a wrong type is an error.
class Reader {
 public:
  explicit Reader(const value& v, std::string what) : v_(v), what_(std::move(what)) {}
  Status Str(const char* key, std::string* out) {
    if (!v_.has_field(key)) return Status::Ok();
    const value& f = v_.at(key);
    if (!f.is_string()) return Bad(key, "string");
    *out = f.as_string();
    return Status::Ok();
  }
  template <typename T>
  Status Int(const char* key, T* out) {
    if (!v_.has_field(key)) return Status::Ok();
    const value& f = v_.at(key);
    if (!f.is_number() || !f.as_number().is_integral()) return Bad(key, "integer");
    *out = static_cast<T>(f.as_number().to_int64());
    return Status::Ok();
  }
  Status U64(const char* key, uint64_t* out) {
    if (!v_.has_field(key)) return Status::Ok();
    const value& f = v_.at(key);
    if (!f.is_number() || !f.as_number().is_uint64()) return Bad(key, "unsigned integer");
    *out = f.as_number().to_uint64();
    return Status::Ok();
  }
  Status Strs(const char* key, std::vector<std::string>* out) {
    if (!v_.has_field(key)) return Status::Ok();
    const value& f = v_.at(key);
    if (!f.is_array()) return Bad(key, "array of strings");
    out->clear();
    for (const value& s : f.as_array()) {
      if (!s.is_string()) return Bad(key, "array of strings");
      out->push_back(s.as_string());
    }
    return Status::Ok();
  }
  Status Hash(const char* key, Hash128* out) {
    std::string hex;
    DW_RETURN_IF_ERROR(Str(key, &hex));
    if (hex.empty()) return Status::Ok();
    auto h = Hash128::FromHex(hex);
    if (!h.ok()) return Bad(key, "32 hex digits");
    *out = *h;
    return Status::Ok();
  }
  Status Bad(const char* key, const char* want) {
    return Status::Corruption(what_ + ": field '" + key + "': expected " + want);
  }

 private:
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

Result<VolumeSpec> ParseVolume(std::string_view text) {
  VolumeSpec v;
  std::string_view rest = text;
  size_t a = rest.find(':');
  if (a == std::string_view::npos)
    return Status::InvalidArgument("--volume '" + std::string(text) + "': expected SRC:DST[:ro]");
  v.source = std::string(rest.substr(0, a));
  rest.remove_prefix(a + 1);
  size_t b = rest.find(':');
  v.destination = std::string(rest.substr(0, b));
  if (b != std::string_view::npos) {
    std::string_view mode = rest.substr(b + 1);
    if (mode == "ro")
      v.read_only = true;
    else if (mode != "rw")
      return Status::InvalidArgument("--volume '" + std::string(text) + "': mode must be ro or rw");
  }
  if (v.source.empty() || v.source[0] != '/') {
    return Status::InvalidArgument("--volume '" + std::string(text) +
                                   "': source must be an absolute path");
  }
  if (!IsClean(v.destination)) {
    return Status::InvalidArgument("--volume '" + std::string(text) +
                                   "': destination must be an absolute path without '.' or '..'");
  }
  for (const std::string& p : {v.source, v.destination}) {
    if (p.find_first_of(",\n\\") != std::string::npos) {
      return Status::InvalidArgument("--volume '" + std::string(text) +
                                     "': ',' '\\' and newlines are not allowed");
    }
  }
  return v;
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  uint64_t mult = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        mult = 1ull << 10;
        break;
      case 'm':
      case 'M':
        mult = 1ull << 20;
        break;
      case 'g':
      case 'G':
        mult = 1ull << 30;
        break;
      default:
        break;
    }
    if (mult != 1) digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 19 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument("'" + std::string(text) + "': expected a size like 256M");
  }
  uint64_t n = std::stoull(std::string(digits));
  if (n == 0 || n > std::numeric_limits<uint64_t>::max() / mult) {
    return Status::InvalidArgument("'" + std::string(text) + "': size out of range");
  }
  return n * mult;
}

Status ValidateName(std::string_view kind, std::string_view name) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  bool ok = !name.empty() && name.size() <= 64 && ok_char(name[0]) && name[0] != '.' &&
            name[0] != '-' && name[0] != '_' && std::all_of(name.begin(), name.end(), ok_char);
  if (!ok) {
    return Status::InvalidArgument(
        std::string(kind) + " name '" + EscapePath(name) +
        "': use 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit");
  }
  return Status::Ok();
}

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
  Reader rd(v, "image.json");
  DW_RETURN_IF_ERROR(rd.Str("name", &r.name));
  DW_RETURN_IF_ERROR(rd.Hash("digest", &r.digest));
  DW_RETURN_IF_ERROR(rd.Int("imported_ns", &r.imported_ns));
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
  Reader rd(v, "state.json");
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
  DW_RETURN_IF_ERROR(rd.Int("pid", &r.pid));
  DW_RETURN_IF_ERROR(rd.U64("start_ticks", &r.start_ticks));
  DW_RETURN_IF_ERROR(rd.Int("monitor_pid", &r.monitor_pid));
  DW_RETURN_IF_ERROR(rd.Int("created_ns", &r.created_ns));
  DW_RETURN_IF_ERROR(rd.Int("started_ns", &r.started_ns));
  DW_RETURN_IF_ERROR(rd.Int("finished_ns", &r.finished_ns));
  DW_RETURN_IF_ERROR(rd.Str("status", &r.status));
  DW_RETURN_IF_ERROR(rd.Int("exit_code", &r.exit_code));
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
  Reader rd(v, "service");
  DW_RETURN_IF_ERROR(rd.Str("name", &r.name));
  DW_RETURN_IF_ERROR(rd.Str("active", &r.active));
  DW_RETURN_IF_ERROR(rd.Str("previous", &r.previous));
  DW_RETURN_IF_ERROR(rd.Str("health", &r.health));
  return r;
}

std::string StateDir::DefaultPath() {
  const char* env = std::getenv("DRIFTWATCH_STATE_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return "/var/lib/driftwatch/containers";
}

Result<ImageRecord> StateDir::LoadImage(const std::string& name) const {
  DW_RETURN_IF_ERROR(ValidateName("image", name));
  auto text = ReadSmallFile(*host_, ImageDir(name) + "/image.json", 1 << 20);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return Status::NotFound("no image named '" + name + "'");
    return text.status();
  }
  return ImageRecordFromJson(*text);
}

Status StateDir::SaveImage(const ImageRecord& r) const {
  return host_->WriteFileAtomic(ImageDir(r.name) + "/image.json", ImageRecordToJson(r), 0600);
}

Result<ContainerRecord> StateDir::LoadContainer(const std::string& name) const {
  DW_RETURN_IF_ERROR(ValidateName("container", name));
  auto text = ReadSmallFile(*host_, ContainerDir(name) + "/state.json", 1 << 20);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return Status::NotFound("no container named '" + name + "'");
    return text.status();
  }
  return ContainerRecordFromJson(*text);
}

Status StateDir::SaveContainer(const ContainerRecord& r) const {
  return host_->WriteFileAtomic(ContainerDir(r.name) + "/state.json", ContainerRecordToJson(r),
                                0600);
}

Result<std::vector<std::string>> StateDir::ListContainers() const {
  std::vector<std::string> out;
  std::string dir = root_ + "/containers";
  auto fd = host_->OpenAt(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kNotFound) return out;
    return fd.status();
  }
  DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> names, host_->ReadDir(fd->get()));
  for (const DirEntryName& de : names) {
    if (ValidateName("container", de.name).ok()) out.push_back(de.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<ServiceRecord> StateDir::LoadService(const std::string& name) const {
  DW_RETURN_IF_ERROR(ValidateName("service", name));
  auto text = ReadSmallFile(*host_, ServiceFile(name), 1 << 20);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return Status::NotFound("service " + name + " was never deployed");
    return text.status();
  }
  return ServiceRecordFromJson(*text);
}

Status StateDir::SaveService(const ServiceRecord& r) const {
  DW_RETURN_IF_ERROR(MakeDirs(*host_, root_ + "/services", 0700));
  return host_->WriteFileAtomic(ServiceFile(r.name), ServiceRecordToJson(r), 0600);
}

Result<std::string> ReadSmallFile(Host& host, const std::string& path, size_t max_bytes) {
  DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW));
  std::string out;
  char buf[8192];
  while (true) {
    auto n = host.Read(fd.get(), buf, sizeof buf);
    if (!n.ok()) return n.status().WithContext(path);
    if (*n == 0) return out;
    out.append(buf, *n);
    if (out.size() > max_bytes) {
      return Status::ResourceExhausted(path + ": larger than " + std::to_string(max_bytes) +
                                       " bytes");
    }
  }
}

std::optional<uint64_t> ProcStatField(std::string_view text, int field) {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  size_t close_paren = text.rfind(')');
  if (field < 3 || close_paren == std::string_view::npos || close_paren + 2 > text.size())
    return std::nullopt;
  std::string_view rest = text.substr(close_paren + 2);  // starts at field 3 (state)
  int at = 3;
  size_t i = 0;
  while (at < field && i < rest.size()) {
    if (rest[i] == ' ') ++at;
    ++i;
  }
  if (at != field || i >= rest.size()) return std::nullopt;
  std::string_view value = rest.substr(i, rest.find_first_of(" \n", i) - i);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
  return v;
}

uint64_t ProcessStartTicks(Host& host, pid_t pid) {
  if (pid <= 0) return 0;
  auto text = ReadSmallFile(host, "/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text.ok()) return 0;
  return ProcStatField(*text, 22).value_or(0);
}

bool IsKernelThread(Host& host, pid_t pid) {
  auto text = ReadSmallFile(host, "/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text.ok()) return false;
  constexpr uint64_t kPfKthread = 0x00200000;  // include/linux/sched.h
  return (ProcStatField(*text, 9).value_or(0) & kPfKthread) != 0;
}

bool ProcessMatches(Host& host, pid_t pid, uint64_t start_ticks) {
  return pid > 0 && start_ticks != 0 && ProcessStartTicks(host, pid) == start_ticks;
}

}  // namespace driftwatch::container
