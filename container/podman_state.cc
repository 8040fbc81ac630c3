#include "container/podman_state.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "container/containerd_state.h"
#include "container/runtime_files.h"
#include "core/drift_json.h"
#include "core/sqlite.h"

namespace driftwatch::container {

namespace {

constexpr int kMaxLayerChain = 1024;
// libpod's ContainerStatus values that have a process.
constexpr int64_t kLibpodRunning = 3;
constexpr int64_t kLibpodPaused = 5;

Result<web::json::value> ParseArray(std::string_view text, const char* what) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(text, what));
  if (!v.is_array()) return Status::Corruption(std::string(what) + ": not a JSON array");
  return v;
}

std::vector<std::string> StringList(const web::json::value& obj, const char* key) {
  std::vector<std::string> out;
  if (const web::json::value* a = JsonArray(obj, key)) {
    for (const web::json::value& s : a->as_array()) {
      if (s.is_string()) out.push_back(s.as_string());
    }
  }
  return out;
}

std::string LabelValue(const RuntimeContainer& c, std::string_view key) {
  for (const auto& [k, v] : c.labels) {
    if (k == key) return v;
  }
  return "";
}

// `graphroot` of storage.conf's [storage] table.
std::string GraphRoot(std::string_view toml) {
  bool in_storage = false;
  while (!toml.empty()) {
    size_t nl = toml.find('\n');
    std::string_view line = TrimSpace(toml.substr(0, nl));
    toml = nl == std::string_view::npos ? std::string_view() : toml.substr(nl + 1);
    if (line.starts_with('[')) {
      in_storage = line == "[storage]";
      continue;
    }
    size_t eq = line.find('=');
    if (!in_storage || eq == std::string_view::npos ||
        TrimSpace(line.substr(0, eq)) != "graphroot") {
      continue;
    }
    std::string_view val = TrimSpace(line.substr(eq + 1));
    if (val.size() >= 2 && (val.front() == '"' || val.front() == '\'')) {
      size_t close = val.find(val.front(), 1);
      if (close != std::string_view::npos) return std::string(val.substr(1, close - 1));
    }
  }
  return "";
}

// A pid file's process when it still runs under `proc`; 0 otherwise.
pid_t LivePid(Host& host, const std::string& proc, int64_t pid) {
  if (pid <= 0 || pid > INT32_MAX) return 0;
  return PathExists(host, proc + "/" + std::to_string(pid)) ? static_cast<pid_t>(pid) : 0;
}

// A CRI-O container from its spec's annotations; false when the spec is
// not CRI-O's.
bool ApplyCrioSpec(std::string_view json, RuntimeContainer* c, std::string* note) {
  Result<web::json::value> v = ParseStateJson(json, "config.json");
  if (!v.ok() || !v->is_object()) return false;
  auto annotations = JsonStringMap(JsonObject(*v, "annotations"));
  auto get = [&](std::string_view key) -> std::string {
    for (const auto& [k, val] : annotations) {
      if (k == key) return val;
    }
    return "";
  };
  if (get("io.kubernetes.cri-o.ContainerType").empty()) return false;
  c->runtime = "cri-o";
  c->image = get("io.kubernetes.cri-o.ImageName");
  // CRI-O keeps the pod's and container's labels as one JSON string.
  std::string labels = get("io.kubernetes.cri-o.Labels");
  if (!labels.empty()) {
    Result<web::json::value> l = ParseStateJson(labels, "io.kubernetes.cri-o.Labels");
    if (l.ok()) {
      c->labels = JsonStringMap(&*l);
    } else {
      AddNote(note, l.status().message());
    }
  }
  Status s = ApplyOciSpec(json, c);
  if (!s.ok()) AddNote(note, s.message());
  return true;
}

// The image's layer directories, top-most first.
Result<std::vector<std::string>> Layers(const std::string& root, const std::string& driver,
                                        const std::map<std::string, std::string>& parents,
                                        std::string top) {
  std::vector<std::string> out;
  if (driver != "overlay" && driver != "vfs") return out;
  std::set<std::string> seen;
  while (!top.empty()) {
    if (!SafeComponent(top)) return Status::Corruption("layers.json: bad layer id");
    if (!seen.insert(top).second || seen.size() > kMaxLayerChain) {
      return Status::Corruption("layers.json: layer chain loops or is too long");
    }
    auto it = parents.find(top);
    if (it == parents.end()) return Status::Corruption("layers.json: no layer " + top);
    if (driver == "vfs") {
      out.push_back(root + "/vfs/dir/" + top);  // each vfs layer is a full copy
      break;
    }
    out.push_back(root + "/overlay/" + top + "/diff");
    top = it->second;
  }
  return out;
}

// libpod's record of one container: its config and state JSON.
struct LibpodRecord {
  std::string config;
  std::string state;
};

struct LibpodDb {
  std::map<std::string, LibpodRecord> containers;
  std::string run_root;
};

// libpod's bbolt database: ctr/ID/{config,state}, runtime-config/run-root.
Result<LibpodDb> ReadLibpodBolt(const bolt::BoltDb& db, const std::string& path) {
  LibpodDb out;
  auto fail = [&](const Status& s) { return s.WithContext(path); };
  Result<std::optional<bolt::Bucket>> rc = db.Root().Sub("runtime-config");
  if (rc.ok() && *rc) {
    Result<std::optional<std::string_view>> rr = (*rc)->Get("run-root");
    if (rr.ok() && *rr) out.run_root = std::string(**rr);
  }
  Result<std::optional<bolt::Bucket>> ctr = db.Root().Sub("ctr");
  if (!ctr.ok()) return fail(ctr.status());
  if (!*ctr) return out;
  Result<std::vector<bolt::Item>> ids = (*ctr)->Items();
  if (!ids.ok()) return fail(ids.status());
  for (const bolt::Item& id : *ids) {
    if (!id.is_bucket) continue;
    Result<std::optional<bolt::Bucket>> b = (*ctr)->Sub(id.key);
    if (!b.ok()) return fail(b.status());
    if (!*b) continue;
    LibpodRecord r;
    for (auto [key, field] : {std::pair{"config", &r.config}, std::pair{"state", &r.state}}) {
      Result<std::optional<std::string_view>> v = (*b)->Get(key);
      if (!v.ok()) return fail(v.status());
      if (*v) *field = std::string(**v);
    }
    out.containers.emplace(std::string(id.key), std::move(r));
  }
  return out;
}

// libpod's SQLite database (podman 4.8 and later): ContainerConfig and
// ContainerState hold the same JSON documents as the bbolt buckets. Opened
// read-only without waiting for podman's lock (a locked database is a
// note, read again at the next check).
Result<LibpodDb> ReadLibpodSqlite(const std::string& path) {
  sqlite::DbOptions options;
  options.read_only = true;
  options.uri = true;
  options.busy_timeout_ms = 0;
  options.name = path;
  DW_ASSIGN_OR_RETURN(auto db, sqlite::Db::Open("file:" + path + "?mode=ro", options));
  LibpodDb out;
  {
    auto q = db->Prepare(
        "SELECT ContainerConfig.ID, ContainerConfig.JSON, ContainerState.JSON FROM ContainerConfig "
        "LEFT JOIN ContainerState ON ContainerState.ID = ContainerConfig.ID");
    if (!q.ok()) return Status::Corruption(q.status().message() + " (unknown libpod schema)");
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      out.containers.emplace(q->Text(0), LibpodRecord{q->Text(1), q->Text(2)});
    }
  }
  auto rr = db->Prepare("SELECT RunRoot FROM DBConfig");
  if (rr.ok()) {
    Result<bool> row = rr->Step();
    if (row.ok() && *row) out.run_root = rr->Text(0);
  }
  return out;
}

}  // namespace

Result<std::vector<StorageContainer>> ParseStorageContainers(std::string_view text) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseArray(text, "containers.json"));
  std::vector<StorageContainer> out;
  for (const web::json::value& e : v.as_array()) {
    StorageContainer c;
    c.id = JsonString(e, "id");
    if (c.id.empty()) continue;
    c.names = StringList(e, "names");
    c.image = JsonString(e, "image");
    c.layer = JsonString(e, "layer");
    // metadata is a JSON document inside a string.
    std::string metadata = JsonString(e, "metadata");
    if (!metadata.empty()) {
      Result<web::json::value> m = ParseStateJson(metadata, "containers.json metadata");
      if (m.ok()) c.image_name = JsonString(*m, "image-name");
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<StorageImage>> ParseStorageImages(std::string_view text) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseArray(text, "images.json"));
  std::vector<StorageImage> out;
  for (const web::json::value& e : v.as_array()) {
    StorageImage i;
    i.id = JsonString(e, "id");
    if (i.id.empty()) continue;
    i.digest = JsonString(e, "digest");
    if (!IsSha256Digest(i.digest)) i.digest.clear();
    i.names = StringList(e, "names");
    i.layer = JsonString(e, "layer");
    out.push_back(std::move(i));
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseStorageLayers(std::string_view text) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseArray(text, "layers.json"));
  std::map<std::string, std::string> out;
  for (const web::json::value& e : v.as_array()) {
    std::string id = JsonString(e, "id");
    if (!id.empty()) out.emplace(std::move(id), JsonString(e, "parent"));
  }
  return out;
}

Status ApplyLibpodConfig(std::string_view json, RuntimeContainer* c) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(json, "libpod config"));
  if (!v.is_object()) return Status::Corruption("libpod config: not a JSON object");
  c->name = JsonString(v, "name");
  c->image = JsonString(v, "rootfsImageName");
  if (c->image.empty()) c->image = JsonString(v, "RawImageName");
  std::string id = JsonString(v, "rootfsImageID");
  if (IsLowerHex(id, 64)) c->image_id = "sha256:" + id;
  for (auto& kv : JsonStringMap(JsonObject(v, "labels"))) c->labels.push_back(std::move(kv));
  if (const web::json::value* vols = JsonArray(v, "namedVolumes")) {
    for (const web::json::value& vol : vols->as_array()) {
      std::string dest = JsonString(vol, "dest");
      if (dest.starts_with('/'))
        c->mounts.push_back({dest, JsonString(vol, "volumeName"), "volume"});
    }
  }
  if (const web::json::value* spec = JsonObject(v, "spec")) {
    DW_RETURN_IF_ERROR(ApplyOciSpec(spec->serialize(), c));
  }
  NormalizeContainer(c);
  return Status::Ok();
}

Status ApplyLibpodState(std::string_view json, RuntimeContainer* c) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(json, "libpod state"));
  if (!v.is_object()) return Status::Corruption("libpod state: not a JSON object");
  const int64_t state = JsonInt(v, "state", 0);
  const int64_t pid = JsonInt(v, "pid", 0);
  c->running = (state == kLibpodRunning || state == kLibpodPaused) && pid > 0 && pid <= INT32_MAX;
  c->pid = c->running ? static_cast<pid_t>(pid) : 0;
  Result<int64_t> started = ParseRfc3339(JsonString(v, "startedTime"));
  if (c->running && started.ok() && *started > 0) c->started_ns = *started;
  for (auto& [dest, src] : JsonStringMap(JsonObject(v, "bindMounts"))) {
    if (dest.starts_with('/')) c->mounts.push_back({dest, src, "bind"});
  }
  NormalizeContainer(c);
  return Status::Ok();
}

std::vector<std::string> StorageRoots(Host& host, const std::string& etc,
                                      const std::vector<std::vector<std::string>>& conmons) {
  std::vector<std::string> roots;
  for (const std::vector<std::string>& argv : conmons) {
    // podman passes its global flags on to the exit command conmon runs:
    // "--exit-command-arg --root --exit-command-arg /var/lib/...".
    std::vector<std::string> exit_args = FlagValues(argv, {"--exit-command-arg"});
    for (size_t i = 0; i + 1 < exit_args.size(); ++i) {
      if (exit_args[i] == "--root") AddUnique(&roots, exit_args[i + 1]);
      if (exit_args[i].starts_with("--root=")) AddUnique(&roots, exit_args[i].substr(7));
    }
    // CRI-O's and podman's bundle: STORAGE/DRIVER-containers/ID/userdata.
    for (const std::string& bundle : FlagValues(argv, {"--bundle", "-b"})) {
      std::string_view b = bundle;
      if (!b.ends_with("/userdata")) continue;
      b.remove_suffix(9);
      size_t id = b.rfind('/');
      if (id == std::string_view::npos) continue;
      b = b.substr(0, id);
      size_t drv = b.rfind('/');
      if (drv == std::string_view::npos || !b.ends_with("-containers")) continue;
      AddUnique(&roots, std::string(b.substr(0, drv)));
    }
  }
  Result<std::string> conf = ReadStateFile(host, etc + "/containers/storage.conf", 1 << 20);
  if (conf.ok()) AddUnique(&roots, GraphRoot(*conf));
  AddUnique(&roots, "/var/lib/containers/storage");
  // Rootless podman keeps each user's storage in their home.
  for (const std::string& home : UserHomes(host, etc)) {
    const std::string storage = home + "/.local/share/containers/storage";
    if (PathExists(host, storage)) AddUnique(&roots, storage);
  }
  return roots;
}

void ReadStorageRoot(Host& host, const std::string& root, const std::string& proc,
                     bool only_running, RuntimeInventory* out) {
  Result<std::vector<std::string>> entries = ListDir(host, root);
  if (!entries.ok()) {
    if (entries.status().code() != StatusCode::kNotFound) {
      out->notes.push_back("podman: " + entries.status().message());
    }
    return;
  }
  // libpod's database: bbolt (podman before 5), else SQLite.
  std::optional<LibpodDb> libpod;
  const std::string bolt_path = root + "/libpod/bolt_state.db";
  const std::string sqlite_path = root + "/libpod/db.sql";
  Result<std::unique_ptr<const bolt::BoltDb>> bolt_db = ReadBoltFile(host, bolt_path);
  Result<LibpodDb> read = Status::NotFound("no libpod database");
  if (bolt_db.ok()) {
    read = ReadLibpodBolt(**bolt_db, bolt_path);
  } else if (bolt_db.status().code() != StatusCode::kNotFound) {
    read = bolt_db.status();
  } else if (PathExists(host, sqlite_path)) {
    read = ReadLibpodSqlite(sqlite_path);
  }
  if (read.ok()) {
    libpod = std::move(*read);
  } else if (read.status().code() != StatusCode::kNotFound || PathExists(host, sqlite_path)) {
    out->notes.push_back("podman: " + read.status().message());
  }
  // Where the runtime keeps pid files: libpod's run-root, else the default
  // run root of the default storage.
  std::string run_root = libpod ? libpod->run_root : "";
  if (run_root.empty() && root == "/var/lib/containers/storage") {
    run_root = "/run/containers/storage";
  }
  for (const std::string& entry : *entries) {
    if (!entry.ends_with("-containers") || entry.size() <= 11) continue;
    const std::string driver = entry.substr(0, entry.size() - 11);
    const std::string path = root + "/" + entry + "/containers.json";
    Result<std::string> text = ReadStateFile(host, path);
    if (!text.ok()) {
      if (text.status().code() != StatusCode::kNotFound) {
        out->notes.push_back("podman: " + text.status().message());
      }
      continue;
    }
    Result<std::vector<StorageContainer>> containers = ParseStorageContainers(*text);
    if (!containers.ok()) {
      out->notes.push_back("podman: " + root + "/" + entry + "/" + containers.status().message());
      continue;
    }
    std::vector<StorageImage> images;
    std::map<std::string, std::string> parents;
    std::string images_note, layers_note;
    Result<std::string> images_text =
        ReadStateFile(host, root + "/" + driver + "-images/images.json");
    Result<std::vector<StorageImage>> parsed_images =
        images_text.ok() ? ParseStorageImages(*images_text) : images_text.status();
    if (parsed_images.ok()) {
      images = std::move(*parsed_images);
    } else {
      images_note = (images_text.ok() ? root + "/" + driver + "-images/" : std::string()) +
                    parsed_images.status().message();
    }
    Result<std::string> layers_text =
        ReadStateFile(host, root + "/" + driver + "-layers/layers.json");
    Result<std::map<std::string, std::string>> parsed_layers =
        layers_text.ok() ? ParseStorageLayers(*layers_text) : layers_text.status();
    if (parsed_layers.ok()) {
      parents = std::move(*parsed_layers);
    } else {
      layers_note = (layers_text.ok() ? root + "/" + driver + "-layers/" : std::string()) +
                    parsed_layers.status().message();
    }

    for (const StorageContainer& sc : *containers) {
      if (!SafeComponent(sc.id)) continue;
      RuntimeContainer c;
      c.id = sc.id;
      c.storage_driver = driver;
      const LibpodRecord* record = nullptr;
      if (libpod) {
        auto it = libpod->containers.find(sc.id);
        if (it != libpod->containers.end()) record = &it->second;
      }
      if (record != nullptr) {
        c.runtime = "podman";
        if (record->config.empty()) AddNote(&c.note, "libpod database: no config");
        if (record->state.empty()) AddNote(&c.note, "libpod database: no state");
        Status s = record->config.empty() ? Status::Ok() : ApplyLibpodConfig(record->config, &c);
        if (!s.ok()) AddNote(&c.note, s.message());
        s = record->state.empty() ? Status::Ok() : ApplyLibpodState(record->state, &c);
        if (!s.ok()) AddNote(&c.note, s.message());
        if (c.running) {
          c.pid = LivePid(host, proc, c.pid);
          c.running = c.pid != 0;
          if (!c.running) c.started_ns = 0;
        }
      } else {
        Result<std::string> spec =
            ReadStateFile(host, root + "/" + entry + "/" + sc.id + "/userdata/config.json");
        if (!spec.ok() || !ApplyCrioSpec(*spec, &c, &c.note)) continue;
        if (!run_root.empty()) {
          const std::string pidfile = run_root + "/" + entry + "/" + sc.id + "/userdata/pidfile";
          Result<std::string> pid = ReadStateFile(host, pidfile, 64);
          if (pid.ok()) {
            std::string digits(TrimSpace(*pid));
            int64_t n = 0;
            if (!digits.empty() && digits.size() < 10 &&
                std::all_of(digits.begin(), digits.end(),
                            [](char ch) { return ch >= '0' && ch <= '9'; })) {
              n = std::stoll(digits);
            }
            c.pid = LivePid(host, proc, n);
            c.running = c.pid != 0;
          }
        }
        const std::string pod = LabelValue(c, "io.kubernetes.pod.name");
        const std::string name = LabelValue(c, "io.kubernetes.container.name");
        if (!pod.empty() && !name.empty()) c.name = pod + "/" + name;
      }
      if (only_running && !c.running) continue;
      if (c.name.empty() && !sc.names.empty()) c.name = sc.names[0];
      if (c.image.empty()) c.image = sc.image_name;
      if (c.image_id.empty() && IsLowerHex(sc.image, 64)) c.image_id = "sha256:" + sc.image;
      const StorageImage* image = nullptr;
      for (const StorageImage& i : images) {
        if (i.id == sc.image) image = &i;
      }
      if (image != nullptr) c.image_digest = image->digest;
      AddNote(&c.note, images_note);
      if (layers_note.empty()) {
        // The image's top layer is the parent of the container's own.
        std::string top = image != nullptr ? image->layer : "";
        if (auto it = parents.find(sc.layer); top.empty() && it != parents.end()) top = it->second;
        Result<std::vector<std::string>> layers = Layers(root, driver, parents, top);
        if (layers.ok()) {
          c.image_layers = std::move(*layers);
        } else {
          AddNote(&c.note, "image layers: " + layers.status().message());
        }
      } else {
        AddNote(&c.note, layers_note);
      }
      NormalizeContainer(&c);
      out->containers.push_back(std::move(c));
    }
  }
}

}  // namespace driftwatch::container
