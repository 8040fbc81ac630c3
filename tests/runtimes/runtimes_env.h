// What every runtime test shares: one sandbox (tests/runtimes/sandbox.h),
// the busybox image as a directory and as a tarball, the private runtimes
// (started on first use, stopped at the end of the test program), and the
// driftwatch executable run as a child process.
//
// Not thread-safe: GoogleTest runs the tests one after another.
#ifndef DRIFTWATCH_TESTS_RUNTIMES_RUNTIMES_ENV_H_
#define DRIFTWATCH_TESTS_RUNTIMES_RUNTIMES_ENV_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/runtimes/runtimes.h"
#include "tests/runtimes/sandbox.h"

namespace driftwatch::rt {

// The reference the test image is imported under, in every runtime.
inline constexpr const char* kImageRef = "dwtest/busybox:1";

class RuntimesEnv : public ::testing::Environment {
 public:
  static RuntimesEnv& Get();

  void SetUp() override;
  void TearDown() override;

  // "" when the sandbox and the image are ready, else why not.
  const std::string& skip() const { return skip_; }
  Sandbox& sandbox() { return sb_; }
  const std::string& image_dir() const { return image_dir_; }
  const std::string& image_tar() const { return image_tar_; }
  // Mode 0700: where agent stores go.
  std::string agent_dir() const { return sb_ / "agent"; }
  // driftwatch's own containers' state dir, in the sandbox.
  std::string dw_state() const { return sb_ / "dw-state"; }

  // The runtime, started on first call; nullptr with *skip set when it
  // cannot run here (the same reason on every later call).
  Docker* docker(std::string* skip);
  Containerd* containerd(std::string* skip);
  Podman* podman(std::string* skip);

  // A driftwatch container started in dw_state(): removed (`container rm
  // --force`) at the end, its cgroups noted for the sandbox's cleanup.
  void AddDwContainer(const std::string& name);

  // A fresh dir in the sandbox for a bind mount.
  std::string NewDir(const std::string& name);

 private:
  Sandbox sb_;
  std::string skip_;
  std::string image_dir_, image_tar_;
  std::unique_ptr<Docker> docker_;
  std::unique_ptr<Containerd> containerd_;
  std::unique_ptr<Podman> podman_;
  std::string docker_skip_, containerd_skip_, podman_skip_;
  std::vector<std::string> dw_containers_;
  bool docker_tried_ = false, containerd_tried_ = false, podman_tried_ = false;
};

// Runs the driftwatch executable ($DRIFTWATCH_BIN) with args.
ExecResult Dw(const std::vector<std::string>& args, int timeout_s = 120);

// The mutations every test container gets (`sh -c`), and what they are as
// drift of files and symlinks: the image at IMAGE has /etc/passwd,
// /etc/group, /etc/motd.link, /opt/app/run, /usr/share/b/c. The volume,
// the bind mount and the tmpfs are written too: none of that is drift.
std::string MutationScript(const std::string& volume, const std::string& bind,
                           const std::string& tmpfs);
std::set<std::string> MutationDrift();

}  // namespace driftwatch::rt

#endif  // DRIFTWATCH_TESTS_RUNTIMES_RUNTIMES_ENV_H_
