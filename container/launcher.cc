#include "container/launcher.h"

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
#include "container/console.h"
#include "container/init.h"
#include "container/layer_fs.h"
#include "container/seccomp_filter.h"
#include "container/userns.h"
#include "container/volume_source.h"

namespace driftwatch::container {
namespace {

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string NewId() {
  unsigned char b[8];
  if (getrandom(b, sizeof b, 0) != sizeof b) {
    uint64_t t = static_cast<uint64_t>(NowNs()) ^ static_cast<uint64_t>(getpid());
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(t >> (8 * i));
  }
  return HexEncode(std::string_view(reinterpret_cast<char*>(b), sizeof b));
}

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 65536) break;
  }
  return out;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 255;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Waits until `pid` exits (it need not be our child); false on timeout.
bool WaitGone(pid_t pid, uint64_t start_ticks, std::chrono::milliseconds timeout) {
  int pfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pfd < 0) return true;
  UniqueFd owned(pfd);
  if (start_ticks != 0 && !ProcessMatches(pid, start_ticks)) return true;
  struct pollfd p = {pfd, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(timeout.count()));
  return r > 0;
}

struct Pipe {
  UniqueFd r, w;
  static Result<Pipe> Make() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
};

// A unix socket pair: the container side sends the pty master over it.
struct SocketPair {
  UniqueFd parent, child;
  static Result<SocketPair> Make() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      return ErrnoStatus("socketpair", errno);
    return SocketPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
};

// The capability numbers of --cap-add names.
Result<std::vector<int>> AddedCapabilities(const ContainerRecord& r) {
  std::vector<int> caps;
  for (const std::string& name : r.cap_add) {
    DW_ASSIGN_OR_RETURN(int c, ParseCapability(name));
    caps.push_back(c);
  }
  return caps;
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
  DW_ASSIGN_OR_RETURN(SeccompFilter seccomp, ContainerSeccomp(r.seccomp, r.seccomp_allow));
  InitConfig cfg;
  DW_ASSIGN_OR_RETURN(cfg.cap_add, AddedCapabilities(r));
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
  UniqueFd pty;
  Status pty_status;
  if (tty) {
    auto master =
        ReceivePty(console.parent.get(), options.interactive ? options.in_fd : -1, options.out_fd);
    if (master.ok()) {
      pty = std::move(master).value();
    } else {
      pty_status = master.status();
      console.parent.Reset();  // no answer: the container side gives up and reports
    }
  }
  std::string start_error = Trim(ReadAll(report.r.get()));
  if (start_error.empty() && !pty_status.ok()) {
    start_error = pty_status.ToString();
    kill(pid, SIGKILL);
  }
  if (!start_error.empty()) {
    int code = WaitExit(pid);
    r.status = "exited";
    r.exit_code = code;
    r.finished_ns = NowNs();
    state.SaveContainer(r).IgnoreError();
    return Status::IoError("container " + r.name + ": " + start_error);
  }
  r.pid = pid;
  r.start_ticks = ProcessStartTicks(pid);
  r.monitor_pid = getpid();
  r.started_ns = NowNs();
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
  // Re-read: another command may have changed the record meanwhile (slots).
  auto latest = state.LoadContainer(r.name);
  if (latest.ok() && latest->pid == r.pid) r = std::move(latest).value();
  r.status = "exited";
  r.exit_code = code;
  r.finished_ns = NowNs();
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
  r.id = NewId();
  if (r.name.empty()) r.name = "c-" + r.id.substr(0, 8);
  DW_RETURN_IF_ERROR(ValidateName("container", r.name));
  if (r.command.empty()) return Status::InvalidArgument("no command given (use -- CMD...)");
  DW_ASSIGN_OR_RETURN(ImageRecord image, state.LoadImage(r.image));
  r.image_digest = image.digest;
  for (const VolumeSpec& v : r.volumes) DW_RETURN_IF_ERROR(ValidateVolumeSource(v));
  if (r.net != "host" && r.net != "none")
    return Status::InvalidArgument("--net must be host or none");
  DW_RETURN_IF_ERROR(ValidateSeccomp(r.seccomp, r.seccomp_allow));
  DW_RETURN_IF_ERROR(AddedCapabilities(r).status());
  DW_RETURN_IF_ERROR(MakeDirs(state.root() + "/containers"));
  const std::string dir = state.ContainerDir(r.name);
  if (mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return Status::AlreadyExists("a container named '" + r.name + "' exists");
    return ErrnoStatus(dir, errno);
  }
  for (const char* sub : {"/upper", "/work", "/rootfs"}) {
    if (mkdir((dir + sub).c_str(), 0755) != 0) {
      Status st = ErrnoStatus(dir + sub, errno);
      RemoveTree(dir).IgnoreError();
      return st;
    }
  }
  r.created_ns = NowNs();
  r.status = "created";
  Status saved = state.SaveContainer(r);
  if (!saved.ok()) {
    RemoveTree(dir).IgnoreError();
    return saved;
  }
  return r;
}

bool IsRunning(const ContainerRecord& r) {
  return r.status == "running" && ProcessMatches(r.pid, r.start_ticks);
}

Result<ContainerRecord> InspectContainer(const StateDir& state, const std::string& name) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, state.LoadContainer(name));
  if (r.status == "running" && !ProcessMatches(r.pid, r.start_ticks)) r.status = "exited";
  return r;
}

Result<int> StartContainer(const StateDir& state, const std::string& name,
                           const StartOptions& options) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (IsRunning(r)) return Status::AlreadyExists("container " + name + " is already running");
  for (const VolumeSpec& v : r.volumes) DW_RETURN_IF_ERROR(ValidateVolumeSource(v));
  CgroupSet(CgroupSet::DirsFor(r.id)).Destroy().IgnoreError();  // leftovers of a crash
  CgroupLimits limits{r.memory_bytes, r.pids_max};
  DW_ASSIGN_OR_RETURN(CgroupSet cgroups, CgroupSet::Create(r.id, limits));
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

Result<int> ExecInContainer(const StateDir& state, const std::string& name,
                            const std::vector<std::string>& command, const ExecOptions& options) {
  if (command.empty()) return Status::InvalidArgument("no command given (use -- CMD...)");
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (!IsRunning(r)) return Status::NotFound("container " + name + " is not running");
  std::vector<std::pair<int, UniqueFd>> ns;
  for (auto [type, file] : {std::pair{CLONE_NEWPID, "pid"}, std::pair{CLONE_NEWIPC, "ipc"},
                            std::pair{CLONE_NEWUTS, "uts"}, std::pair{CLONE_NEWNET, "net"},
                            std::pair{CLONE_NEWCGROUP, "cgroup"}, std::pair{CLONE_NEWNS, "mnt"}}) {
    std::string p = "/proc/" + std::to_string(r.pid) + "/ns/" + file;
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(p, errno);
    ns.emplace_back(type, UniqueFd(fd));
  }
  if (!ProcessMatches(r.pid, r.start_ticks))
    return Status::NotFound("container " + name + " is not running");
  CgroupSet cgroups(CgroupSet::DirsFor(r.id));
  UniqueFd user_ns;
  if (r.userns.enabled()) {
    std::string p = "/proc/" + std::to_string(r.pid) + "/ns/user";
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(p, errno);
    user_ns.Reset(fd);
  }
  DW_ASSIGN_OR_RETURN(SeccompFilter seccomp, ContainerSeccomp(r.seccomp, r.seccomp_allow));
  DW_ASSIGN_OR_RETURN(std::vector<int> cap_add, AddedCapabilities(r));
  DW_ASSIGN_OR_RETURN(Pipe go, Pipe::Make());
  DW_ASSIGN_OR_RETURN(Pipe report, Pipe::Make());
  // The command's streams: pipes copied here, or a pty of the container's
  // devpts whose master comes back over `console`. Never the caller's fds.
  Pipe in, out, err;
  SocketPair console;
  if (options.tty) {
    DW_ASSIGN_OR_RETURN(console, SocketPair::Make());
  } else {
    DW_ASSIGN_OR_RETURN(out, Pipe::Make());
    DW_ASSIGN_OR_RETURN(err, Pipe::Make());
    if (options.interactive) {
      DW_ASSIGN_OR_RETURN(in, Pipe::Make());
    }
  }
  pid_t helper = fork();
  if (helper < 0) return ErrnoStatus("fork", errno);
  if (helper == 0) {
    // Not dumpable while this process still runs the launcher's binary.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    report.r.Reset();
    in.w.Reset();
    out.r.Reset();
    err.r.Reset();
    console.parent.Reset();
    auto fail = [&](const Status& st, int code) {
      WriteAll(report.w.get(), st.ToString());
      _exit(code);
    };
    for (auto& [type, fd] : ns) {
      if (type == CLONE_NEWNS) continue;
      if (setns(fd.get(), type) != 0) fail(ErrnoStatus("setns", errno), 126);
    }
    pid_t child = fork();
    if (child < 0) fail(ErrnoStatus("fork", errno), 126);
    if (child == 0) {
      go.w.Reset();
      char g;
      if (read(go.r.get(), &g, 1) != 1) _exit(126);
      if (setns(ns.back().second.get(), CLONE_NEWNS) != 0)
        fail(ErrnoStatus("setns mnt", errno), 126);
      if (chdir("/") != 0) fail(ErrnoStatus("chdir /", errno), 126);
      // The user namespace last: joining it gives up the host's privileges.
      if (user_ns.get() >= 0) {
        Status entered = EnterUserNamespace(user_ns.get());
        if (!entered.ok()) fail(entered, 126);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
      }
      Status keyring = JoinNewSessionKeyring();
      if (!keyring.ok()) fail(keyring, 126);
      if (options.tty) {
        auto pty = OpenContainerPty();
        if (!pty.ok()) fail(pty.status(), 126);
        Status sent = SendPtyAndWait(console.child.get(), pty->master.get());
        if (!sent.ok()) fail(sent, 126);
        pty->master.Reset();
        Status attached = AttachTerminal(pty->slave.get());
        if (!attached.ok()) fail(attached, 126);
      } else {
        int null_fd = open("/dev/null", O_RDONLY);
        int i = options.interactive ? in.r.get() : null_fd;
        if (null_fd < 0 || dup2(i, 0) < 0 || dup2(out.w.get(), 1) < 0 || dup2(err.w.get(), 2) < 0)
          _exit(126);
        // A session of its own: no controlling terminal, not the caller's.
        if (setsid() < 0) fail(ErrnoStatus("setsid", errno), 126);
      }
      Status st = RestrictPrivileges(cap_add);
      if (!st.ok()) fail(st, 126);
      st = seccomp.Load();
      if (!st.ok()) fail(st, 126);
      clearenv();
      for (const std::string& kv : ContainerEnv(r.name, r.env)) {
        size_t eq = kv.find('=');
        setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
      }
      std::vector<char*> argv;
      for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
      execvp(argv[0], argv.data());
      fail(ErrnoStatus("exec " + command[0], errno), 127);
    }
    go.r.Reset();
    report.w.Reset();
    in.r.Reset();
    out.w.Reset();
    err.w.Reset();
    console.child.Reset();
    Status added = cgroups.AddProcess(child);
    if (!added.ok()) {
      kill(child, SIGKILL);
      _exit(126);
    }
    WriteAll(go.w.get(), "g");
    go.w.Reset();
    _exit(WaitExit(child));
  }
  go.r.Reset();
  go.w.Reset();
  report.w.Reset();
  in.r.Reset();
  out.w.Reset();
  err.w.Reset();
  console.child.Reset();
  UniqueFd pty;
  Status pty_status;
  if (options.tty) {
    auto master =
        ReceivePty(console.parent.get(), options.interactive ? options.in_fd : -1, options.out_fd);
    if (master.ok()) {
      pty = std::move(master).value();
    } else {
      pty_status = master.status();
      console.parent.Reset();  // no answer: the container side gives up and reports
    }
  }
  std::string error = Trim(ReadAll(report.r.get()));
  if (error.empty() && !pty_status.ok()) error = pty_status.ToString();
  if (error.empty()) {
    // The copy ends when the command exits (the helper exits with it), even
    // if something it started in the background still holds the output.
    UniqueFd exit_fd(static_cast<int>(syscall(SYS_pidfd_open, helper, 0)));
    ProxyStreams streams;
    streams.in_src = options.interactive ? options.in_fd : -1;
    streams.in_pipe = std::move(in.w);
    streams.pty = pty.get();
    streams.out_src = out.r.get();
    streams.err_src = err.r.get();
    streams.out_dst = options.out_fd;
    streams.err_dst = options.err_fd;
    streams.exit_fd = exit_fd.get();
    ProxyStdio(std::move(streams));
  }
  int code = WaitExit(helper);
  if (!error.empty()) return Status::IoError("exec in " + name + ": " + error);
  return code;
}

Status StopContainer(const StateDir& state, const std::string& name,
                     std::chrono::milliseconds timeout) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (!IsRunning(r)) return Status::Ok();
  kill(r.pid, SIGTERM);
  if (!WaitGone(r.pid, r.start_ticks, timeout)) {
    kill(r.pid, SIGKILL);
    WaitGone(r.pid, r.start_ticks, std::chrono::seconds(10));
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
    now->finished_ns = NowNs();
    DW_RETURN_IF_ERROR(state.SaveContainer(*now));
  }
  return CgroupSet(CgroupSet::DirsFor(r.id)).Destroy();
}

Result<std::vector<DriftEvent>> DiffContainer(const StateDir& state, const ContainerRecord& r) {
  std::vector<std::string> excluded;
  for (const VolumeSpec& v : r.volumes) excluded.push_back(v.destination);
  return DiffLayers(state.ImageRootfs(r.image), state.ContainerDir(r.name) + "/upper", excluded,
                    r.userns);
}

Status RemoveContainer(const StateDir& state, const std::string& name, bool force) {
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (IsRunning(r)) {
    if (!force)
      return Status::InvalidArgument("container " + name +
                                     " is running; stop it first or use --force");
    DW_RETURN_IF_ERROR(StopContainer(state, name, std::chrono::seconds(5)));
  }
  DW_RETURN_IF_ERROR(CgroupSet(CgroupSet::DirsFor(r.id)).Destroy());
  return RemoveTree(state.ContainerDir(name));
}

}  // namespace driftwatch::container
