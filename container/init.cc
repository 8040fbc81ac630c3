#include "container/init.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "container/console.h"
#include "container/layer_fs.h"
#include "container/userns.h"

namespace driftwatch::container {
namespace {

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

[[noreturn]] void Die(int report_fd, const Status& st, int code) {
  std::string msg = st.ToString() + "\n";
  if (report_fd >= 0) {
    ssize_t unused = write(report_fd, msg.data(), msg.size());
    (void)unused;
  }
  _exit(code);
}

#define INIT_CHECK(fd, expr)          \
  do {                                \
    ::driftwatch::Status s_ = (expr); \
    if (!s_.ok()) Die((fd), s_, 125); \
  } while (0)

Status Mount(const std::string& source, const std::string& target, const char* fstype,
             unsigned long flags, const std::string& data, const std::string& what) {
  if (mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype, flags,
            data.empty() ? nullptr : data.c_str()) != 0) {
    return ErrnoStatus("mount " + what, errno);
  }
  return Status::Ok();
}

// Resolves `path` beneath root_fd without following any symlink; creates
// missing components (directories, or an empty file for the last component
// when `file` is set). Returns an O_PATH fd of the result.
Result<UniqueFd> ResolveOrCreate(int root_fd, const std::string& path, bool file) {
  std::vector<std::string> comps;
  for (size_t i = 1; i <= path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) comps.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  int dup_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return ErrnoStatus("dup", errno);
  UniqueFd cur(dup_fd);
  for (size_t k = 0; k < comps.size(); ++k) {
    const std::string& c = comps[k];
    const bool last = k + 1 == comps.size();
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, cur.get(), c.c_str(), &how, sizeof(how));
    if (fd < 0 && errno == ENOENT) {
      if (last && file) {
        int f = openat(cur.get(), c.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0644);
        if (f < 0) return ErrnoStatus("create " + path, errno);
        close(f);
      } else if (mkdirat(cur.get(), c.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir " + path, errno);
      }
      fd = syscall(SYS_openat2, cur.get(), c.c_str(), &how, sizeof(how));
    }
    if (fd < 0) return ErrnoStatus(path, errno);
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0) return ErrnoStatus(path, errno);
    if (S_ISLNK(st.st_mode)) {
      close(static_cast<int>(fd));
      return Status::PermissionDenied(path + ": is a symlink inside the container; refused");
    }
    if (!last && !S_ISDIR(st.st_mode)) {
      close(static_cast<int>(fd));
      return Status::InvalidArgument(path + ": component '" + c + "' is not a directory");
    }
    cur.Reset(static_cast<int>(fd));
  }
  return cur;
}

// Attaches a volume: the launcher opened the source once, checked that fd
// and cloned its mount into a detached tree (volume_source.h); it is moved
// onto the destination fd, so no path is resolved twice.
Status MountVolume(int root_fd, const VolumeSpec& v, int tree) {
  struct stat st;
  if (fstat(tree, &st) != 0) return ErrnoStatus(v.source, errno);
  DW_ASSIGN_OR_RETURN(UniqueFd dst, ResolveOrCreate(root_fd, v.destination, !S_ISDIR(st.st_mode)));
  if (move_mount(tree, "", dst.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return ErrnoStatus("move_mount " + v.source + " -> " + v.destination, errno);
  }
  return Status::Ok();
}

Status MountFresh(int root_fd, const std::string& path, const char* fstype, unsigned long flags,
                  const std::string& data) {
  DW_ASSIGN_OR_RETURN(UniqueFd dst, ResolveOrCreate(root_fd, path, false));
  return Mount(fstype, FdPath(dst.get()), fstype, flags, data, path);
}

Status BindHostDevice(int root_fd, const std::string& name) {
  DW_ASSIGN_OR_RETURN(UniqueFd dst, ResolveOrCreate(root_fd, "/dev/" + name, true));
  return Mount("/dev/" + name, FdPath(dst.get()), nullptr, MS_BIND, "", "/dev/" + name);
}

// /dev/tty is a node of its own, not a bind of the host's: opened inside,
// it is the container process's own controlling terminal (the pty of `run
// -t`), or ENXIO, never the operator's.
Status MakeTtyNode(int devdir) {
  if (mknodat(devdir, "tty", S_IFCHR | 0666, makedev(5, 0)) != 0 && errno != EEXIST)
    return ErrnoStatus("mknod /dev/tty", errno);
  if (fchmodat(devdir, "tty", 0666, 0) != 0) return ErrnoStatus("chmod /dev/tty", errno);
  return Status::Ok();
}

Status SetupDev(int root_fd) {
  DW_RETURN_IF_ERROR(
      MountFresh(root_fd, "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k"));
  for (const char* dev : {"null", "zero", "full", "random", "urandom"}) {
    DW_RETURN_IF_ERROR(BindHostDevice(root_fd, dev));
  }
  DW_RETURN_IF_ERROR(MountFresh(root_fd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                                "newinstance,ptmxmode=0666,mode=0620"));
  DW_RETURN_IF_ERROR(MountFresh(root_fd, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                "mode=1777,size=65536k"));
  DW_ASSIGN_OR_RETURN(UniqueFd dev, ResolveOrCreate(root_fd, "/dev", false));
  DW_ASSIGN_OR_RETURN(UniqueFd devdir, OpenBeneath(root_fd, "/dev", O_RDONLY | O_DIRECTORY));
  DW_RETURN_IF_ERROR(MakeTtyNode(devdir.get()));
  const std::pair<const char*, const char*> links[] = {{"ptmx", "pts/ptmx"},
                                                       {"fd", "/proc/self/fd"},
                                                       {"stdin", "/proc/self/fd/0"},
                                                       {"stdout", "/proc/self/fd/1"},
                                                       {"stderr", "/proc/self/fd/2"}};
  for (const auto& [name, target] : links) {
    if (symlinkat(target, devdir.get(), name) != 0 && errno != EEXIST) {
      return ErrnoStatus(std::string("symlink /dev/") + name, errno);
    }
  }
  return Status::Ok();
}

Status SetupProc(int root_fd) {
  DW_RETURN_IF_ERROR(MountFresh(root_fd, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  DW_ASSIGN_OR_RETURN(UniqueFd proc, OpenBeneath(root_fd, "/proc", O_PATH | O_DIRECTORY));
  // Host-wide knobs stay read-only; kernel memory and keys are hidden.
  for (const char* p : {"sys", "sysrq-trigger", "irq", "bus", "fs"}) {
    std::string target = FdPath(proc.get()) + "/" + p;
    if (access(target.c_str(), F_OK) != 0) continue;
    DW_RETURN_IF_ERROR(
        Mount(target, target, nullptr, MS_BIND | MS_REC, "", std::string("/proc/") + p));
    DW_RETURN_IF_ERROR(Mount("", target, nullptr,
                             MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             "", std::string("/proc/") + p + " read-only"));
  }
  for (const char* p : {"kcore", "keys", "timer_list", "kallsyms"}) {
    std::string target = FdPath(proc.get()) + "/" + p;
    if (access(target.c_str(), F_OK) != 0) continue;
    DW_RETURN_IF_ERROR(Mount("/dev/null", target, nullptr, MS_BIND, "", std::string("/proc/") + p));
  }
  return Status::Ok();
}

Status MountOverlay(const InitConfig& c) {
  const std::string base = "lowerdir=" + c.lower + ",upperdir=" + c.upper + ",workdir=" + c.work;
  // redirect_dir and metacopy make renames and chmods cheap; the diff reads
  // both forms. "volatile" (Linux 5.10+) skips the sync of the whole upper
  // file system at unmount, for a layer that is thrown away anyway.
  std::vector<std::string> durability = {""};
  if (c.volatile_upper) durability.insert(durability.begin(), ",volatile");
  for (const std::string& sync : durability) {
    for (const char* extra : {",redirect_dir=on,metacopy=on", ",redirect_dir=on", ""}) {
      const std::string data = base + extra + sync;
      if (mount("overlay", c.merged.c_str(), "overlay", MS_NODEV, data.c_str()) == 0) {
        return Status::Ok();
      }
      if (errno != EINVAL) return ErrnoStatus("mount overlay on " + c.merged, errno);
    }
  }
  return ErrnoStatus("mount overlay on " + c.merged, errno);
}

Status SetupRoot(const InitConfig& c) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoStatus("make mounts private", errno);
  }
  // With a user namespace the image is seen through an idmapped mount, so
  // its root-owned files belong to the container's root; the overlay is
  // still mounted by the host's root (trusted.* xattrs, metacopy).
  if (c.userns_fd >= 0) DW_RETURN_IF_ERROR(IdmapMountOver(c.lower, c.userns_fd));
  DW_RETURN_IF_ERROR(MountOverlay(c));
  int raw = open(c.merged.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) return ErrnoStatus(c.merged, errno);
  UniqueFd root(raw);
  for (size_t i = 0; i < c.volumes.size(); ++i) {
    if (i >= c.volume_fds.size()) return Status::Internal("volume without a source fd");
    DW_RETURN_IF_ERROR(MountVolume(root.get(), c.volumes[i], c.volume_fds[i]));
    close(c.volume_fds[i]);
  }
  DW_RETURN_IF_ERROR(SetupProc(root.get()));
  DW_RETURN_IF_ERROR(SetupDev(root.get()));
  DW_RETURN_IF_ERROR(
      MountFresh(root.get(), "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  if (sethostname(c.hostname.data(), c.hostname.size()) != 0)
    return ErrnoStatus("sethostname", errno);
  if (fchdir(root.get()) != 0) return ErrnoStatus("chdir " + c.merged, errno);
  if (syscall(SYS_pivot_root, ".", ".") != 0) return ErrnoStatus("pivot_root", errno);
  // The old root is stacked under the new one; detach it so nothing of the
  // host stays reachable.
  if (umount2(".", MNT_DETACH) != 0) return ErrnoStatus("detach old root", errno);
  if (chdir("/") != 0) return ErrnoStatus("chdir /", errno);
  return Status::Ok();
}

// A private network namespace starts with its loopback down.
Status LoopbackUp() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return ErrnoStatus("socket for lo", errno);
  UniqueFd sock(s);
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return ErrnoStatus("lo flags", errno);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) return ErrnoStatus("bring lo up", errno);
  return Status::Ok();
}

[[noreturn]] void ExecCommand(const InitConfig& c, int pty_slave) {
  sigset_t none;
  sigemptyset(&none);
  for (int s = 1; s < NSIG; ++s) signal(s, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // A session of its own: the command never shares the caller's session or
  // terminal; with a pty, that pty becomes its controlling terminal.
  if (pty_slave >= 0) {
    INIT_CHECK(c.report_fd, AttachTerminal(pty_slave));
  } else if (setsid() < 0) {
    Die(c.report_fd, ErrnoStatus("setsid", errno), 125);
  }
  INIT_CHECK(c.report_fd, RestrictPrivileges(c.cap_add));
  clearenv();
  for (const std::string& kv : ContainerEnv(c.hostname, c.env)) {
    size_t eq = kv.find('=');
    setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
  }
  std::vector<char*> argv;
  for (const std::string& a : c.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Every fd above 2 is closed by the exec; the report pipe is CLOEXEC and
  // tells the launcher the exec happened.
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  execvp(argv[0], argv.data());
  Die(c.report_fd, ErrnoStatus("exec " + c.command[0], errno), 127);
}

void NoopHandler(int) {}

}  // namespace

const std::vector<int>& KeptCapabilities() {
  static const std::vector<int> kKept = {CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FSETID,
                                         CAP_FOWNER,     CAP_SETGID,       CAP_SETUID,
                                         CAP_SETFCAP,    CAP_SETPCAP,      CAP_NET_BIND_SERVICE,
                                         CAP_SYS_CHROOT, CAP_KILL,         CAP_AUDIT_WRITE};
  return kKept;
}

Result<int> ParseCapability(std::string_view name) {
  static const char* const kNames[] = {"CHOWN",
                                       "DAC_OVERRIDE",
                                       "DAC_READ_SEARCH",
                                       "FOWNER",
                                       "FSETID",
                                       "KILL",
                                       "SETGID",
                                       "SETUID",
                                       "SETPCAP",
                                       "LINUX_IMMUTABLE",
                                       "NET_BIND_SERVICE",
                                       "NET_BROADCAST",
                                       "NET_ADMIN",
                                       "NET_RAW",
                                       "IPC_LOCK",
                                       "IPC_OWNER",
                                       "SYS_MODULE",
                                       "SYS_RAWIO",
                                       "SYS_CHROOT",
                                       "SYS_PTRACE",
                                       "SYS_PACCT",
                                       "SYS_ADMIN",
                                       "SYS_BOOT",
                                       "SYS_NICE",
                                       "SYS_RESOURCE",
                                       "SYS_TIME",
                                       "SYS_TTY_CONFIG",
                                       "MKNOD",
                                       "LEASE",
                                       "AUDIT_WRITE",
                                       "AUDIT_CONTROL",
                                       "SETFCAP",
                                       "MAC_OVERRIDE",
                                       "MAC_ADMIN",
                                       "SYSLOG",
                                       "WAKE_ALARM",
                                       "BLOCK_SUSPEND",
                                       "AUDIT_READ",
                                       "PERFMON",
                                       "BPF",
                                       "CHECKPOINT_RESTORE"};
  std::string upper;
  for (char ch : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (upper.rfind("CAP_", 0) == 0) upper.erase(0, 4);
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (upper == kNames[i]) return static_cast<int>(i);
  }
  return Status::InvalidArgument("--cap-add '" + std::string(name) +
                                 "': unknown capability (e.g. NET_RAW, SYS_PTRACE)");
}

Result<std::vector<int>> ParseCapabilities(const std::vector<std::string>& names) {
  std::vector<int> caps;
  for (const std::string& name : names) {
    DW_ASSIGN_OR_RETURN(int c, ParseCapability(name));
    caps.push_back(c);
  }
  return caps;
}

Status RestrictPrivileges(const std::vector<int>& added) {
  uint64_t keep = 0;
  for (int c : KeptCapabilities()) keep |= 1ull << c;
  for (int c : added) {
    if (c >= 0 && c <= 63) keep |= 1ull << c;
  }
  for (int c = 0; c <= 63; ++c) {
    if (keep & (1ull << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
      return ErrnoStatus("drop capability " + std::to_string(c), errno);
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    uint32_t bits = static_cast<uint32_t>(keep >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = bits;
  }
  if (syscall(SYS_capset, &hdr, data) != 0) return ErrnoStatus("capset", errno);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoStatus("no_new_privs", errno);
  return Status::Ok();
}

Status JoinNewSessionKeyring() {
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) < 0 && errno != ENOSYS)
    return ErrnoStatus("join a new session keyring", errno);
  return Status::Ok();
}

std::vector<std::string> ContainerEnv(const std::string& hostname,
                                      const std::vector<std::string>& extra) {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
      "HOSTNAME=" + hostname};
  for (const std::string& kv : extra) {
    std::string key = kv.substr(0, kv.find('='));
    std::erase_if(env, [&](const std::string& e) { return e.substr(0, e.find('=')) == key; });
    env.push_back(kv);
  }
  return env;
}

void ContainerInit(const InitConfig& c) {
  // Not dumpable: /proc/1/exe, /proc/1/fd and /proc/1/mem stay closed to
  // the container even though this process runs the launcher's binary.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Out of the caller's session (and away from its controlling terminal)
  // before anything of the container runs.
  if (setsid() < 0) Die(c.report_fd, ErrnoStatus("setsid", errno), 125);
  char go = 0;
  if (read(c.go_fd, &go, 1) != 1) _exit(125);
  close(c.go_fd);
  // The launcher has put this process into the container's cgroups: a new
  // cgroup namespace rooted there hides the host's cgroup paths.
  if (unshare(CLONE_NEWCGROUP) != 0)
    Die(c.report_fd, ErrnoStatus("new cgroup namespace", errno), 125);
  if (c.private_net) INIT_CHECK(c.report_fd, LoopbackUp());
  INIT_CHECK(c.report_fd, SetupRoot(c));
  if (c.userns_fd >= 0) {
    // Every mount is in place (the mount namespace stays owned by the
    // host's user namespace, so the container cannot change them); from
    // here on this process is root only inside the user namespace.
    INIT_CHECK(c.report_fd, EnterUserNamespace(c.userns_fd));
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  }
  INIT_CHECK(c.report_fd, JoinNewSessionKeyring());
  Pty pty;
  if (c.console_fd >= 0) {
    // From the container's own devpts, after the user namespace is entered,
    // so the pty belongs to the container's root.
    auto opened = OpenContainerPty();
    if (!opened.ok()) Die(c.report_fd, opened.status(), 125);
    pty = std::move(opened).value();
    INIT_CHECK(c.report_fd, SendPtyAndWait(c.console_fd, pty.master.get()));
    pty.master.Reset();
    close(c.console_fd);
  }
  if (c.seccomp != nullptr) INIT_CHECK(c.report_fd, c.seccomp->Load());

  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  struct sigaction sa = {};
  sa.sa_handler = NoopHandler;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, nullptr);
  }
  pid_t child = fork();
  if (child < 0) Die(c.report_fd, ErrnoStatus("fork", errno), 125);
  if (child == 0) ExecCommand(c, pty.slave.get());
  pty.slave.Reset();
  close(c.report_fd);
  syscall(SYS_close_range, 3u, ~0u, 0u);

  // PID 1: forward signals to the command, reap everything, exit with the
  // command's status.
  while (true) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status = 0;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
      if (p == child) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        _exit(code);
      }
    }
  }
}

}  // namespace driftwatch::container
