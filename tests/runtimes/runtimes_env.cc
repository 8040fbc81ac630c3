#include "tests/runtimes/runtimes_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/container/harness.h"
// After gtest (runtimes_env.h): cpprest defines a U() macro.
#include <cpprest/json.h>

namespace driftwatch::rt {

RuntimesEnv& RuntimesEnv::Get() {
  // Owned by GoogleTest once registered (runtimes_it_test.cc).
  static RuntimesEnv* env = new RuntimesEnv;
  return *env;
}

void RuntimesEnv::SetUp() {
  if (geteuid() != 0) {
    skip_ = "needs root: private daemons, overlayfs, namespaces";
    return;
  }
  // Debian's binaries first: /usr/local/bin may hold other clients.
  setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  skip_ = sb_.Create("1g");
  if (!skip_.empty()) return;
  // The agent store of every driftwatch call (image baselines), in a
  // directory of its own that only root may enter, as the agent wants it.
  MkdirAll(agent_dir());
  chmod(agent_dir().c_str(), 0700);
  setenv("DRIFTWATCH_DB", (agent_dir() + "/agent.db").c_str(), 1);
  // driftwatch's own containers, for the commands that take no --state-dir.
  setenv("DRIFTWATCH_STATE_DIR", dw_state().c_str(), 1);
  image_dir_ = sb_ / "image";
  if (!container::testing::BuildBusyboxImage(image_dir_)) {
    skip_ = "needs /bin/busybox (package busybox-static)";
    return;
  }
  image_tar_ = sb_ / "image.tar";
  ExecResult tar =
      Exec({"/bin/tar", "--numeric-owner", "-C", image_dir_, "-cf", image_tar_, "."}, 60);
  if (tar.code != 0) skip_ = "tar of the image failed: " + Describe(tar);
}

void RuntimesEnv::TearDown() {
  for (const std::string& name : dw_containers_) {
    Dw({"container", "rm", "--force", name, "--state-dir", dw_state()}, 30);
  }
  if (podman_) podman_->Stop();
  if (containerd_) containerd_->Stop();
  if (docker_) docker_->Stop();
  sb_.Teardown();
}

Docker* RuntimesEnv::docker(std::string* skip) {
  if (!docker_tried_) {
    docker_tried_ = true;
    docker_ = std::make_unique<Docker>(&sb_);
    docker_skip_ = docker_->Start();
    if (docker_skip_.empty()) docker_skip_ = docker_->Import(image_tar_, kImageRef);
  }
  *skip = docker_skip_;
  return docker_skip_.empty() ? docker_.get() : nullptr;
}

Containerd* RuntimesEnv::containerd(std::string* skip) {
  if (!containerd_tried_) {
    containerd_tried_ = true;
    // The image archive comes from the private dockerd (`docker save`).
    std::string why;
    Docker* d = docker(&why);
    const std::string archive = sb_ / "image-docker.tar";
    if (d == nullptr) {
      containerd_skip_ = "needs the private dockerd to make the image archive: " + why;
    } else {
      containerd_skip_ = d->Save(kImageRef, archive);
    }
    if (containerd_skip_.empty()) {
      containerd_ = std::make_unique<Containerd>(&sb_);
      containerd_skip_ = containerd_->Start();
    }
    for (const char* ns : {"default", "k8s.io"}) {
      if (containerd_skip_.empty()) containerd_skip_ = containerd_->Import(archive, ns);
    }
  }
  *skip = containerd_skip_;
  return containerd_skip_.empty() ? containerd_.get() : nullptr;
}

Podman* RuntimesEnv::podman(std::string* skip) {
  if (!podman_tried_) {
    podman_tried_ = true;
    podman_ = std::make_unique<Podman>(&sb_);
    podman_skip_ = podman_->Start(image_tar_, kImageRef);
  }
  *skip = podman_skip_;
  return podman_skip_.empty() ? podman_.get() : nullptr;
}

void RuntimesEnv::AddDwContainer(const std::string& name) {
  dw_containers_.push_back(name);
  try {
    auto record =
        web::json::value::parse(ReadFileOr(dw_state() + "/containers/" + name + "/state.json"));
    if (record.has_field("id")) sb_.NoteContainer(record.at("id").as_string());
  } catch (const std::exception&) {
    // No record: the run failed, and the test says so.
  }
}

std::string RuntimesEnv::NewDir(const std::string& name) {
  const std::string d = sb_ / ("binds/" + name);
  MkdirAll(d);
  return d;
}

ExecResult Dw(const std::vector<std::string>& args, int timeout_s) {
  const char* bin = std::getenv("DRIFTWATCH_BIN");
  std::vector<std::string> argv = {bin ? bin : "/usr/bin/driftwatch"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Exec(argv, timeout_s);
}

std::string MutationScript(const std::string& volume, const std::string& bind,
                           const std::string& tmpfs) {
  return "set -e\n"
         "echo new > /etc/new.conf\n"
         "echo extra >> /etc/passwd\n"
         "rm /etc/group\n"
         "chmod 0700 /opt/app/run\n"
         "ln -s /etc/passwd /etc/passwd.link\n"
         "rm /etc/motd.link\n"
         "mkdir -p /opt/app/conf/d\n"
         "echo deep > /opt/app/conf/d/deep.conf\n"
         "echo replaced > /usr/share/b/c\n"
         "echo state > " +
         volume +
         "/state\n"
         "mkdir -p " +
         volume + "/sub && echo s > " + volume +
         "/sub/f\n"
         "echo bound > " +
         bind +
         "/file\n"
         "echo scratch > " +
         tmpfs + "/file\n";
}

std::set<std::string> MutationDrift() {
  return {"added /etc/new.conf",
          "modified /etc/passwd",
          "removed /etc/group",
          "modified /opt/app/run",
          "added /etc/passwd.link",
          "removed /etc/motd.link",
          "added /opt/app/conf/d/deep.conf",
          "modified /usr/share/b/c"};
}

}  // namespace driftwatch::rt
