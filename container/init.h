// The inside of a container: what the first process of the new namespaces
// does before it becomes the container's init (internal to launcher.cc).
//
// ContainerInit() runs in the child created with new mount, pid, uts, ipc
// (and optionally net) namespaces. It waits for the go byte on `go_fd`, then:
// makes mount propagation private; mounts the overlay root; bind-mounts the
// volumes through fds resolved beneath the new root without following
// symlinks; mounts a fresh /proc (with /proc/sys and friends read-only), a
// minimal /dev on tmpfs and a read-only /sys; pivot_roots; sets the hostname;
// and forks the command. The init itself stays as PID 1: it is not dumpable
// (so /proc/1/exe cannot be opened from inside: the CVE-2019-5736 class),
// holds no fds beyond 0-2, forwards signals to the command and reaps
// orphans. The command runs with a bounded capability set, no_new_privs and
// every fd above 2 closed.
//
// Setup errors are written to `report_fd` as one line and the process exits
// with 125; an exec failure of the command is reported the same way (127).
// A clean start leaves `report_fd` closed without data.
#ifndef DRIFTWATCH_CONTAINER_INIT_H_
#define DRIFTWATCH_CONTAINER_INIT_H_

#include <string>
#include <vector>

#include "container/state.h"

namespace driftwatch::container {

struct InitConfig {
  int go_fd = -1;
  int report_fd = -1;
  std::string lower;  // image rootfs
  std::string upper;
  std::string work;
  std::string merged;  // mount point of the overlay (host path)
  std::string hostname;
  std::vector<VolumeSpec> volumes;
  std::vector<std::string> command;
  std::vector<std::string> env;  // added to the defaults (PATH, HOME, HOSTNAME)
  // A user namespace (userns.h) to map the image through and to enter once
  // the root is set up; -1 for none.
  int userns_fd = -1;
  // Mount the overlay "volatile" (no sync of the upper file system) when the
  // kernel supports it: for layers removed after the run.
  bool volatile_upper = false;
};

[[noreturn]] void ContainerInit(const InitConfig& config);

// Capabilities left in the bounding set of container processes (a subset of
// Docker's defaults, without CAP_MKNOD since no device cgroup is set up).
const std::vector<int>& KeptCapabilities();

// In the calling process: drops every other capability from the bounding,
// inheritable, permitted and effective sets, and sets no_new_privs.
Status RestrictPrivileges();

// The environment a container command starts with.
std::vector<std::string> ContainerEnv(const std::string& hostname,
                                      const std::vector<std::string>& extra);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_INIT_H_
