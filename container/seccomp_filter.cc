#include "container/seccomp_filter.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include <algorithm>

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

struct SeccompFilter::Ctx {
  scmp_filter_ctx ctx = nullptr;
  ~Ctx() {
    if (ctx != nullptr) seccomp_release(ctx);
  }
};

SeccompFilter::SeccompFilter() = default;
SeccompFilter::~SeccompFilter() = default;
SeccompFilter::SeccompFilter(SeccompFilter&&) noexcept = default;
SeccompFilter& SeccompFilter::operator=(SeccompFilter&&) noexcept = default;

Result<SeccompFilter> SeccompFilter::Build(const std::vector<SeccompRule>& rules) {
  auto holder = std::make_unique<Ctx>();
  holder->ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (holder->ctx == nullptr) return Status::IoError("seccomp_init failed");
  // 32-bit and x32 programs get the same rules; any other ABI is killed
  // (libseccomp's default for architectures not in the filter).
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    if (seccomp_arch_exist(holder->ctx, arch) == -EEXIST) {
      int rc = seccomp_arch_add(holder->ctx, arch);
      if (rc != 0 && rc != -EEXIST) return ErrnoStatus("seccomp_arch_add", -rc);
    }
  }
  for (const SeccompRule& r : rules) {
    const std::string name(r.syscall);
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) return Status::IoError("seccomp: unknown system call " + name);
    int rc;
    if (r.arg < 0) {
      rc = seccomp_rule_add(holder->ctx, SCMP_ACT_ERRNO(static_cast<uint32_t>(r.err)), nr, 0);
    } else {
      struct scmp_arg_cmp cmp = {static_cast<unsigned int>(r.arg), SCMP_CMP_MASKED_EQ, r.mask,
                                 r.value};
      rc = seccomp_rule_add_array(holder->ctx, SCMP_ACT_ERRNO(static_cast<uint32_t>(r.err)), nr, 1,
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
  SeccompFilter f;
  f.ctx_ = std::move(holder);
  return f;
}

Status SeccompFilter::Load() const {
  if (ctx_ == nullptr) return Status::Ok();
  int rc = seccomp_load(ctx_->ctx);
  if (rc != 0) return ErrnoStatus("load seccomp filter", -rc);
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
