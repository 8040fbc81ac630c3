#include "container/containerd_state.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "container/runtime_files.h"
#include "core/bolt.h"

namespace driftwatch::container {

namespace {

constexpr int kMaxSnapshotChain = 1024;

// A name from a database used as one path component.
Result<uint64_t> Uvarint(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes.size() && i < 10; ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  return Status::Corruption("bad varint");
}

std::string StringValue(const bolt::Bucket& b, std::string_view key) {
  Result<std::optional<std::string_view>> v = b.Get(key);
  return v.ok() && *v ? std::string(**v) : std::string();
}

// What one containerd root's files yield, read once for all its containers.
class RootReader {
 public:
  RootReader(Host& host, std::string root) : host_(host), root_(std::move(root)) {}

  // The image id of the manifest or index `digest`.
  Result<std::string> ImageId(const std::string& digest) {
    auto cached = image_ids_.find(digest);
    if (cached != image_ids_.end()) return cached->second;
    std::string next = digest;
    std::string id;
    for (int step = 0; step < 3 && id.empty(); ++step) {
      if (!IsSha256Digest(next)) return Status::Corruption("bad digest " + next);
      const std::string path =
          root_ + "/io.containerd.content.v1.content/blobs/sha256/" + next.substr(7);
      DW_ASSIGN_OR_RETURN(std::string text, ReadStateFile(host_, path));
      Result<ManifestStep> m = ParseImageManifest(text);
      if (!m.ok()) return m.status().WithContext(path);
      id = m->config;
      next = m->next;
    }
    if (id.empty()) return Status::Corruption(digest + ": no image config found");
    image_ids_[digest] = id;
    return id;
  }

  // The image layers below the snapshot whose snapshotter key is `backend`.
  Result<std::vector<std::string>> Layers(const std::string& snapshotter,
                                          const std::string& backend) {
    std::vector<std::string> layers;
    const bool overlay = snapshotter == "overlayfs";
    if (!overlay && snapshotter != "native") return layers;
    const std::string dir = root_ + "/io.containerd.snapshotter.v1." + snapshotter;
    auto it = snapshot_dbs_.find(snapshotter);
    if (it == snapshot_dbs_.end()) {
      Result<std::unique_ptr<const bolt::BoltDb>> db = ReadBoltFile(host_, dir + "/metadata.db");
      if (!db.ok()) return db.status();
      it = snapshot_dbs_.emplace(snapshotter, std::move(*db)).first;
    }
    DW_ASSIGN_OR_RETURN(std::optional<bolt::Bucket> snaps,
                        it->second->Root().Path({"v1", "snapshots"}));
    if (!snaps) return Status::Corruption(dir + "/metadata.db: no v1/snapshots bucket");
    std::set<std::string> seen;
    std::string key = backend;
    bool own = true;  // the container's own (active) snapshot is its upper layer
    while (!key.empty()) {
      if (!seen.insert(key).second || seen.size() > kMaxSnapshotChain) {
        return Status::Corruption(dir + "/metadata.db: snapshot chain loops or is too long");
      }
      DW_ASSIGN_OR_RETURN(std::optional<bolt::Bucket> snap, snaps->Sub(key));
      if (!snap) return Status::Corruption(dir + "/metadata.db: no snapshot " + key);
      if (!own) {
        DW_ASSIGN_OR_RETURN(std::optional<std::string_view> id, snap->Get("id"));
        if (!id) return Status::Corruption(dir + "/metadata.db: snapshot " + key + " has no id");
        DW_ASSIGN_OR_RETURN(uint64_t n, Uvarint(*id));
        layers.push_back(dir + "/snapshots/" + std::to_string(n) + (overlay ? "/fs" : ""));
      }
      own = false;
      key = StringValue(*snap, "parent");
    }
    return layers;
  }

 private:
  Host& host_;
  std::string root_;
  std::map<std::string, std::string> image_ids_;
  std::map<std::string, std::unique_ptr<const bolt::BoltDb>> snapshot_dbs_;
};

// The labels of a bucket's "labels" sub-bucket, sorted.
std::vector<std::pair<std::string, std::string>> Labels(const bolt::Bucket& b) {
  std::vector<std::pair<std::string, std::string>> out;
  Result<std::optional<bolt::Bucket>> labels = b.Sub("labels");
  if (!labels.ok() || !*labels) return out;
  Result<std::vector<bolt::Item>> items = (*labels)->Items(1 << 16);
  if (!items.ok()) return out;
  for (const bolt::Item& i : *items) {
    if (!i.is_bucket) out.emplace_back(i.key, i.value);
  }
  return out;
}

std::string LabelValue(const RuntimeContainer& c, std::string_view key) {
  for (const auto& [k, v] : c.labels) {
    if (k == key) return v;
  }
  return "";
}

// The running task of ns/id: its pid and when it started, from the first
// state directory that has one.
void ReadTask(Host& host, const std::vector<std::string>& states, const std::string& proc,
              const std::string& ns, RuntimeContainer* c) {
  for (const std::string& state : states) {
    const std::string path =
        state + "/io.containerd.runtime.v2.task/" + ns + "/" + c->id + "/init.pid";
    Result<std::string> text = ReadStateFile(host, path, 64);
    if (!text.ok()) continue;
    std::string_view digits = TrimSpace(*text);
    if (digits.empty() || digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](char ch) { return ch >= '0' && ch <= '9'; })) {
      AddNote(&c->note, path + ": not a pid");
      return;
    }
    pid_t pid = static_cast<pid_t>(std::stol(std::string(digits)));
    if (pid <= 0 || !PathExists(host, proc + "/" + std::to_string(pid))) return;  // exited
    c->pid = pid;
    c->running = true;
    struct stat st {};
    if (host.StatAt(AT_FDCWD, path, &st).ok()) {
      c->started_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    return;
  }
}

}  // namespace

Result<std::string_view> AnyValue(std::string_view any, std::string_view type_suffix) {
  std::string_view type_url, value;
  size_t i = 0;
  while (i < any.size()) {
    const auto tag = static_cast<unsigned char>(any[i++]);
    if ((tag & 7) != 2) return Status::Corruption("protobuf Any: unexpected wire type");
    uint64_t len = 0;
    int shift = 0;
    while (true) {
      if (i >= any.size() || shift > 63) return Status::Corruption("protobuf Any: bad length");
      auto b = static_cast<unsigned char>(any[i++]);
      len |= uint64_t{b & 0x7fu} << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (len > any.size() - i) return Status::Corruption("protobuf Any: field overruns");
    std::string_view field = any.substr(i, len);
    i += len;
    if (tag == 0x0a) type_url = field;
    if (tag == 0x12) value = field;
  }
  if (!type_url.ends_with(type_suffix)) {
    return Status::NotFound("protobuf Any holds " + std::string(type_url));
  }
  return value;
}

Status ApplyOciSpec(std::string_view json, RuntimeContainer* c) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(json, "OCI spec"));
  if (!v.is_object()) return Status::Corruption("OCI spec: not a JSON object");
  if (const web::json::value* mounts = JsonArray(v, "mounts")) {
    for (const web::json::value& m : mounts->as_array()) {
      std::string dest = JsonString(m, "destination");
      std::string type = JsonString(m, "type");
      bool bind = type == "bind";
      if (const web::json::value* opts = JsonArray(m, "options")) {
        for (const web::json::value& o : opts->as_array()) {
          if (o.is_string() && (o.as_string() == "bind" || o.as_string() == "rbind")) bind = true;
        }
      }
      if (!dest.starts_with('/')) continue;
      if (bind) {
        c->mounts.push_back({dest, JsonString(m, "source"), "bind"});
      } else if (type == "tmpfs") {
        c->mounts.push_back({dest, JsonString(m, "source"), "tmpfs"});
      }
    }
  }
  const std::pair<const char*, const char*> cri[] = {
      {"io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"},
      {"io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"},
      {"io.kubernetes.cri.container-name", "io.kubernetes.container.name"}};
  auto annotations = JsonStringMap(JsonObject(v, "annotations"));
  for (const auto& [from, to] : cri) {
    for (const auto& [k, val] : annotations) {
      if (k == from && LabelValue(*c, to).empty()) c->labels.emplace_back(to, val);
    }
  }
  NormalizeContainer(c);
  return Status::Ok();
}

Result<ManifestStep> ParseImageManifest(std::string_view text) {
  DW_ASSIGN_OR_RETURN(web::json::value v, ParseStateJson(text, "manifest"));
  ManifestStep step;
  if (const web::json::value* config = JsonObject(v, "config")) {
    step.config = JsonString(*config, "digest");
    if (!IsSha256Digest(step.config)) return Status::Corruption("manifest: bad config digest");
    return step;
  }
  const web::json::value* manifests = JsonArray(v, "manifests");
  if (manifests == nullptr || manifests->size() == 0) {
    return Status::Corruption("manifest: neither a manifest nor an index");
  }
  for (const web::json::value& m : manifests->as_array()) {
    const web::json::value* platform = JsonObject(m, "platform");
    const bool amd64 = platform != nullptr && JsonString(*platform, "os") == "linux" &&
                       JsonString(*platform, "architecture") == "amd64";
    if (step.next.empty() || amd64) step.next = JsonString(m, "digest");
    if (amd64) break;
  }
  if (!IsSha256Digest(step.next)) return Status::Corruption("index: bad manifest digest");
  return step;
}

ContainerdDirs ParseContainerdConfig(std::string_view toml) {
  ContainerdDirs dirs;
  while (!toml.empty()) {
    size_t nl = toml.find('\n');
    std::string_view line = TrimSpace(toml.substr(0, nl));
    toml = nl == std::string_view::npos ? std::string_view() : toml.substr(nl + 1);
    if (line.starts_with('[')) break;  // top-level keys come before any table
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = TrimSpace(line.substr(0, eq));
    std::string_view val = TrimSpace(line.substr(eq + 1));
    if (val.size() < 2 || (val.front() != '"' && val.front() != '\'')) continue;
    size_t close = val.find(val.front(), 1);
    if (close == std::string_view::npos) continue;
    val = val.substr(1, close - 1);
    if (key == "root") dirs.root = val;
    if (key == "state") dirs.state = val;
  }
  return dirs;
}

std::vector<ContainerdDirs> ContainerdDirsOf(
    Host& host, const std::string& etc, const std::vector<std::vector<std::string>>& containerds) {
  std::vector<ContainerdDirs> out;
  auto add = [&](ContainerdDirs d) {
    if (d.root.empty()) return;
    for (ContainerdDirs& have : out) {
      if (have.root == d.root) {
        if (have.state.empty()) have.state = d.state;
        return;
      }
    }
    out.push_back(std::move(d));
  };
  auto from_config = [&](const std::string& path) {
    Result<std::string> text = ReadStateFile(host, path, 1 << 20);
    return text.ok() ? ParseContainerdConfig(*text) : ContainerdDirs{};
  };
  for (const std::vector<std::string>& argv : containerds) {
    std::vector<std::string> configs = FlagValues(argv, {"--config", "-c"});
    ContainerdDirs d = from_config(configs.empty() ? etc + "/containerd/config.toml" : configs[0]);
    std::vector<std::string> roots = FlagValues(argv, {"--root"});
    std::vector<std::string> states = FlagValues(argv, {"--state"});
    if (!roots.empty()) d.root = roots.back();
    if (!states.empty()) d.state = states.back();
    if (d.root.empty()) d.root = "/var/lib/containerd";
    if (d.state.empty()) d.state = "/run/containerd";
    add(std::move(d));
  }
  add(from_config(etc + "/containerd/config.toml"));
  add({"/var/lib/containerd", "/run/containerd"});
  return out;
}

void ReadContainerdRoot(Host& host, const std::string& root, const std::vector<std::string>& states,
                        const std::string& proc, bool only_running, RuntimeInventory* out) {
  const std::string path = root + "/io.containerd.metadata.v1.bolt/meta.db";
  Result<std::unique_ptr<const bolt::BoltDb>> db = ReadBoltFile(host, path);
  if (!db.ok()) {
    if (db.status().code() != StatusCode::kNotFound) {
      out->notes.push_back("containerd: " + db.status().message());
    }
    return;
  }
  Result<std::optional<bolt::Bucket>> v1 = (*db)->Root().Sub("v1");
  if (!v1.ok() || !*v1) {
    out->notes.push_back("containerd: " + path + ": " +
                         (v1.ok() ? "no v1 bucket (unknown schema)" : v1.status().message()));
    return;
  }
  Result<std::vector<bolt::Item>> namespaces = (*v1)->Items();
  if (!namespaces.ok()) {
    out->notes.push_back("containerd: " + path + ": " + namespaces.status().message());
    return;
  }
  RootReader reader(host, root);
  for (const bolt::Item& ns_item : *namespaces) {
    const std::string ns(ns_item.key);
    if (!ns_item.is_bucket || ns == "moby" || ns == "plugins.moby" || !SafeComponent(ns)) continue;
    Result<std::optional<bolt::Bucket>> containers = (*v1)->Path({ns, "containers"});
    Result<std::vector<bolt::Item>> ids =
        containers.ok() && *containers ? (*containers)->Items()
                                       : Result<std::vector<bolt::Item>>(std::vector<bolt::Item>{});
    if (!containers.ok() || !ids.ok()) {
      out->notes.push_back("containerd: " + path + ": namespace " + ns + ": " +
                           (containers.ok() ? ids.status() : containers.status()).message());
      continue;
    }
    for (const bolt::Item& id_item : *ids) {
      if (!id_item.is_bucket || !SafeComponent(id_item.key)) continue;
      RuntimeContainer c;
      c.runtime = "containerd";
      c.id = std::string(id_item.key);
      c.nspace = ns;
      ReadTask(host, states, proc, ns, &c);
      if (only_running && !c.running) continue;
      Result<std::optional<bolt::Bucket>> b = (*containers)->Sub(id_item.key);
      if (!b.ok() || !*b) {
        out->notes.push_back("containerd: " + path + ": container " + c.id + ": " +
                             (b.ok() ? std::string("not a bucket") : b.status().message()));
        continue;
      }
      const bolt::Bucket& cb = **b;
      c.image = StringValue(cb, "image");
      c.labels = Labels(cb);
      c.storage_driver = StringValue(cb, "snapshotter");
      std::string spec = StringValue(cb, "spec");
      if (!spec.empty()) {
        Result<std::string_view> json = AnyValue(spec, "opencontainers/runtime-spec/1/Spec");
        Status s = json.ok() ? ApplyOciSpec(*json, &c) : json.status();
        if (!s.ok()) AddNote(&c.note, "spec: " + s.message());
      }
      if (!c.image.empty()) {
        Result<std::optional<bolt::Bucket>> target = (*v1)->Path({ns, "images", c.image, "target"});
        if (target.ok() && *target) {
          std::string digest = StringValue(**target, "digest");
          if (IsSha256Digest(digest)) {
            c.image_digest = digest;
            Result<std::string> id = reader.ImageId(digest);
            if (id.ok()) {
              c.image_id = *id;
            } else {
              AddNote(&c.note, "image id: " + id.status().message());
            }
          }
        } else if (!target.ok()) {
          AddNote(&c.note, "image: " + target.status().message());
        } else {
          AddNote(&c.note, "image " + c.image + " is not in the image store");
        }
      }
      const std::string key = StringValue(cb, "snapshotKey");
      if (SafeComponent(c.storage_driver) && !key.empty()) {
        Result<std::optional<bolt::Bucket>> snap =
            (*v1)->Path({ns, "snapshots", c.storage_driver, key});
        std::string backend = snap.ok() && *snap ? StringValue(**snap, "name") : "";
        Result<std::vector<std::string>> layers =
            backend.empty() ? Result<std::vector<std::string>>(
                                  Status::NotFound("no snapshot " + key + " in " + path))
                            : reader.Layers(c.storage_driver, backend);
        if (layers.ok()) {
          c.image_layers = std::move(*layers);
        } else {
          AddNote(&c.note, "image layers: " + layers.status().message());
        }
      }
      const std::string pod = LabelValue(c, "io.kubernetes.pod.name");
      const std::string name = LabelValue(c, "io.kubernetes.container.name");
      c.name = !pod.empty() && !name.empty() ? pod + "/" + name : c.id;
      NormalizeContainer(&c);
      out->containers.push_back(std::move(c));
    }
  }
}

}  // namespace driftwatch::container
