#include "container/launcher.h"
#include "container/proc_stat.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "container/cgroups.h"
#include "container/child_io.h"
#include "container/console.h"
#include "container/init.h"
#include "container/layer_fs.h"
#include "container/seccomp_cache.h"
#include "container/userns.h"
#include "container/volume_source.h"

namespace driftwatch::container {
namespace {

std::string NewId(Host& host) {
  unsigned char b[8];
  if (getrandom(b, sizeof b, 0) != sizeof b) {
    uint64_t t = static_cast<uint64_t>(host.NowNs()) ^ static_cast<uint64_t>(getpid());
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(t >> (8 * i));
  }
  return HexEncode(std::string_view(reinterpret_cast<char*>(b), sizeof b));
}

// Waits until `pid` exits (it need not be our child); false on timeout.
bool WaitGone(Host& host, pid_t pid, uint64_t start_ticks, std::chrono::milliseconds timeout) {
  int pfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pfd < 0) return true;
  UniqueFd owned(pfd);
  if (start_ticks != 0 && !ProcessMatches(host, pid, start_ticks)) return true;
  struct pollfd p = {pfd, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(timeout.count()));
  return r > 0;
}

// Runs the container and waits for it. `ready_fd` (detached) receives "ok"
// or the start error. Returns the exit code.
Result<int> Supervise(const StateDir& state, ContainerRecord r, const CgroupSet& cgroups,
                      int ready_fd, const StartOptions& options) {
  const std::string dir = state.ContainerDir(r.name);
  int log = open((dir + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log < 0) return ErrnoStatus(dir + "/log", errno);
  UniqueFd log_fd(log);
  DW_ASSIGN_OR_RETURN(Pipe go, Pipe::Make());
  DW_ASSIGN_OR_RETURN(Pipe report, Pipe::Make());
  const bool tty = !options.detach && options.tty;
  const bool interactive = !options.detach && options.interactive;
  Pipe in, out, err;
  SocketPair console;
  if (tty) {
    DW_ASSIGN_OR_RETURN(console, SocketPair::Make());
  } else if (!options.detach) {
    DW_ASSIGN_OR_RETURN(out, Pipe::Make());
    DW_ASSIGN_OR_RETURN(err, Pipe::Make());
    if (interactive) {
      DW_ASSIGN_OR_RETURN(in, Pipe::Make());
    }
  }
  // The volume sources are resolved here, once, checked on the fd and
  // cloned from it; the init attaches these detached mounts.
  std::vector<UniqueFd> volume_fds;
  for (const VolumeSpec& v : r.volumes) {
    DW_ASSIGN_OR_RETURN(UniqueFd fd, OpenVolumeSource(v.source));
    DW_ASSIGN_OR_RETURN(UniqueFd tree, DetachedVolumeMount(fd.get(), v.source, v.read_only));
    volume_fds.push_back(std::move(tree));
  }
  DW_ASSIGN_OR_RETURN(SeccompFilter seccomp,
                      CachedContainerSeccomp(state, r.seccomp, r.seccomp_allow));
  InitConfig cfg;
  DW_ASSIGN_OR_RETURN(cfg.cap_add, ParseCapabilities(r.cap_add));
  cfg.lower = state.ImageRootfs(r.image);
  cfg.upper = dir + "/upper";
  cfg.work = dir + "/work";
  cfg.merged = dir + "/rootfs";
  cfg.hostname = r.name;
  cfg.volumes = r.volumes;
  for (const UniqueFd& fd : volume_fds) cfg.volume_fds.push_back(fd.get());
  cfg.command = r.command;
  cfg.env = r.env;
  cfg.volatile_upper = options.ephemeral;
  cfg.private_net = r.net != "host";
  cfg.seccomp = seccomp.empty() ? nullptr : &seccomp;
  UniqueFd userns;
  if (r.userns.enabled()) {
    DW_ASSIGN_OR_RETURN(userns, MakeUserNamespace(r.userns));
    cfg.userns_fd = userns.get();
    // The overlay's root directory takes its owner from the upper layer's:
    // it must be the image root's owner as the namespace maps it.
    struct stat lower_root;
    if (stat(cfg.lower.c_str(), &lower_root) != 0) return ErrnoStatus(cfg.lower, errno);
    if (chown(cfg.upper.c_str(), r.userns.host + lower_root.st_uid,
              r.userns.host + lower_root.st_gid) != 0) {
      return ErrnoStatus("chown " + cfg.upper, errno);
    }
  }

  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  if (cfg.private_net) flags |= CLONE_NEWNET;
  pid_t pid = static_cast<pid_t>(syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) return ErrnoStatus("clone", errno);
  if (pid == 0) {
    // Never the caller's stdin or terminal: /dev/null, or a pipe the
    // monitor feeds; output through pipes (or the pty the init allocates).
    int null_fd = open("/dev/null", O_RDWR);
    int i = interactive && !tty ? in.r.get() : null_fd;
    int o = options.detach ? log_fd.get() : tty ? null_fd : out.w.get();
    int e = options.detach ? log_fd.get() : tty ? null_fd : err.w.get();
    if (null_fd < 0 || dup2(i, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(125);
    cfg.go_fd = go.r.release();
    cfg.report_fd = report.w.release();
    cfg.console_fd = tty ? console.child.release() : -1;
    ContainerInit(cfg);
  }
  go.r.Reset();
  report.w.Reset();
  in.r.Reset();
  out.w.Reset();
  err.w.Reset();
  console.child.Reset();
  userns.Reset();
  volume_fds.clear();
  Status added = cgroups.AddProcess(pid);
  if (!added.ok()) {
    kill(pid, SIGKILL);
    WaitExit(pid);
    return added;
  }
  WriteAll(go.w.get(), "g");
  go.w.Reset();
  // The pty comes before the command runs (it gets the window size first);
  // if the init fails before, the socket closes and the report says why.
  Status pty_status;
  UniqueFd pty = ReceivePtyOrClose(tty, &console.parent, options.interactive ? options.in_fd : -1,
                                   options.out_fd, &pty_status);
  std::string start_error = TrimEnd(ReadAll(report.r.get()));
  if (start_error.empty() && !pty_status.ok()) {
    start_error = pty_status.ToString();
    kill(pid, SIGKILL);
  }
  if (!start_error.empty()) {
    int code = WaitExit(pid);
    r.status = "exited";
    r.exit_code = code;
    r.finished_ns = state.host().NowNs();
    state.SaveContainer(r).IgnoreError();
    return Status::IoError("container " + r.name + ": " + start_error);
  }
  r.pid = pid;
  r.start_ticks = ProcessStartTicks(state.host(), pid);
  r.monitor_pid = getpid();
  r.started_ns = state.host().NowNs();
  r.status = "running";
  r.exit_code = 0;
  r.finished_ns = 0;
  DW_RETURN_IF_ERROR(state.SaveContainer(r));
  if (ready_fd >= 0) {
    WriteAll(ready_fd, "ok");
    close(ready_fd);
  }
  if (!options.detach) {
    ProxyStreams streams;
    streams.in_src = interactive ? options.in_fd : -1;
    streams.in_pipe = std::move(in.w);
    streams.pty = pty.get();
    streams.out_src = out.r.get();
    streams.err_src = err.r.get();
    streams.out_dst = options.out_fd;
    streams.err_dst = options.err_fd;
    streams.log_fd = log_fd.get();
    ProxyStdio(std::move(streams));
  }
  int code = WaitExit(pid);
  // Cgroups go before the exit is recorded: `stop` returns on the record.
  cgroups.Destroy().IgnoreError();
  // A --rm container's directory is removed right after this returns; the
  // exit record would be written (and synced) only to be deleted. Until the
  // removal, readers see "running" with a pid that no longer matches, which
  // InspectContainer reports as exited.
  if (options.ephemeral && !options.detach) return code;
  // Re-read: another command may have changed the record meanwhile (slots).
  auto latest = state.LoadContainer(r.name);
  if (latest.ok() && latest->pid == r.pid) r = std::move(latest).value();
  r.status = "exited";
  r.exit_code = code;
  r.finished_ns = state.host().NowNs();
  state.SaveContainer(r).IgnoreError();
  return code;
}

}  // namespace

Status ValidateVolumeSource(const VolumeSpec& v) {
  DW_ASSIGN_OR_RETURN(UniqueFd fd, OpenVolumeSource(v.source));
  return Status::Ok();
}

Result<ContainerRecord> CreateContainer(const StateDir& state, ContainerRecord r) {
  if (state.root().find_first_of(",:\\\n") != std::string::npos || state.root().empty() ||
      state.root()[0] != '/') {
    return Status::InvalidArgument(
        "state dir '" + state.root() +
        "': must be absolute and free of ',' ':' '\\' (overlay options)");
  }
  r.id = NewId(state.host());
  if (r.name.empty()) r.name = "c-" + r.id.substr(0, 8);
  DW_RETURN_IF_ERROR(ValidateName("container", r.name));
  if (r.command.empty()) return Status::InvalidArgument("no command given (use -- CMD...)");
  DW_ASSIGN_OR_RETURN(ImageRecord image, state.LoadImage(r.image));
  r.image_digest = image.digest;
  for (const VolumeSpec& v : r.volumes) DW_RETURN_IF_ERROR(ValidateVolumeSource(v));
  if (r.net != "host" && r.net != "none")
    return Status::InvalidArgument("--net must be host or none");
  DW_RETURN_IF_ERROR(ValidateSeccomp(r.seccomp, r.seccomp_allow));
  DW_RETURN_IF_ERROR(ParseCapabilities(r.cap_add).status());
  Host& host = state.host();
  DW_RETURN_IF_ERROR(MakeDirs(host, state.root() + "/containers", 0700));
  const std::string dir = state.ContainerDir(r.name);
  if (Status made = host.MakeDir(dir, 0700); !made.ok()) {
    if (made.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("a container named '" + r.name + "' exists");
    }
    return made;
  }
  for (const char* sub : {"/upper", "/work", "/rootfs"}) {
    if (Status made = host.MakeDir(dir + sub, 0755); !made.ok()) {
      RemoveTree(dir).IgnoreError();
      return made;
    }
  }
  r.created_ns = state.host().NowNs();
  r.status = "created";
  Status saved = state.SaveContainer(r);
  if (!saved.ok()) {
    RemoveTree(dir).IgnoreError();
    return saved;
  }
  return r;
}

bool IsRunning(Host& host, const ContainerRecord& r) {
  return r.status == "running" && ProcessMatches(host, r.pid, r.start_ticks);
}

Result<ContainerRecord> InspectContainer(const StateDir& state, const std::string& name) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, state.LoadContainer(name));
  if (r.status == "running" && !ProcessMatches(state.host(), r.pid, r.start_ticks)) {
    r.status = "exited";
  }
  return r;
}

Result<int> StartContainer(const StateDir& state, const std::string& name,
                           const StartOptions& options) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (IsRunning(state.host(), r))
    return Status::AlreadyExists("container " + name + " is already running");
  for (const VolumeSpec& v : r.volumes) DW_RETURN_IF_ERROR(ValidateVolumeSource(v));
  CgroupSet(CgroupSet::DirsFor(r.id)).Destroy().IgnoreError();  // leftovers of a crash
  CgroupLimits limits{r.memory_bytes, r.pids_max};
  DW_ASSIGN_OR_RETURN(CgroupSet cgroups, CgroupSet::Create(state.host(), r.id, limits));
  if (!options.detach) {
    auto code = Supervise(state, r, cgroups, -1, options);
    cgroups.Destroy().IgnoreError();
    return code;
  }
  DW_ASSIGN_OR_RETURN(Pipe ready, Pipe::Make());
  pid_t monitor = fork();
  if (monitor < 0) {
    cgroups.Destroy().IgnoreError();
    return ErrnoStatus("fork", errno);
  }
  if (monitor == 0) {
    setsid();
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
      dup2(null_fd, 2);
    }
    ready.r.Reset();
    auto code = Supervise(state, r, cgroups, ready.w.get(), options);
    if (!code.ok()) WriteAll(ready.w.get(), code.status().ToString());
    cgroups.Destroy().IgnoreError();
    _exit(code.ok() ? 0 : 125);
  }
  ready.w.Reset();
  std::string answer = ReadAll(ready.r.get());
  if (answer != "ok") {
    WaitExit(monitor);
    return Status::IoError(answer.empty() ? "container " + name + ": monitor failed" : answer);
  }
  // The monitor runs on in its own session; the host's init reaps it once
  // this process exits. Reap it here too if it is already gone.
  waitpid(monitor, nullptr, WNOHANG);
  return 0;
}

Status StopContainer(const StateDir& state, const std::string& name,
                     std::chrono::milliseconds timeout) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (!IsRunning(state.host(), r)) return Status::Ok();
  kill(r.pid, SIGTERM);
  if (!WaitGone(state.host(), r.pid, r.start_ticks, timeout)) {
    kill(r.pid, SIGKILL);
    WaitGone(state.host(), r.pid, r.start_ticks, std::chrono::seconds(10));
  }
  // The monitor records the exit and removes the cgroups; wait for it.
  for (int i = 0; i < 500; ++i) {
    auto now = state.LoadContainer(name);
    if (!now.ok() || now->status != "running" || now->pid != r.pid) return Status::Ok();
    if (r.monitor_pid > 0 && kill(r.monitor_pid, 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The monitor is gone (killed): record the exit here.
  auto now = state.LoadContainer(name);
  if (now.ok() && now->status == "running") {
    now->status = "exited";
    now->exit_code = 128 + SIGKILL;
    now->finished_ns = state.host().NowNs();
    DW_RETURN_IF_ERROR(state.SaveContainer(*now));
  }
  return CgroupSet(CgroupSet::DirsFor(r.id)).Destroy();
}

Result<std::vector<DriftEvent>> DiffContainer(const StateDir& state, const ContainerRecord& r) {
  std::vector<std::string> excluded;
  for (const VolumeSpec& v : r.volumes) excluded.push_back(v.destination);
  return DiffLayers(state.host(), state.ImageRootfs(r.image), state.ContainerDir(r.name) + "/upper",
                    excluded, r.userns);
}

Status RemoveContainer(const StateDir& state, const std::string& name, bool force) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (IsRunning(state.host(), r)) {
    if (!force)
      return Status::InvalidArgument("container " + name +
                                     " is running; stop it first or use --force");
    DW_RETURN_IF_ERROR(StopContainer(state, name, std::chrono::seconds(5)));
  }
  DW_RETURN_IF_ERROR(CgroupSet(CgroupSet::DirsFor(r.id)).Destroy());
  return RemoveTree(state.ContainerDir(name));
}

}  // namespace driftwatch::container
