#include "container/runtime_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <exception>

#include "core/drift_json.h"
#include "core/json_fields.h"

namespace driftwatch::container {

namespace {

// A parsed value costs tens of bytes; this bounds what a hostile file can
// make the parser allocate, far above what a real state file holds.
constexpr size_t kMaxJsonValues = 4'000'000;
constexpr size_t kMaxCmdline = 64 << 10;

}  // namespace

Result<web::json::value> ParseStateJson(std::string_view text, std::string_view what) {
  if (!JsonDepthWithin(text, kMaxStateJsonDepth, kMaxJsonValues)) {
    return Status::Corruption(std::string(what) + ": JSON nested too deep or too large");
  }
  try {
    return web::json::value::parse(std::string(text));
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": bad JSON: " + e.what());
  }
}

std::string JsonString(const web::json::value& obj, const char* key) {
  if (!obj.is_object()) return "";
  const web::json::value* v = json_fields::Find(obj, key);
  if (v == nullptr || !v->is_string()) return "";
  return v->as_string();
}

const web::json::value* JsonObject(const web::json::value& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const web::json::value* v = json_fields::Find(obj, key);
  return v != nullptr && v->is_object() ? v : nullptr;
}

const web::json::value* JsonArray(const web::json::value& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const web::json::value* v = json_fields::Find(obj, key);
  return v != nullptr && v->is_array() ? v : nullptr;
}

int64_t JsonInt(const web::json::value& obj, const char* key, int64_t fallback) {
  if (!obj.is_object()) return fallback;
  const web::json::value* v = json_fields::Find(obj, key);
  if (v == nullptr || !v->is_number() || !v->as_number().is_int64()) return fallback;
  return v->as_number().to_int64();
}

bool JsonBool(const web::json::value& obj, const char* key) {
  if (!obj.is_object()) return false;
  const web::json::value* v = json_fields::Find(obj, key);
  return v != nullptr && v->is_boolean() && v->as_bool();
}

std::vector<std::pair<std::string, std::string>> JsonStringMap(const web::json::value* obj) {
  std::vector<std::pair<std::string, std::string>> out;
  if (obj == nullptr || !obj->is_object()) return out;
  for (const auto& [k, v] : obj->as_object()) {
    if (v.is_string()) out.emplace_back(k, v.as_string());
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<std::string> ReadStateFile(Host& host, const std::string& path, size_t max_bytes) {
  return host.ReadFile(path, max_bytes);
}

Result<std::unique_ptr<const bolt::BoltDb>> ReadBoltFile(Host& host, const std::string& path) {
  Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    DW_ASSIGN_OR_RETURN(std::string bytes, ReadStateFile(host, path, kMaxBoltFile));
    Result<std::unique_ptr<const bolt::BoltDb>> db = bolt::BoltDb::Open(std::move(bytes));
    if (db.ok()) return db;
    last = db.status().WithContext(path);
    if (db.status().code() != StatusCode::kCorruption) break;
  }
  return last;
}

Result<std::vector<std::string>> ListDir(Host& host, const std::string& path) {
  DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY));
  DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> entries, host.ReadDir(fd.get()));
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (DirEntryName& e : entries) names.push_back(std::move(e.name));
  std::sort(names.begin(), names.end());
  return names;
}

bool PathExists(Host& host, const std::string& path) {
  struct stat st {};
  return host.StatAt(AT_FDCWD, path, &st).ok();
}

bool IsDirectory(Host& host, const std::string& path) {
  return host.OpenAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY).ok();
}

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsLowerHex(std::string_view s, size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsSha256Digest(std::string_view s) {
  return s.starts_with("sha256:") && IsLowerHex(s.substr(7), 64);
}

void NormalizeContainer(RuntimeContainer* c) {
  std::stable_sort(c->labels.begin(), c->labels.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  c->labels.erase(std::unique(c->labels.begin(), c->labels.end(),
                              [](const auto& a, const auto& b) { return a.first == b.first; }),
                  c->labels.end());
  std::stable_sort(
      c->mounts.begin(), c->mounts.end(),
      [](const RuntimeMount& a, const RuntimeMount& b) { return a.destination < b.destination; });
  c->mounts.erase(std::unique(c->mounts.begin(), c->mounts.end(),
                              [](const RuntimeMount& a, const RuntimeMount& b) {
                                return a.destination == b.destination;
                              }),
                  c->mounts.end());
}

void AddNote(std::string* note, std::string_view more) {
  if (more.empty()) return;
  if (!note->empty()) note->append("; ");
  note->append(more);
}

std::vector<std::vector<std::string>> CommandLinesOf(
    Host& host, const std::string& proc, std::initializer_list<std::string_view> programs) {
  std::vector<std::vector<std::string>> out;
  Result<std::vector<std::string>> names = ListDir(host, proc);
  if (!names.ok()) return out;
  std::vector<std::pair<long, std::string>> pids;
  for (const std::string& n : *names) {
    if (n.empty() || n.size() > 10 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    pids.emplace_back(std::strtol(n.c_str(), nullptr, 10), n);
  }
  std::sort(pids.begin(), pids.end());
  for (const auto& [pid, name] : pids) {
    Result<std::string> raw = host.ReadFile(proc + "/" + name + "/cmdline", kMaxCmdline);
    if (!raw.ok() || raw->empty()) continue;
    std::vector<std::string> argv;
    std::string_view rest = *raw;
    while (!rest.empty()) {
      size_t nul = rest.find('\0');
      argv.emplace_back(rest.substr(0, nul));
      if (nul == std::string_view::npos) break;
      rest.remove_prefix(nul + 1);
    }
    std::string_view prog = argv[0];
    if (size_t slash = prog.rfind('/'); slash != std::string_view::npos) {
      prog.remove_prefix(slash + 1);
    }
    if (std::find(programs.begin(), programs.end(), prog) != programs.end()) {
      out.push_back(std::move(argv));
    }
  }
  return out;
}

std::vector<std::string> FlagValues(const std::vector<std::string>& argv,
                                    std::initializer_list<std::string_view> names) {
  std::vector<std::string> out;
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    for (std::string_view n : names) {
      if (a == n && i + 1 < argv.size()) {
        out.push_back(argv[i + 1]);
        break;
      }
      if (a.size() > n.size() + 1 && a.starts_with(n) && a[n.size()] == '=') {
        out.emplace_back(a.substr(n.size() + 1));
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> UserHomes(Host& host, const std::string& etc) {
  std::vector<std::string> homes;
  Result<std::string> passwd = ReadStateFile(host, etc + "/passwd", 4 << 20);
  if (!passwd.ok()) return homes;
  std::string_view rest = *passwd;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    // name:password:uid:gid:gecos:home:shell
    std::vector<std::string_view> f;
    for (size_t i = 0; i < 7; ++i) {
      size_t colon = line.find(':');
      f.push_back(line.substr(0, colon));
      if (colon == std::string_view::npos) break;
      line.remove_prefix(colon + 1);
    }
    if (f.size() < 6 || f[2] == "0" || !f[5].starts_with('/') || f[5] == "/") continue;
    AddUnique(&homes, std::string(f[5]));
  }
  return homes;
}

void AddUnique(std::vector<std::string>* paths, std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty()) return;
  if (std::find(paths->begin(), paths->end(), path) == paths->end()) {
    paths->push_back(std::move(path));
  }
}

bool SafeComponent(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

}  // namespace driftwatch::container
