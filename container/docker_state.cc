#include "container/docker_state.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "container/runtime_files.h"
#include "core/chain.h"
#include "core/drift_json.h"

namespace driftwatch::container {

namespace {

// Docker refuses more than 125 layers for overlay2; this bounds a walk
// through a corrupt layer database.
constexpr int kMaxLayers = 1024;

std::string DaemonJsonRoot(Host& host, const std::string& path) {
  Result<std::string> text = ReadStateFile(host, path, 1 << 20);
  if (!text.ok()) return "";
  Result<web::json::value> v = ParseStateJson(*text, path);
  if (!v.ok()) return "";
  std::string root = JsonString(*v, "data-root");
  if (root.empty()) root = JsonString(*v, "graph");
  return root;
}

// A cache id or driver name used as one path component.
// "busybox:latest" -> "busybox", "reg:5000/a/b:1" -> "reg:5000/a/b",
// "a@sha256:..." -> "a".
std::string_view RepositoryOf(std::string_view ref) {
  if (size_t at = ref.find('@'); at != std::string_view::npos) return ref.substr(0, at);
  size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && ref.find('/', colon) == std::string_view::npos) {
    return ref.substr(0, colon);
  }
  return ref;
}

// The image's chain ids from its config's rootfs.diff_ids (the base layer's
// chain id is its diff id; each next one is sha256 of "PARENT DIFF").
Result<std::string> TopChainFromImage(Host& host, const std::string& image_dir,
                                      const std::string& image_id) {
  if (!IsSha256Digest(image_id)) return Status::NotFound("no image id");
  const std::string path = image_dir + "/imagedb/content/sha256/" + image_id.substr(7);
  DW_ASSIGN_OR_RETURN(std::string text, ReadStateFile(host, path));
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(text, path));
  const web::json::value* rootfs = JsonObject(v, "rootfs");
  const web::json::value* diffs = rootfs != nullptr ? JsonArray(*rootfs, "diff_ids") : nullptr;
  if (diffs == nullptr || diffs->size() == 0) {
    return Status::Corruption(path + ": no rootfs.diff_ids");
  }
  std::string chain;
  for (const web::json::value& d : diffs->as_array()) {
    if (!d.is_string() || !IsSha256Digest(d.as_string())) {
      return Status::Corruption(path + ": bad diff id");
    }
    chain =
        chain.empty() ? d.as_string() : "sha256:" + chain::Sha256Hex(chain + " " + d.as_string());
  }
  return chain;
}

// The host directories of the image's layers, top-most first.
Result<std::vector<std::string>> ImageLayers(Host& host, const std::string& root,
                                             const RuntimeContainer& c) {
  std::vector<std::string> layers;
  if (c.storage_driver != "overlay2" && c.storage_driver != "vfs") return layers;
  const std::string image_dir = root + "/image/" + c.storage_driver;
  const std::string layerdb = image_dir + "/layerdb";
  std::string chain;
  Result<std::string> parent = ReadStateFile(host, layerdb + "/mounts/" + c.id + "/parent", 4096);
  if (parent.ok()) {
    chain = std::string(TrimSpace(*parent));
  } else {
    DW_ASSIGN_OR_RETURN(chain, TopChainFromImage(host, image_dir, c.image_id));
  }
  std::set<std::string> seen;
  while (!chain.empty()) {
    if (!IsSha256Digest(chain)) return Status::Corruption(layerdb + ": bad chain id " + chain);
    if (!seen.insert(chain).second || seen.size() > kMaxLayers) {
      return Status::Corruption(layerdb + ": layer chain loops or is too long");
    }
    const std::string dir = layerdb + "/sha256/" + chain.substr(7);
    DW_ASSIGN_OR_RETURN(std::string cache, ReadStateFile(host, dir + "/cache-id", 4096));
    std::string_view id = TrimSpace(cache);
    if (!SafeComponent(id)) return Status::Corruption(dir + "/cache-id: bad cache id");
    if (c.storage_driver == "vfs") {
      // vfs keeps each layer as a full copy: the top one is the image.
      layers.push_back(root + "/vfs/dir/" + std::string(id));
      break;
    }
    layers.push_back(root + "/overlay2/" + std::string(id) + "/diff");
    Result<std::string> next = ReadStateFile(host, dir + "/parent", 4096);
    if (!next.ok()) {
      if (next.status().code() == StatusCode::kNotFound) break;
      return next.status();
    }
    chain = std::string(TrimSpace(*next));
  }
  return layers;
}

}  // namespace

Result<RuntimeContainer> ParseDockerConfig(std::string_view text) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(text, "config.v2.json"));
  if (!v.is_object()) return Status::Corruption("config.v2.json: not a JSON object");
  RuntimeContainer c;
  c.runtime = "docker";
  c.id = JsonString(v, "ID");
  if (!IsLowerHex(c.id, 64)) {
    return Status::Corruption("config.v2.json: no 64-hex \"ID\" (unknown format)");
  }
  c.name = JsonString(v, "Name");
  if (c.name.starts_with('/')) c.name.erase(0, 1);
  c.image_id = JsonString(v, "Image");
  if (!IsSha256Digest(c.image_id)) c.image_id.clear();
  c.storage_driver = JsonString(v, "Driver");
  if (const web::json::value* config = JsonObject(v, "Config")) {
    c.image = JsonString(*config, "Image");
    c.labels = JsonStringMap(JsonObject(*config, "Labels"));
  }
  if (const web::json::value* state = JsonObject(v, "State")) {
    c.running = JsonBool(*state, "Running");
    int64_t pid = JsonInt(*state, "Pid", 0);
    if (c.running && pid > 0 && pid <= INT32_MAX) c.pid = static_cast<pid_t>(pid);
    Result<int64_t> started = ParseRfc3339(JsonString(*state, "StartedAt"));
    if (started.ok() && *started > 0) c.started_ns = *started;
  }
  if (const web::json::value* points = JsonObject(v, "MountPoints")) {
    for (const auto& [dest, mp] : points->as_object()) {
      RuntimeMount m;
      m.destination = JsonString(mp, "Destination");
      if (m.destination.empty()) m.destination = dest;
      m.type = JsonString(mp, "Type");
      m.source = m.type == "volume" ? JsonString(mp, "Name") : JsonString(mp, "Source");
      if (m.source.empty()) m.source = JsonString(mp, "Source");
      if (m.type.empty()) m.type = JsonString(mp, "Name").empty() ? "bind" : "volume";
      if (m.destination.starts_with('/')) c.mounts.push_back(std::move(m));
    }
  }
  // Docker writes these three files itself and bind-mounts them in: they
  // are its state, not the image's.
  const std::pair<const char*, const char*> files[] = {{"HostnamePath", "/etc/hostname"},
                                                       {"HostsPath", "/etc/hosts"},
                                                       {"ResolvConfPath", "/etc/resolv.conf"}};
  for (const auto& [key, dest] : files) {
    std::string src = JsonString(v, key);
    if (!src.empty()) c.mounts.push_back({dest, src, "bind"});
  }
  NormalizeContainer(&c);
  return c;
}

Status ParseDockerHostConfig(std::string_view text, std::vector<RuntimeMount>* mounts) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(text, "hostconfig.json"));
  if (!v.is_object()) return Status::Corruption("hostconfig.json: not a JSON object");
  if (const web::json::value* binds = JsonArray(v, "Binds")) {
    for (const web::json::value& b : binds->as_array()) {
      if (!b.is_string()) continue;
      std::string_view spec = b.as_string();
      size_t colon = spec.find(':');
      if (colon == std::string_view::npos) {
        // "/dst" alone is an anonymous volume.
        if (spec.starts_with('/')) mounts->push_back({std::string(spec), "", "volume"});
        continue;
      }
      std::string_view src = spec.substr(0, colon);
      std::string_view dst = spec.substr(colon + 1);
      dst = dst.substr(0, dst.find(':'));
      if (!dst.starts_with('/')) continue;
      mounts->push_back(
          {std::string(dst), std::string(src), src.starts_with('/') ? "bind" : "volume"});
    }
  }
  if (const web::json::value* list = JsonArray(v, "Mounts")) {
    for (const web::json::value& m : list->as_array()) {
      std::string dst = JsonString(m, "Target");
      if (!dst.starts_with('/')) continue;
      std::string type = JsonString(m, "Type");
      mounts->push_back({dst, JsonString(m, "Source"), type.empty() ? "bind" : type});
    }
  }
  if (const web::json::value* tmpfs = JsonObject(v, "Tmpfs")) {
    for (const auto& [dst, opts] : tmpfs->as_object()) {
      if (dst.starts_with('/')) mounts->push_back({dst, "tmpfs", "tmpfs"});
    }
  }
  return Status::Ok();
}

Result<DockerRefs> ParseDockerRepositories(std::string_view text) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(text, "repositories.json"));
  const web::json::value* repos = JsonObject(v, "Repositories");
  if (repos == nullptr) return Status::Corruption("repositories.json: no \"Repositories\" object");
  DockerRefs refs;
  for (const auto& [name, tags] : repos->as_object()) {
    for (auto& kv : JsonStringMap(&tags)) refs.push_back(std::move(kv));
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

std::string DockerRepoDigest(const DockerRefs& refs, std::string_view image_ref,
                             std::string_view image_id) {
  std::string any;
  std::string_view repo = RepositoryOf(image_ref);
  for (const auto& [ref, id] : refs) {
    size_t at = ref.find("@sha256:");
    if (at == std::string::npos || id != image_id || !IsSha256Digest(ref.substr(at + 1))) {
      continue;
    }
    if (ref.substr(0, at) == repo) return ref.substr(at + 1);
    if (any.empty()) any = ref.substr(at + 1);
  }
  return any;
}

std::vector<std::string> DockerDataRoots(Host& host, const std::string& etc,
                                         const std::vector<std::vector<std::string>>& dockerds) {
  std::vector<std::string> roots;
  for (const std::vector<std::string>& argv : dockerds) {
    for (std::string& r : FlagValues(argv, {"--data-root", "-g", "--graph"})) {
      AddUnique(&roots, std::move(r));
    }
    for (const std::string& f : FlagValues(argv, {"--config-file"})) {
      AddUnique(&roots, DaemonJsonRoot(host, f));
    }
  }
  AddUnique(&roots, DaemonJsonRoot(host, etc + "/docker/daemon.json"));
  AddUnique(&roots, "/var/lib/docker");
  // Rootless dockerd keeps its data root in the user's home.
  for (const std::string& home : UserHomes(host, etc)) {
    const std::string root = home + "/.local/share/docker";
    if (PathExists(host, root)) AddUnique(&roots, root);
  }
  return roots;
}

void ReadDockerRoot(Host& host, const std::string& root, bool only_running, RuntimeInventory* out) {
  const std::string containers_dir = root + "/containers";
  Result<std::vector<std::string>> ids = ListDir(host, containers_dir);
  if (!ids.ok()) {
    if (ids.status().code() != StatusCode::kNotFound) {
      out->notes.push_back("docker: " + ids.status().message());
    }
    return;
  }
  // repositories.json of each storage driver's image store, read once.
  std::vector<std::pair<std::string, DockerRefs>> refs_by_driver;
  auto refs_of = [&](const std::string& driver) -> const DockerRefs& {
    for (const auto& [d, refs] : refs_by_driver) {
      if (d == driver) return refs;
    }
    DockerRefs refs;
    const std::string path = root + "/image/" + driver + "/repositories.json";
    Result<std::string> text = ReadStateFile(host, path);
    if (text.ok()) {
      Result<DockerRefs> parsed = ParseDockerRepositories(*text);
      if (parsed.ok()) {
        refs = std::move(*parsed);
      } else {
        out->notes.push_back("docker: " + path + ": " + parsed.status().message());
      }
    } else if (text.status().code() != StatusCode::kNotFound) {
      out->notes.push_back("docker: " + text.status().message());
    }
    refs_by_driver.emplace_back(driver, std::move(refs));
    return refs_by_driver.back().second;
  };
  for (const std::string& id : *ids) {
    if (!IsLowerHex(id, 64)) continue;  // not a container (a temporary file)
    const std::string dir = containers_dir + "/" + id;
    Result<std::string> text = ReadStateFile(host, dir + "/config.v2.json");
    if (!text.ok()) {
      // A container being created has no config yet.
      if (text.status().code() != StatusCode::kNotFound) {
        out->notes.push_back("docker: " + text.status().message());
      }
      continue;
    }
    Result<RuntimeContainer> parsed = ParseDockerConfig(*text);
    if (!parsed.ok()) {
      out->notes.push_back("docker: " + dir + "/" + parsed.status().message());
      continue;
    }
    RuntimeContainer c = std::move(*parsed);
    if (only_running && !c.running) continue;
    if (c.id != id) {
      AddNote(&c.note, "config.v2.json names id " + c.id.substr(0, 12) + " in directory " +
                           id.substr(0, 12));
    }
    Result<std::string> host_config = ReadStateFile(host, dir + "/hostconfig.json");
    if (host_config.ok()) {
      Status s = ParseDockerHostConfig(*host_config, &c.mounts);
      if (!s.ok()) AddNote(&c.note, s.message());
    } else if (host_config.status().code() != StatusCode::kNotFound) {
      AddNote(&c.note, host_config.status().message());
    }
    if (SafeComponent(c.storage_driver)) {
      if (!c.image_id.empty()) {
        c.image_digest = DockerRepoDigest(refs_of(c.storage_driver), c.image, c.image_id);
      }
      Result<std::vector<std::string>> layers = ImageLayers(host, root, c);
      if (layers.ok()) {
        c.image_layers = std::move(*layers);
      } else {
        AddNote(&c.note, "image layers: " + layers.status().message());
      }
    } else {
      AddNote(&c.note, "unknown storage driver \"" + c.storage_driver + "\"");
      c.storage_driver.clear();
    }
    NormalizeContainer(&c);
    out->containers.push_back(std::move(c));
  }
}

}  // namespace driftwatch::container
