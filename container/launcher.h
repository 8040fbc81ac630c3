// The container launcher: create, start, exec, stop and remove containers
// whose records live in a StateDir (docs/containers.md).
//
// StartContainer() clones the container's first process into new mount, pid,
// uts, ipc and (unless net "host") network namespaces, puts it into the
// container's cgroups (memory, pids; v1, v2 or hybrid), and lets it set
// itself up (see init.h) under the container's seccomp filter (seccomp.h).
// Volume sources are opened here, once, and mounted by fd
// (volume_source.h). In the foreground it waits, copying the container's
// stdout/stderr (pipes, or the pty of `tty`) both to the caller and to the
// log file, and returns the command's exit code (128+N for signal N); the
// container never gets the caller's terminal or session (console.h).
// Detached, a monitor process (its own session) waits for the container,
// records the exit and removes the cgroups; StartContainer returns once the
// command runs.
// The record in the state dir carries pid + process start time, so any later
// CLI invocation can tell whether the container still runs.
//
// Errors: kNotFound for unknown names or images, kAlreadyExists for a name in
// use, kPermissionDenied for refused volumes, kIoError from the kernel with
// the failing step named ("mount overlay on ...: Invalid argument").
//
// Thread-safety: call from a single-threaded process (clone/fork).
#ifndef DRIFTWATCH_CONTAINER_LAUNCHER_H_
#define DRIFTWATCH_CONTAINER_LAUNCHER_H_

#include <chrono>
#include <string>
#include <vector>

#include "container/state.h"
#include "core/drift.h"

namespace driftwatch::container {

// Checks a volume before any namespace exists: the source must exist, must
// be reached from "/" without any symlink and must not be the host's root
// directory (OpenVolumeSource; the start opens it again and mounts that fd).
Status ValidateVolumeSource(const VolumeSpec& v);

// Validates the record (name free, image present, volumes), assigns an id,
// creates <state>/containers/<name>/{upper,work,rootfs} and saves the record
// with status "created".
Result<ContainerRecord> CreateContainer(const StateDir& state, ContainerRecord record);

struct StartOptions {
  bool detach = false;
  // The layer is removed right after the exit (run --rm): the overlay is
  // mounted "volatile" where the kernel allows it, so its unmount does not
  // sync the whole upper file system (most of a short run's cost), and in
  // the foreground no exit record is written (the caller removes the
  // container next).
  bool ephemeral = false;
  int out_fd = 1;  // foreground only: where the container's stdout is copied
  int err_fd = 2;
  // Foreground only. interactive (-i): `in_fd` is copied to the command's
  // stdin (a pipe, or the pty); otherwise it reads /dev/null. tty (-t): the
  // command runs on a pty of the container's own devpts, proxied here (raw
  // mode and window size of the caller's terminal); stderr joins stdout.
  bool interactive = false;
  bool tty = false;
  int in_fd = 0;
};

// Starts a created or exited container (its upper layer is kept). Returns
// the exit code in the foreground, 0 once started when detached.
Result<int> StartContainer(const StateDir& state, const std::string& name,
                           const StartOptions& options);

struct ExecOptions {
  int out_fd = 1;  // the command's output is copied here (never handed over)
  int err_fd = 2;
  bool interactive = false;  // as in StartOptions
  bool tty = false;
  int in_fd = 0;
};

// Runs `command` inside a running container (setns into its namespaces,
// cgroup namespace and cgroups; same capabilities and seccomp filter; a
// session of its own). Output is copied to out_fd/err_fd through pipes (or
// the container's pty with `tty`) until the command exits. Returns the
// command's exit code.
Result<int> ExecInContainer(const StateDir& state, const std::string& name,
                            const std::vector<std::string>& command, const ExecOptions& options);

// SIGTERM to the container's init (forwarded to the command), SIGKILL after
// `timeout`; returns once the monitor recorded the exit.
Status StopContainer(const StateDir& state, const std::string& name,
                     std::chrono::milliseconds timeout);

// Removes a stopped container's directories and cgroups; with force a
// running one is stopped first.
Status RemoveContainer(const StateDir& state, const std::string& name, bool force);

// The record with its status refreshed: "running" only when pid and start
// time still match.
Result<ContainerRecord> InspectContainer(const StateDir& state, const std::string& name);
bool IsRunning(Host& host, const ContainerRecord& r);

// The container's drift: its upper layer against its image, declared volume
// destinations excluded (see upper_diff.h). Works whether or not it runs.
Result<std::vector<DriftEvent>> DiffContainer(const StateDir& state, const ContainerRecord& r);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_LAUNCHER_H_
