// Private Docker, containerd and Podman instances inside a Sandbox, driven
// through their own clients (/usr/bin/docker, ctr, podman), and what each
// says about its containers: the oracles driftwatch is compared with.
//
// Start() returns "" when the runtime runs, else the reason it cannot run
// here (binary missing, daemon not up within its deadline, a probe
// container refused): the tests skip with that message. Every client call
// is bounded (Exec's timeout).
#ifndef DRIFTWATCH_TESTS_RUNTIMES_RUNTIMES_H_
#define DRIFTWATCH_TESTS_RUNTIMES_RUNTIMES_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <cpprest/json.h>

#include "tests/runtimes/sandbox.h"

namespace driftwatch::rt {

using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by key

// A container as the runtime's own inspect command describes it.
struct Identity {
  std::string id;
  std::string name;
  std::string image;         // the reference as the runtime records it
  std::string image_id;      // "sha256:<hex>"
  std::string image_digest;  // the registry (manifest) digest, "" when none
  Labels labels;
  int64_t pid = 0;
  int64_t started_ns = 0;  // 0 when the runtime does not say
};

// What a test container is started with.
struct ContainerSpec {
  std::string name;                // docker/podman name; containerd id
  std::string nspace = "default";  // containerd only
  Labels labels;
  std::string volume_dest = "/data";  // a named volume (containerd: a bind of a sandbox dir)
  std::string bind_src;               // host dir
  std::string bind_dest = "/mnt/bind";
  std::string tmpfs_dest = "/scratch";
};

// What docker and podman share: the client verbs for exec and diff, and
// inspect's layout of id, name, labels and state.
class CliRuntime {
 public:
  explicit CliRuntime(Sandbox* sb) : sb_(sb) {}
  virtual ~CliRuntime() = default;
  // `run -d` of `ref` as the spec says (name, labels, a named volume, a bind
  // mount, a tmpfs), running sleep; the container's id, or "" with *error.
  std::string Run(const ContainerSpec& spec, const std::string& ref, std::string* error);
  ExecResult Sh(const std::string& name, const std::string& script);
  ExecResult Diff(const std::string& name);

 protected:
  // Flags `run` needs on this host besides the spec's.
  virtual std::vector<std::string> RunFlags() const { return {}; }
  virtual ExecResult Client(std::vector<std::string> args, int timeout_s) = 0;
  // `inspect NAME`'s one container object, with id, name, labels, pid and
  // start time set in *id; a non-object with *error when it says otherwise.
  web::json::value InspectObject(const std::string& name, Identity* id, std::string* error);
  // The object of `image inspect REF`; a non-object when it fails.
  web::json::value InspectImage(const std::string& ref, std::string* error);

  Sandbox* sb_;
};

class Docker : public CliRuntime {
 public:
  explicit Docker(Sandbox* sb) : CliRuntime(sb) {}
  std::string Start();
  void Stop();
  // `docker import` of the image tarball as `ref`.
  std::string Import(const std::string& tar, const std::string& ref);
  // `docker save` of `ref` into `tar`.
  std::string Save(const std::string& ref, const std::string& tar);
  Identity Inspect(const std::string& name, std::string* error);

  std::string data_root() const { return sb_->dir() + "/docker/root"; }
  pid_t daemon_pid() const { return pid_; }

 private:
  ExecResult Client(std::vector<std::string> args, int timeout_s) override;
  pid_t pid_ = -1;
};

class Containerd {
 public:
  explicit Containerd(Sandbox* sb) : sb_(sb) {}
  std::string Start();
  void Stop();
  // `ctr images import` into a namespace.
  std::string Import(const std::string& tar, const std::string& nspace);
  std::string Run(const ContainerSpec& spec, const std::string& ref, std::string* error);
  ExecResult Sh(const ContainerSpec& spec, const std::string& script);
  Identity Inspect(const ContainerSpec& spec, std::string* error);

  std::string root() const { return sb_->dir() + "/containerd/root"; }
  std::string state() const { return sb_->dir() + "/containerd/state"; }

 private:
  ExecResult Ctr(const std::string& nspace, std::vector<std::string> args, int timeout_s = 60);
  Sandbox* sb_;
  pid_t pid_ = -1;
  int exec_seq_ = 0;
};

class Podman : public CliRuntime {
 public:
  explicit Podman(Sandbox* sb) : CliRuntime(sb) {}
  // Includes a probe container, since podman has no daemon to wait for:
  // what fails here (rlimits, cgroups) fails every container.
  std::string Start(const std::string& tar, const std::string& ref);
  void Stop();
  Identity Inspect(const std::string& name, std::string* error);

  std::string storage_root() const { return sb_->dir() + "/podman/root"; }

 private:
  ExecResult Client(std::vector<std::string> args, int timeout_s) override;
  std::vector<std::string> RunFlags() const override;
  std::string runtime_;  // the OCI runtime podman is told to use
};

// The host path of the writable layer of a running container: upperdir= of
// the overlay mounted at its "/" (/proc/PID/mountinfo); "" when not overlay.
std::string UpperDirOf(int64_t pid);

}  // namespace driftwatch::rt

#endif  // DRIFTWATCH_TESTS_RUNTIMES_RUNTIMES_H_
