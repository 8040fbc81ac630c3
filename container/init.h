// The inside of a container: what the first process of the new namespaces
// does before it becomes the container's init (internal to launcher.cc).
//
// ContainerInit() runs in the child created with new mount, pid, uts, ipc
// (and, unless --net host, net) namespaces. It starts a session of its own
// (setsid: no host terminal, not the caller's session), waits for the go byte
// on `go_fd` (by then it is in the container's cgroups), then: enters a new
// cgroup namespace rooted at those cgroups; brings the loopback of a private
// network namespace up; makes mount propagation private; mounts the overlay
// root; bind-mounts the volumes from the source fds the launcher opened
// (volume_source.h) onto destinations resolved beneath the new root without
// following symlinks; mounts a fresh /proc (with /proc/sys and friends
// read-only), a minimal /dev on tmpfs (its own devpts instance; /dev/tty is
// a device node, never a bind of the host's) and a read-only /sys;
// pivot_roots; sets the hostname; allocates the pty from its devpts when
// `console_fd` asks for one and sends the master there; loads the seccomp
// filter; and forks the command. The init itself stays as PID 1: it is not
// dumpable (so /proc/1/exe cannot be opened from inside: the CVE-2019-5736
// class), holds no fds beyond 0-2, forwards signals to the command and reaps
// orphans. The command runs in a session of its own (with the pty as its
// controlling terminal, if any), with a bounded capability set,
// no_new_privs, the seccomp filter and every fd above 2 closed.
//
// Setup errors are written to `report_fd` as one line and the process exits
// with 125; an exec failure of the command is reported the same way (127).
// A clean start leaves `report_fd` closed without data.
#ifndef DRIFTWATCH_CONTAINER_INIT_H_
#define DRIFTWATCH_CONTAINER_INIT_H_

#include <string>
#include <vector>

#include "container/seccomp_filter.h"
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
  // Detached mounts of the volume sources, one per volume, opened, checked
  // and cloned by the launcher (volume_source.h); attached by fd, closed once
  // attached.
  std::vector<int> volume_fds;
  std::vector<std::string> command;
  std::vector<std::string> env;  // added to the defaults (PATH, HOME, HOSTNAME)
  // A user namespace (userns.h) to map the image through and to enter once
  // the root is set up; -1 for none.
  int userns_fd = -1;
  // Mount the overlay "volatile" (no sync of the upper file system) when the
  // kernel supports it: for layers removed after the run.
  bool volatile_upper = false;
  // A private network namespace: bring its loopback up.
  bool private_net = false;
  // A unix socket to send the pty master to (`run -t`); -1: the command
  // keeps the stdio the init was given.
  int console_fd = -1;
  // Loaded in the init before it forks the command (inherited by it).
  const SeccompFilter* seccomp = nullptr;
  // Capabilities kept beyond KeptCapabilities() (--cap-add).
  std::vector<int> cap_add;
};

[[noreturn]] void ContainerInit(const InitConfig& config);

// Capabilities left in the bounding set of container processes (a subset of
// Docker's defaults, without CAP_MKNOD since no device cgroup is set up, and
// without CAP_NET_RAW: raw sockets only with --cap-add NET_RAW).
const std::vector<int>& KeptCapabilities();

// "NET_RAW", "CAP_NET_RAW", "net_raw" -> CAP_NET_RAW. Pure.
Result<int> ParseCapability(std::string_view name);
// Every name of a list (--cap-add), in order.
Result<std::vector<int>> ParseCapabilities(const std::vector<std::string>& names);

// In the calling process: drops every capability but KeptCapabilities() and
// `added` from the bounding, inheritable, permitted and effective sets, and
// sets no_new_privs.
Status RestrictPrivileges(const std::vector<int>& added = {});

// Joins a new anonymous session keyring, so a container process never
// shares the caller's (ENOSYS from a kernel without keys is fine).
Status JoinNewSessionKeyring();

// The environment a container command starts with.
std::vector<std::string> ContainerEnv(const std::string& hostname,
                                      const std::vector<std::string>& extra);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_INIT_H_
