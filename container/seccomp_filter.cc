#include "container/seccomp_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/host.h"

namespace driftwatch::container {
namespace {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

constexpr uint64_t kLow32 = 0xffffffffu;

const SeccompGroup kGroups[] = {
    {"keyring", "keyctl, add_key, request_key: the kernel keyrings are shared with the host"},
    {"namespaces",
     "unshare and clone with CLONE_NEW* flags, clone3 (ENOSYS: libc falls back to clone), setns"},
    {"mount",
     "mount, umount2, pivot_root and the new mount API (fsopen, fsconfig, fsmount, fspick, "
     "move_mount, open_tree, mount_setattr)"},
    {"handles",
     "open_by_handle_at, name_to_handle_at: open files by handle, past every path check"},
    {"bpf", "bpf"},
    {"perf", "perf_event_open"},
    {"userfaultfd", "userfaultfd: stalls kernel page faults, a race-widening tool"},
    {"kexec", "kexec_load, kexec_file_load"},
    {"modules", "init_module, finit_module, delete_module"},
    {"tty-inject", "ioctl TIOCSTI and TIOCLINUX: push input into a terminal"},
    {"io_uring", "io_uring_setup, io_uring_enter, io_uring_register"},
    {"host-admin",
     "reboot, swapon, swapoff, acct, syslog, settimeofday, clock_settime, clock_adjtime, adjtimex, "
     "iopl, ioperm, vhangup, lookup_dcookie, uselib, ustat, sysfs, _sysctl, nfsservctl"},
};

std::vector<SeccompRule> AllRules() {
  std::vector<SeccompRule> r;
  auto deny = [&](std::string_view group, std::initializer_list<std::string_view> calls) {
    for (std::string_view c : calls) r.push_back({group, c, -1, 0, 0, "", EPERM});
  };
  deny("keyring", {"keyctl", "add_key", "request_key"});
  const std::pair<uint64_t, std::string_view> ns_flags[] = {
      {CLONE_NEWUSER, "CLONE_NEWUSER"},    {CLONE_NEWNS, "CLONE_NEWNS"},
      {CLONE_NEWPID, "CLONE_NEWPID"},      {CLONE_NEWNET, "CLONE_NEWNET"},
      {CLONE_NEWUTS, "CLONE_NEWUTS"},      {CLONE_NEWIPC, "CLONE_NEWIPC"},
      {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}};
  for (const auto& [flag, name] : ns_flags) {
    r.push_back({"namespaces", "unshare", 0, flag, flag, name, EPERM});
  }
  r.push_back({"namespaces", "unshare", 0, CLONE_NEWTIME, CLONE_NEWTIME, "CLONE_NEWTIME", EPERM});
  // clone's low byte is the exit signal, so CLONE_NEWTIME (0x80) is not a
  // clone flag; x86's clone takes the flags first.
  for (const auto& [flag, name] : ns_flags) {
    r.push_back({"namespaces", "clone", 0, flag, flag, name, EPERM});
  }
  // clone3 passes its flags in memory, out of the filter's sight.
  r.push_back({"namespaces", "clone3", -1, 0, 0, "", ENOSYS});
  deny("namespaces", {"setns"});
  deny("mount", {"mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
                 "move_mount", "open_tree", "mount_setattr"});
  deny("handles", {"open_by_handle_at", "name_to_handle_at"});
  deny("bpf", {"bpf"});
  deny("perf", {"perf_event_open"});
  deny("userfaultfd", {"userfaultfd"});
  deny("kexec", {"kexec_load", "kexec_file_load"});
  deny("modules", {"init_module", "finit_module", "delete_module"});
  // The request is an unsigned int: compare the low 32 bits only, so high
  // garbage bits cannot slip past.
  r.push_back({"tty-inject", "ioctl", 1, kLow32, TIOCSTI, "TIOCSTI", EPERM});
  r.push_back({"tty-inject", "ioctl", 1, kLow32, TIOCLINUX, "TIOCLINUX", EPERM});
  deny("io_uring", {"io_uring_setup", "io_uring_enter", "io_uring_register"});
  deny("host-admin", {"reboot", "swapon", "swapoff", "acct", "syslog", "settimeofday",
                      "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "vhangup",
                      "lookup_dcookie", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl"});
  return r;
}

}  // namespace

const std::vector<SeccompGroup>& SeccompGroups() {
  static const std::vector<SeccompGroup> kAll(std::begin(kGroups), std::end(kGroups));
  return kAll;
}

Result<std::vector<SeccompRule>> SeccompRules(const std::vector<std::string>& allowed) {
  for (const std::string& a : allowed) {
    bool known = std::any_of(std::begin(kGroups), std::end(kGroups),
                             [&](const SeccompGroup& g) { return g.name == a; });
    if (!known) {
      std::string names;
      for (const SeccompGroup& g : kGroups)
        names += (names.empty() ? "" : ", ") + std::string(g.name);
      return Status::InvalidArgument("--seccomp-allow '" + a + "': unknown group (known: " + names +
                                     ")");
    }
  }
  std::vector<SeccompRule> rules = AllRules();
  std::erase_if(rules, [&](const SeccompRule& r) {
    return std::find(allowed.begin(), allowed.end(), r.group) != allowed.end();
  });
  return rules;
}

SeccompFilter::SeccompFilter() = default;
SeccompFilter::~SeccompFilter() = default;
SeccompFilter::SeccompFilter(SeccompFilter&&) noexcept = default;
SeccompFilter& SeccompFilter::operator=(SeccompFilter&&) noexcept = default;

Result<SeccompFilter> SeccompFilter::Build(const std::vector<SeccompRule>& rules) {
  struct CtxHolder {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    ~CtxHolder() {
      if (ctx != nullptr) seccomp_release(ctx);
    }
  } holder;
  if (holder.ctx == nullptr) return Status::IoError("seccomp_init failed");
  // 32-bit and x32 programs get the same rules; any other ABI is killed
  // (libseccomp's default for architectures not in the filter).
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    if (seccomp_arch_exist(holder.ctx, arch) == -EEXIST) {
      int rc = seccomp_arch_add(holder.ctx, arch);
      if (rc != 0 && rc != -EEXIST) return ErrnoStatus("seccomp_arch_add", -rc);
    }
  }
  for (const SeccompRule& r : rules) {
    const std::string name(r.syscall);
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) return Status::IoError("seccomp: unknown system call " + name);
    int rc;
    if (r.arg < 0) {
      rc = seccomp_rule_add(holder.ctx, SCMP_ACT_ERRNO(static_cast<uint32_t>(r.err)), nr, 0);
    } else {
      struct scmp_arg_cmp cmp = {static_cast<unsigned int>(r.arg), SCMP_CMP_MASKED_EQ, r.mask,
                                 r.value};
      rc = seccomp_rule_add_array(holder.ctx, SCMP_ACT_ERRNO(static_cast<uint32_t>(r.err)), nr, 1,
                                  &cmp);
    }
    // -EDOM/-EINVAL: the call does not exist on one of the ABIs (x32 has no
    // ustat, for one): nothing to filter there.
    if (rc != 0 && rc != -EDOM) {
      return ErrnoStatus(
          "seccomp rule for " + name + (r.arg_text.empty() ? "" : " " + std::string(r.arg_text)),
          -rc);
    }
  }
  // The BPF program is generated here, once, not in each child at load: the
  // child only hands it to the kernel. A pipe holds it whole (at most
  // BPF_MAXINSNS instructions, 32 KiB, under the pipe's 64 KiB).
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe for the seccomp program", errno);
  UniqueFd r(fds[0]), w(fds[1]);
  if (fcntl(w.get(), F_SETPIPE_SZ, 1 << 16) < 0 && errno != EPERM)
    return ErrnoStatus("pipe size for the seccomp program", errno);
  int rc = seccomp_export_bpf(holder.ctx, w.get());
  if (rc != 0) return ErrnoStatus("export seccomp program", -rc);
  w.Reset();
  std::string program;
  char buf[4096];
  while (true) {
    ssize_t n = read(r.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read seccomp program", errno);
    if (n == 0) break;
    program.append(buf, static_cast<size_t>(n));
  }
  return FromProgram(program);
}

Result<SeccompFilter> SeccompFilter::FromProgram(std::string_view program) {
  if (program.empty() || program.size() % sizeof(struct sock_filter) != 0 ||
      program.size() / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    return Status::Corruption("seccomp program of " + std::to_string(program.size()) +
                              " bytes is not a BPF program");
  }
  SeccompFilter f;
  f.program_.resize(program.size() / sizeof(struct sock_filter));
  std::memcpy(f.program_.data(), program.data(), program.size());
  return f;
}

std::string_view SeccompFilter::program() const {
  return std::string_view(reinterpret_cast<const char*>(program_.data()),
                          program_.size() * sizeof(struct sock_filter));
}

Status SeccompFilter::Load() const {
  if (program_.empty()) return Status::Ok();
  // As libseccomp's seccomp_load with its defaults: no_new_privs first (the
  // kernel requires it, or CAP_SYS_ADMIN), then the filter, no flags.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoStatus("no_new_privs", errno);
  struct sock_fprog prog = {static_cast<unsigned short>(program_.size()),
                            const_cast<struct sock_filter*>(program_.data())};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0u, &prog) != 0) {
    if (errno != ENOSYS) return ErrnoStatus("load seccomp filter", errno);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
      return ErrnoStatus("load seccomp filter", errno);
  }
  return Status::Ok();
}

Status ValidateSeccomp(const std::string& mode, const std::vector<std::string>& allowed) {
  if (mode != "default" && mode != "unconfined" && !mode.empty()) {
    return Status::InvalidArgument("--seccomp '" + mode + "': expected default or unconfined");
  }
  if (mode == "unconfined" && !allowed.empty()) {
    return Status::InvalidArgument("--seccomp-allow with --seccomp unconfined: nothing to allow");
  }
  return SeccompRules(allowed).status();
}

Result<SeccompFilter> ContainerSeccomp(const std::string& mode,
                                       const std::vector<std::string>& allowed) {
  DW_RETURN_IF_ERROR(ValidateSeccomp(mode, allowed));
  if (mode == "unconfined") return SeccompFilter();
  DW_ASSIGN_OR_RETURN(std::vector<SeccompRule> rules, SeccompRules(allowed));
  return SeccompFilter::Build(rules);
}

}  // namespace driftwatch::container
