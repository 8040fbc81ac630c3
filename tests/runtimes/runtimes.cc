#include "tests/runtimes/runtimes.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <sstream>
#include <thread>

#include <cpprest/json.h>

#include "core/drift_json.h"

namespace driftwatch::rt {
namespace {

using web::json::value;

constexpr const char* kDockerd = "/usr/sbin/dockerd";
// Not /usr/local/bin/docker: Debian's client, of the daemon's version.
constexpr const char* kDocker = "/usr/bin/docker";
constexpr const char* kContainerd = "/usr/bin/containerd";
constexpr const char* kCtr = "/usr/bin/ctr";
constexpr const char* kPodman = "/usr/bin/podman";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Tail(const std::string& text, size_t n = 1500) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// Parses JSON, or null with *error set.
value Json(const std::string& text, std::string* error) {
  try {
    return value::parse(text);
  } catch (const std::exception& e) {
    *error = std::string("bad JSON (") + e.what() + "): " + Tail(text, 300);
    return value::null();
  }
}

std::string Str(const value& v, const std::string& key) {
  return v.is_object() && v.has_field(key) && v.at(key).is_string() ? v.at(key).as_string() : "";
}

Labels LabelsOf(const value& v) {
  Labels out;
  if (!v.is_object()) return out;
  for (const auto& [k, x] : v.as_object()) {
    if (x.is_string()) out.emplace_back(k, x.as_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t TimeOf(const std::string& text) {
  auto t = ParseRfc3339(text);
  return t.ok() ? *t : 0;
}

// Calls `probe` every 100 ms until it succeeds or `seconds` pass.
bool WaitFor(int seconds, const std::function<bool()>& probe) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string Missing(const std::vector<std::string>& paths, const std::string& package) {
  for (const std::string& p : paths) {
    if (!IsExecutable(p)) return "needs " + p + " (package " + package + ")";
  }
  return "";
}

}  // namespace

std::string UpperDirOf(int64_t pid) {
  std::istringstream mounts(ReadFileOr("/proc/" + std::to_string(pid) + "/mountinfo"));
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, point;
    f >> id >> parent >> devno >> root >> point;
    if (point != "/") continue;
    size_t at = line.find("upperdir=");
    if (at == std::string::npos) return "";
    at += 9;
    size_t end = line.find_first_of(", \n", at);
    return line.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  return "";
}

// ---- Docker and Podman -----------------------------------------------------

std::string CliRuntime::Run(const ContainerSpec& spec, const std::string& ref, std::string* error) {
  std::vector<std::string> args = {"run", "-d", "--name", spec.name};
  for (const std::string& f : RunFlags()) args.push_back(f);
  for (const auto& [k, v] : spec.labels) args.insert(args.end(), {"--label", k + "=" + v});
  args.insert(args.end(), {"-v", spec.name + "-vol:" + spec.volume_dest, "-v",
                           spec.bind_src + ":" + spec.bind_dest, "--tmpfs", spec.tmpfs_dest, ref,
                           "/bin/sleep", "3600"});
  ExecResult r = Client(args, 60);
  if (r.code != 0) {
    *error = "run " + spec.name + ": " + Describe(r);
    return "";
  }
  // The id is the last line (podman may print pull progress before it).
  std::string id = Trim(r.out);
  if (size_t nl = id.rfind('\n'); nl != std::string::npos) id = id.substr(nl + 1);
  sb_->NoteContainer(id);
  return id;
}

ExecResult CliRuntime::Sh(const std::string& name, const std::string& script) {
  return Client({"exec", name, "/bin/sh", "-c", script}, 60);
}

ExecResult CliRuntime::Diff(const std::string& name) { return Client({"diff", name}, 60); }

value CliRuntime::InspectObject(const std::string& name, Identity* id, std::string* error) {
  ExecResult r = Client({"inspect", name}, 30);
  if (r.code != 0) {
    *error = "inspect " + name + ": " + Describe(r);
    return value();
  }
  value list = Json(r.out, error);
  if (!list.is_array() || list.size() != 1 || !list.at(0).is_object()) return value();
  value c = list.at(0);
  id->id = Str(c, "Id");
  id->name = Str(c, "Name");
  if (c.has_field("Config") && c.at("Config").has_field("Labels")) {
    id->labels = LabelsOf(c.at("Config").at("Labels"));
  }
  if (c.has_field("State")) {
    const value& s = c.at("State");
    if (s.has_field("Pid") && s.at("Pid").is_integer())
      id->pid = s.at("Pid").as_number().to_int64();
    id->started_ns = TimeOf(Str(s, "StartedAt"));
  }
  return c;
}

value CliRuntime::InspectImage(const std::string& ref, std::string* error) {
  ExecResult r = Client({"image", "inspect", ref}, 30);
  if (r.code != 0) return value();
  value list = Json(r.out, error);
  return list.is_array() && list.size() == 1 ? list.at(0) : value();
}

// ---- Docker ----------------------------------------------------------------

ExecResult Docker::Client(std::vector<std::string> args, int timeout_s) {
  args.insert(args.begin(), {kDocker, "-H", "unix://" + (*sb_ / "docker.sock")});
  return Exec(args, timeout_s);
}

std::string Docker::Start() {
  if (std::string m = Missing({kDockerd, kDocker}, "docker.io"); !m.empty()) return m;
  MkdirAll(data_root());
  MkdirAll(*sb_ / "docker/exec");
  // No bridge, no iptables: nothing outside the sandbox changes.
  pid_ = Spawn(
      {kDockerd, "--data-root", data_root(), "--exec-root", *sb_ / "docker/exec", "-H",
       "unix://" + (*sb_ / "docker.sock"), "--pidfile", *sb_ / "docker/dockerd.pid",
       "--bridge=none", "--iptables=false", "--ip6tables=false", "--storage-driver", "overlay2"},
      *sb_ / "dockerd.log");
  if (pid_ <= 0) return "cannot start dockerd";
  sb_->AddDaemon(pid_);
  if (!WaitFor(30, [&] { return Client({"version"}, 5).code == 0; })) {
    return "dockerd did not answer within 30 s: " + Tail(ReadFileOr(*sb_ / "dockerd.log"));
  }
  return "";
}

void Docker::Stop() {
  if (pid_ <= 0) return;
  ExecResult ids = Client({"ps", "-aq"}, 20);
  std::istringstream in(ids.out);
  std::vector<std::string> rm = {"rm", "-f"};
  for (std::string id; in >> id;) rm.push_back(id);
  if (rm.size() > 2) Client(rm, 30);
  Sandbox::StopDaemon(pid_);
  pid_ = -1;
}

std::string Docker::Import(const std::string& tar, const std::string& ref) {
  ExecResult r = Client({"import", tar, ref}, 60);
  return r.code == 0 ? "" : "docker import: " + Describe(r);
}

std::string Docker::Save(const std::string& ref, const std::string& tar) {
  ExecResult r = Client({"save", "-o", tar, ref}, 60);
  return r.code == 0 ? "" : "docker save: " + Describe(r);
}

Identity Docker::Inspect(const std::string& name, std::string* error) {
  Identity id;
  value c = InspectObject(name, &id, error);
  if (!c.is_object()) return id;
  if (!id.name.empty() && id.name[0] == '/') id.name.erase(0, 1);
  id.image_id = Str(c, "Image");
  if (c.has_field("Config")) id.image = Str(c.at("Config"), "Image");
  // The registry digest: none for an imported image, unless pulled.
  value img = InspectImage(id.image, error);
  if (img.is_object() && img.has_field("RepoDigests")) {
    for (const value& d : img.at("RepoDigests").as_array()) {
      const std::string s = d.as_string();
      if (size_t at = s.find('@'); at != std::string::npos && id.image_digest.empty())
        id.image_digest = s.substr(at + 1);
    }
  }
  return id;
}

// ---- containerd ------------------------------------------------------------

ExecResult Containerd::Ctr(const std::string& nspace, std::vector<std::string> args,
                           int timeout_s) {
  args.insert(args.begin(), {kCtr, "-a", *sb_ / "containerd/containerd.sock", "-n", nspace});
  return Exec(args, timeout_s);
}

std::string Containerd::Start() {
  if (std::string m = Missing({kContainerd, kCtr}, "containerd"); !m.empty()) return m;
  MkdirAll(root());
  MkdirAll(state());
  // Its own root, state and sockets; no CRI plugin (no kubelet here), no
  // debug or metrics listener.
  const std::string config = *sb_ / "containerd/config.toml";
  WriteFileOrDie(config, "version = 2\nroot = \"" + root() + "\"\nstate = \"" + state() +
                             "\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                             "[grpc]\n  address = \"" +
                             (*sb_ / "containerd/containerd.sock") + "\"\n[ttrpc]\n  address = \"" +
                             (*sb_ / "containerd/containerd.sock.ttrpc") +
                             "\"\n[debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n");
  pid_ = Spawn({kContainerd, "--config", config}, *sb_ / "containerd.log");
  if (pid_ <= 0) return "cannot start containerd";
  sb_->AddDaemon(pid_);
  if (!WaitFor(30, [&] { return Ctr("default", {"version"}, 5).code == 0; })) {
    return "containerd did not answer within 30 s: " + Tail(ReadFileOr(*sb_ / "containerd.log"));
  }
  return "";
}

void Containerd::Stop() {
  if (pid_ <= 0) return;
  for (const std::string ns : {"default", "k8s.io"}) {
    ExecResult ids = Ctr(ns, {"containers", "ls", "-q"}, 20);
    std::istringstream in(ids.out);
    for (std::string id; in >> id;) {
      Ctr(ns, {"tasks", "kill", "-s", "SIGKILL", id}, 10);
      Ctr(ns, {"tasks", "delete", "-f", id}, 10);
      Ctr(ns, {"containers", "delete", id}, 10);
    }
  }
  Sandbox::StopDaemon(pid_);
  pid_ = -1;
}

std::string Containerd::Import(const std::string& tar, const std::string& nspace) {
  ExecResult r = Ctr(nspace, {"images", "import", tar}, 60);
  return r.code == 0 ? "" : "ctr images import: " + Describe(r);
}

std::string Containerd::Run(const ContainerSpec& spec, const std::string& ref, std::string* error) {
  std::vector<std::string> args = {"run", "-d"};
  for (const auto& [k, v] : spec.labels) args.insert(args.end(), {"--label", k + "=" + v});
  // ctr has no named volumes: the state dir is a bind of a sandbox dir.
  const std::string vol = *sb_ / ("containerd/vol-" + spec.name);
  MkdirAll(vol);
  args.insert(
      args.end(),
      {"--mount", "type=bind,src=" + vol + ",dst=" + spec.volume_dest + ",options=rbind:rw",
       "--mount", "type=bind,src=" + spec.bind_src + ",dst=" + spec.bind_dest + ",options=rbind:rw",
       "--mount", "type=tmpfs,src=tmpfs,dst=" + spec.tmpfs_dest + ",options=nosuid:nodev", ref,
       spec.name, "/bin/sleep", "3600"});
  sb_->NoteContainer(spec.name);
  ExecResult r = Ctr(spec.nspace, args, 60);
  if (r.code != 0) {
    *error = "ctr run: " + Describe(r);
    return "";
  }
  // `run -d` returns once the task was started; its pid says it runs.
  bool running = WaitFor(10, [&] {
    ExecResult t = Ctr(spec.nspace, {"tasks", "ls"}, 10);
    return t.out.find(spec.name) != std::string::npos && t.out.find("RUNNING") != std::string::npos;
  });
  if (!running) *error = "ctr run: task " + spec.name + " not running within 10 s";
  return running ? spec.name : "";
}

ExecResult Containerd::Sh(const ContainerSpec& spec, const std::string& script) {
  return Ctr(spec.nspace,
             {"tasks", "exec", "--exec-id", "sh-" + std::to_string(++exec_seq_), spec.name,
              "/bin/sh", "-c", script},
             60);
}

Identity Containerd::Inspect(const ContainerSpec& spec, std::string* error) {
  Identity id;
  ExecResult r = Ctr(spec.nspace, {"containers", "info", spec.name}, 30);
  if (r.code != 0) {
    *error = "ctr containers info: " + Describe(r);
    return id;
  }
  value c = Json(r.out, error);
  id.id = Str(c, "ID");
  id.image = Str(c, "Image");
  if (c.has_field("Labels")) id.labels = LabelsOf(c.at("Labels"));
  // The manifest digest of the image (`ctr images ls`: REF TYPE DIGEST ...)
  // and its config digest, the image id, from the content store.
  ExecResult imgs = Ctr(spec.nspace, {"images", "ls"}, 30);
  std::istringstream in(imgs.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string ref, type, digest;
    f >> ref >> type >> digest;
    if (ref == id.image) id.image_digest = digest;
  }
  if (id.image_digest.rfind("sha256:", 0) == 0) {
    const std::string blob =
        root() + "/io.containerd.content.v1.content/blobs/sha256/" + id.image_digest.substr(7);
    value manifest = Json(ReadFileOr(blob), error);
    if (manifest.has_field("config")) id.image_id = Str(manifest.at("config"), "digest");
  }
  ExecResult tasks = Ctr(spec.nspace, {"tasks", "ls"}, 30);
  std::istringstream tl(tasks.out);
  for (std::string line; std::getline(tl, line);) {
    std::istringstream f(line);
    std::string task;
    int64_t pid = 0;
    f >> task >> pid;
    if (task == spec.name) id.pid = pid;
  }
  return id;
}

// ---- Podman ----------------------------------------------------------------

ExecResult Podman::Client(std::vector<std::string> args, int timeout_s) {
  std::vector<std::string> argv = {kPodman,
                                   "--root",
                                   storage_root(),
                                   "--runroot",
                                   *sb_ / "podman/run",
                                   "--tmpdir",
                                   *sb_ / "podman/tmp",
                                   "--network-config-dir",
                                   *sb_ / "podman/net",
                                   "--cgroup-manager",
                                   "cgroupfs",
                                   "--events-backend",
                                   "file",
                                   "--storage-driver",
                                   "overlay"};
  if (!runtime_.empty()) argv.insert(argv.end(), {"--runtime", runtime_});
  argv.insert(argv.end(), args.begin(), args.end());
  return Exec(argv, timeout_s);
}

std::vector<std::string> Podman::RunFlags() const {
  // Without CAP_SYS_RESOURCE podman's default rlimits cannot be set: ask
  // for limits below the ones this process has.
  return {"--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"};
}

std::string Podman::Start(const std::string& tar, const std::string& ref) {
  if (std::string m = Missing({kPodman}, "podman"); !m.empty()) return m;
  // runc when installed: crun refuses cgroup v1 hosts with a v2 hierarchy
  // mounted beside (hybrid mode).
  for (const char* r : {"/usr/sbin/runc", "/usr/bin/runc"}) {
    if (IsExecutable(r)) {
      runtime_ = r;
      break;
    }
  }
  for (const char* d : {"podman/root", "podman/run", "podman/tmp", "podman/net"})
    MkdirAll(*sb_ / d);
  ExecResult imp = Client({"import", tar, ref}, 60);
  if (imp.code != 0) return "podman import failed here: " + Describe(imp);
  std::vector<std::string> probe = {"run", "--rm"};
  for (const std::string& f : RunFlags()) probe.push_back(f);
  probe.insert(probe.end(), {ref, "/bin/true"});
  ExecResult r = Client(probe, 60);
  if (r.code != 0) return "podman cannot run a container here: " + Describe(r);
  return "";
}

void Podman::Stop() {
  if (storage_root().empty()) return;
  Client({"rm", "-a", "-f", "-t", "0"}, 60);
}

Identity Podman::Inspect(const std::string& name, std::string* error) {
  Identity id;
  value c = InspectObject(name, &id, error);
  if (!c.is_object()) return id;
  id.image = Str(c, "ImageName");
  const std::string image = Str(c, "Image");
  if (!image.empty()) id.image_id = image.rfind("sha256:", 0) == 0 ? image : "sha256:" + image;
  value img = InspectImage(image, error);
  if (img.is_object()) id.image_digest = Str(img, "Digest");
  return id;
}

}  // namespace driftwatch::rt
