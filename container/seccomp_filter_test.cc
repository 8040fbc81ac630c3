#include "container/seccomp_filter.h"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace driftwatch::container {
namespace {

// The errno the tests' filters return: no real call returns it, so a test
// knows the filter (not the kernel, not a missing privilege) refused.
constexpr int kMarker = 4000;

// Makes the call `r` is about, with arguments under which it fails or does
// nothing should the filter let it through (these tests may run as root).
long Invoke(const SeccompRule& r, int null_fd) {
  const std::string_view s = r.syscall;
  const char* kMissing = "/nonexistent-driftwatch-test";
  if (s == "keyctl") return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  if (s == "add_key") return syscall(SYS_add_key, nullptr, nullptr, nullptr, 0, 0);
  if (s == "request_key") return syscall(SYS_request_key, "user", "dw-test-none", nullptr, 0);
  if (s == "unshare") return syscall(SYS_unshare, r.value);
  if (s == "clone") {
    long pid = syscall(SYS_clone, r.value | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return pid;
  }
  if (s == "clone3") return syscall(SYS_clone3, nullptr, 0);
  if (s == "setns") return syscall(SYS_setns, -1, 0);
  if (s == "mount") return syscall(SYS_mount, "none", kMissing, "tmpfs", 0, nullptr);
  if (s == "umount2") return syscall(SYS_umount2, kMissing, 0);
  if (s == "pivot_root") return syscall(SYS_pivot_root, kMissing, kMissing);
  if (s == "fsopen") return syscall(SYS_fsopen, "dw-no-such-fs", 0);
  if (s == "fsconfig") return syscall(SYS_fsconfig, -1, 0, nullptr, nullptr, 0);
  if (s == "fsmount") return syscall(SYS_fsmount, -1, 0, 0);
  if (s == "fspick") return syscall(SYS_fspick, AT_FDCWD, kMissing, 0);
  if (s == "move_mount") return syscall(SYS_move_mount, -1, "", -1, "", 0);
  if (s == "open_tree") return syscall(SYS_open_tree, AT_FDCWD, kMissing, 0);
  if (s == "mount_setattr") return syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0);
  if (s == "open_by_handle_at") return syscall(SYS_open_by_handle_at, -1, nullptr, 0);
  if (s == "name_to_handle_at")
    return syscall(SYS_name_to_handle_at, AT_FDCWD, kMissing, nullptr, nullptr, 0);
  if (s == "bpf") return syscall(SYS_bpf, -1, nullptr, 0);
  if (s == "perf_event_open") return syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0);
  if (s == "userfaultfd") return syscall(SYS_userfaultfd, ~0u);
  if (s == "kexec_load") return syscall(SYS_kexec_load, 0, 0, nullptr, ~0ul);
  if (s == "kexec_file_load") return syscall(SYS_kexec_file_load, -1, -1, 0, nullptr, ~0ul);
  if (s == "init_module") return syscall(SYS_init_module, nullptr, 0, "");
  if (s == "finit_module") return syscall(SYS_finit_module, -1, "", 0);
  if (s == "delete_module") return syscall(SYS_delete_module, "dw_no_such_module", O_NONBLOCK);
  if (s == "ioctl") {
    char c = 'x';
    return syscall(SYS_ioctl, null_fd, r.value, &c);  // /dev/null: ENOTTY unfiltered
  }
  if (s == "io_uring_setup") return syscall(SYS_io_uring_setup, 0, nullptr);
  if (s == "io_uring_enter") return syscall(SYS_io_uring_enter, -1, 0, 0, 0, nullptr, 0);
  if (s == "io_uring_register") return syscall(SYS_io_uring_register, -1, 0, nullptr, 0);
  if (s == "reboot") return syscall(SYS_reboot, 0, 0, 0, nullptr);  // bad magic: EINVAL
  if (s == "swapon") return syscall(SYS_swapon, kMissing, 0);
  if (s == "swapoff") return syscall(SYS_swapoff, kMissing);
  if (s == "acct") return syscall(SYS_acct, kMissing);
  if (s == "syslog") return syscall(SYS_syslog, 10, nullptr, 0);                // buffer size
  if (s == "settimeofday") return syscall(SYS_settimeofday, nullptr, nullptr);  // no-op
  if (s == "clock_settime") return syscall(SYS_clock_settime, -1, nullptr);
  if (s == "clock_adjtime" || s == "adjtimex") {
    struct timex tx = {};  // modes 0: read only
    return s == "adjtimex" ? syscall(SYS_adjtimex, &tx)
                           : syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
  }
  if (s == "iopl") return syscall(SYS_iopl, 4);  // > 3: EINVAL
  if (s == "ioperm") return syscall(SYS_ioperm, 0, 0, 0);
  if (s == "vhangup") return syscall(SYS_vhangup);  // after setsid: no terminal to hang up
  if (s == "lookup_dcookie") return syscall(SYS_lookup_dcookie, 0, nullptr, 0);
  if (s == "uselib") return syscall(SYS_uselib, nullptr);
  if (s == "ustat") return syscall(SYS_ustat, 0, nullptr);
  if (s == "sysfs") return syscall(SYS_sysfs, 3);  // number of file system types
  if (s == "_sysctl") return syscall(SYS__sysctl, nullptr);
  if (s == "nfsservctl") return syscall(SYS_nfsservctl, 0, nullptr, nullptr);
  ADD_FAILURE() << "no test invocation for rule " << s << " " << r.arg_text;
  errno = 0;
  return 0;
}

// Loads `filter` in a child (own session) and reports the errno `call` got
// there: 0 for success.
template <typename Call>
int ErrnoUnder(const SeccompFilter& filter, Call call) {
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    // A call the kernel answers with SIGSEGV (int $0x80 without the i386
    // ABI) must end the child by that signal, not in a sanitizer's handler,
    // whose exit status would read as an errno.
    signal(SIGSEGV, SIG_DFL);
    int null_fd = open("/dev/null", O_RDWR);
    if (!filter.Load().ok()) _exit(255);
    errno = 0;
    long rc = call(null_fd);
    int e = rc < 0 ? errno : 0;
    _exit(e == kMarker ? 254 : e > 250 ? 250 : e);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return -WTERMSIG(status);
  int code = WEXITSTATUS(status);
  return code == 254 ? kMarker : code;
}

std::vector<SeccompRule> Marked(std::vector<SeccompRule> rules) {
  for (SeccompRule& r : rules) r.err = kMarker;
  return rules;
}

std::string Name(const SeccompRule& r) {
  return std::string(r.syscall) + (r.arg_text.empty() ? "" : " " + std::string(r.arg_text));
}

TEST(SeccompTest, EveryRuleRefusesItsCallAndOnlyThatRuleDoes) {
  auto rules = SeccompRules({});
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  auto all = SeccompFilter::Build(Marked(*rules));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  for (size_t i = 0; i < rules->size(); ++i) {
    const SeccompRule& rule = (*rules)[i];
    EXPECT_EQ(ErrnoUnder(*all, [&](int null_fd) { return Invoke(rule, null_fd); }), kMarker)
        << Name(rule) << " is not refused";
    // Without this one rule the call goes through to the kernel: the
    // refusal above came from this rule.
    std::vector<SeccompRule> others = Marked(*rules);
    others.erase(others.begin() + static_cast<long>(i));
    auto without = SeccompFilter::Build(others);
    ASSERT_TRUE(without.ok());
    EXPECT_NE(ErrnoUnder(*without, [&](int null_fd) { return Invoke(rule, null_fd); }), kMarker)
        << Name(rule) << " is refused by another rule";
  }
}

TEST(SeccompTest, RealErrnosAreThoseOfTheTable) {
  auto filter = ContainerSeccomp("default", {});
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_EQ(
      ErrnoUnder(
          *filter,
          [](int) { return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0); }),
      EPERM);
  EXPECT_EQ(ErrnoUnder(*filter, [](int) { return syscall(SYS_unshare, CLONE_NEWUSER); }), EPERM);
  EXPECT_EQ(ErrnoUnder(*filter, [](int) { return syscall(SYS_clone3, nullptr, 0); }), ENOSYS);
}

TEST(SeccompTest, TerminalInjectionCannotHideInHighBits) {
  auto filter = ContainerSeccomp("default", {});
  ASSERT_TRUE(filter.ok());
  // The kernel truncates the request to 32 bits; so does the filter's test.
  EXPECT_EQ(ErrnoUnder(*filter,
                       [](int fd) {
                         char c = 'x';
                         return syscall(SYS_ioctl, fd, (1ul << 32) | TIOCSTI, &c);
                       }),
            EPERM);
}

TEST(SeccompTest, OrdinaryCallsStillWork) {
  auto filter = ContainerSeccomp("default", {});
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(ErrnoUnder(*filter, [](int) { return static_cast<long>(getpid()); }), 0);
  EXPECT_EQ(ErrnoUnder(*filter,
                       [](int) {
                         pid_t p = fork();  // clone without namespace flags
                         if (p == 0) _exit(0);
                         if (p > 0) waitpid(p, nullptr, 0);
                         return static_cast<long>(p);
                       }),
            0);
  EXPECT_EQ(ErrnoUnder(*filter, [](int) { return syscall(SYS_unshare, 0); }), 0);
  // Other ioctls reach the driver: /dev/null is no terminal.
  EXPECT_EQ(ErrnoUnder(*filter,
                       [](int fd) {
                         int n = 0;
                         return syscall(SYS_ioctl, fd, FIONREAD, &n);
                       }),
            ENOTTY);
}

TEST(SeccompTest, The32BitAbiHasTheSameRules) {
  auto filter = ContainerSeccomp("default", {});
  ASSERT_TRUE(filter.ok());
  int got = ErrnoUnder(*filter, [](int) {
    long ret;
    // i386 keyctl (288) through int $0x80.
    asm volatile("int $0x80"
                 : "=a"(ret)
                 : "a"(288L), "b"(static_cast<long>(KEYCTL_GET_KEYRING_ID)),
                   "c"(static_cast<long>(KEY_SPEC_USER_KEYRING)), "d"(0L)
                 : "memory");
    if (ret < 0 && ret > -4096) {
      errno = static_cast<int>(-ret);
      return -1L;
    }
    return ret;
  });
  if (got == -SIGSEGV) GTEST_SKIP() << "kernel without the i386 ABI";
  EXPECT_EQ(got, EPERM);
}

TEST(SeccompTest, GroupsRelaxPerContainer) {
  auto all = SeccompRules({});
  auto relaxed = SeccompRules({"keyring", "tty-inject"});
  ASSERT_TRUE(all.ok() && relaxed.ok());
  std::set<std::string_view> groups;
  for (const SeccompRule& r : *all) groups.insert(r.group);
  std::set<std::string_view> listed;
  for (const SeccompGroup& g : SeccompGroups()) listed.insert(g.name);
  EXPECT_EQ(groups, listed);  // every group has rules, every rule a listed group
  for (const SeccompRule& r : *relaxed) {
    EXPECT_NE(r.group, "keyring");
    EXPECT_NE(r.group, "tty-inject");
  }
  size_t dropped = static_cast<size_t>(std::count_if(all->begin(), all->end(), [](const auto& r) {
    return r.group == "keyring" || r.group == "tty-inject";
  }));
  EXPECT_EQ(relaxed->size(), all->size() - dropped);
  auto filter = ContainerSeccomp("default", {"keyring"});
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(ErrnoUnder(*filter,
                       [](int) {
                         return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING,
                                        0);
                       }),
            0);
  auto bad = SeccompRules({"keyrings"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--seccomp-allow 'keyrings': unknown group (known: keyring, namespaces, mount, "
            "handles, bpf, perf, userfaultfd, kexec, modules, tty-inject, io_uring, host-admin)");
  EXPECT_FALSE(ContainerSeccomp("off", {}).ok());
  EXPECT_FALSE(ValidateSeccomp("unconfined", {"keyring"}).ok());
  EXPECT_TRUE(ValidateSeccomp("default", {"keyring"}).ok());
  EXPECT_TRUE(ValidateSeccomp("unconfined", {}).ok());
  auto none = ContainerSeccomp("unconfined", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace driftwatch::container
