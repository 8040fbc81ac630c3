// `exec`: a command in a running container (launcher.h ExecInContainer).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "container/cgroups.h"
#include "container/child_io.h"
#include "container/console.h"
#include "container/init.h"
#include "container/launcher.h"
#include "container/proc_stat.h"
#include "container/seccomp_cache.h"
#include "container/userns.h"

namespace driftwatch::container {

Result<int> ExecInContainer(const StateDir& state, const std::string& name,
                            const std::vector<std::string>& command, const ExecOptions& options) {
  if (command.empty()) return Status::InvalidArgument("no command given (use -- CMD...)");
  DW_ASSIGN_OR_RETURN(ContainerRecord r, InspectContainer(state, name));
  if (!IsRunning(state.host(), r)) return Status::NotFound("container " + name + " is not running");
  std::vector<std::pair<int, UniqueFd>> ns;
  for (auto [type, file] : {std::pair{CLONE_NEWPID, "pid"}, std::pair{CLONE_NEWIPC, "ipc"},
                            std::pair{CLONE_NEWUTS, "uts"}, std::pair{CLONE_NEWNET, "net"},
                            std::pair{CLONE_NEWCGROUP, "cgroup"}, std::pair{CLONE_NEWNS, "mnt"}}) {
    std::string p = "/proc/" + std::to_string(r.pid) + "/ns/" + file;
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(p, errno);
    ns.emplace_back(type, UniqueFd(fd));
  }
  if (!ProcessMatches(state.host(), r.pid, r.start_ticks))
    return Status::NotFound("container " + name + " is not running");
  CgroupSet cgroups(CgroupSet::DirsFor(r.id));
  UniqueFd user_ns;
  if (r.userns.enabled()) {
    std::string p = "/proc/" + std::to_string(r.pid) + "/ns/user";
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(p, errno);
    user_ns.Reset(fd);
  }
  DW_ASSIGN_OR_RETURN(SeccompFilter seccomp,
                      CachedContainerSeccomp(state, r.seccomp, r.seccomp_allow));
  DW_ASSIGN_OR_RETURN(std::vector<int> cap_add, ParseCapabilities(r.cap_add));
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
  Status pty_status;
  UniqueFd pty =
      ReceivePtyOrClose(options.tty, &console.parent, options.interactive ? options.in_fd : -1,
                        options.out_fd, &pty_status);
  std::string error = TrimEnd(ReadAll(report.r.get()));
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

}  // namespace driftwatch::container
