// The launcher's hardening, tried from inside as an attacker would: the
// seccomp filter on every container process (keyrings, user namespaces,
// mounts), volume sources resolved once without symlinks, a private network
// by default without raw sockets, a cgroup namespace, swap capped with
// memory, and images that bring no device nodes or setuid files to the host.
#include <arpa/inet.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "tests/container/fixture.h"

namespace driftwatch::container::testing {
namespace {

class HardeningTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    probe_ = ProbeDir(tmp_);
    ASSERT_FALSE(probe_.empty()) << "dwprobe not found ($DRIFTWATCH_PROBE)";
    probe_vol_ = probe_ + ":/probe:ro";
  }
  bool Exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
  }
  std::string probe_, probe_vol_;
};

TEST_F(HardeningTest, SeccompFilterIsOnTheInitTheCommandAndExec) {
  CliResult r = Cli({"run", "--name", "f", "bb", "--", "/bin/grep", "^Seccomp:", "/proc/1/status",
                     "/proc/self/status"});
  EXPECT_EQ(r.out, "/proc/1/status:Seccomp:\t2\n/proc/self/status:Seccomp:\t2\n") << r.err;
  ASSERT_EQ(Cli({"run", "--detach", "--name", "fd", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  r = Cli({"exec", "fd", "--", "/bin/grep", "^Seccomp:", "/proc/self/status"});
  EXPECT_EQ(r.out, "Seccomp:\t2\n") << r.err;
  // Turned off per container, and recorded so.
  r = Cli({"run", "--name", "u", "--seccomp", "unconfined", "bb", "--", "/bin/grep",
           "^Seccomp:", "/proc/self/status"});
  EXPECT_EQ(r.out, "Seccomp:\t0\n") << r.err;
  EXPECT_EQ(Record("u").seccomp, "unconfined");
  r = Cli({"run", "--name", "bad", "--seccomp-allow", "everything", "bb", "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--seccomp-allow 'everything': unknown group"), std::string::npos) << r.err;
}

TEST_F(HardeningTest, KeyringsNamespacesAndMountsAreClosedInside) {
  const std::vector<std::string> want = {
      "keyctl: Operation not permitted", "add_key: Operation not permitted",
      "request_key: Operation not permitted", "unshare CLONE_NEWUSER: Operation not permitted",
      // ENOSYS on purpose: glibc then falls back to
      // clone, which the filter can inspect.
      std::string("clone3 CLONE_NEWUSER: ") + std::strerror(ENOSYS),
      "setns: Operation not permitted", "mount: Operation not permitted",
      "open_by_handle_at: Operation not permitted", "bpf: Operation not permitted",
      "perf_event_open: Operation not permitted", "userfaultfd: Operation not permitted"};
  CliResult r =
      Cli({"run", "--name", "k", "--volume", probe_vol_, "bb", "--", "/probe/dwprobe", "syscalls"});
  EXPECT_EQ(Lines(r.out), want) << r.err;
  ASSERT_EQ(Cli({"run", "--detach", "--name", "kd", "--volume", probe_vol_, "bb", "--",
                 "/bin/sleep", "1000"})
                .code,
            0);
  r = Cli({"exec", "kd", "--", "/probe/dwprobe", "syscalls"});
  EXPECT_EQ(Lines(r.out), want) << r.err;
  // The way an operator would try it.
  r = Cli({"exec", "kd", "--", "/bin/sh", "-c",
           "/bin/busybox unshare -U /bin/true 2>/dev/null || echo refused"});
  EXPECT_EQ(r.out, "refused\n") << r.err;
  // Relaxed, the keyring calls work, in a session keyring of the
  // container's own: not the caller's.
  long host_session = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1);
  ASSERT_GT(host_session, 0);
  r = Cli({"run", "--name", "kr", "--seccomp-allow", "keyring", "--volume", probe_vol_, "bb", "--",
           "/probe/dwprobe", "keyring"});
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out << r.err;
  EXPECT_EQ(lines[0], "session keyring: ok");
  EXPECT_NE(lines[1], "session keyring id: " + std::to_string(host_session));
}

TEST_F(HardeningTest, VolumeSourcesWithASymlinkAnywhereAreRefused) {
  // A stand-in for the host's /etc, and the real one.
  const std::string host_etc = tmp_ + "/host-etc";
  WriteFile(host_etc + "/default/keep", "host\n");
  ASSERT_EQ(symlink(host_etc.c_str(), (tmp_ + "/etclink").c_str()), 0);
  ASSERT_EQ(symlink("/etc", (tmp_ + "/realetc").c_str()), 0);
  for (const std::string& source : {tmp_ + "/etclink/", tmp_ + "/realetc/",
                                    tmp_ + "/etclink/default", tmp_ + "/realetc/default"}) {
    CliResult r = Cli({"run", "--name", "v", "--volume", source + ":/v", "bb", "--", "/bin/sh",
                       "-c", "echo pwned > /v/pwned"});
    EXPECT_EQ(r.code, 2) << source;
    EXPECT_TRUE(r.err.find("trailing '/'") != std::string::npos ||
                r.err.find(" is a symlink; give the real path (refused)") != std::string::npos)
        << source << ": " << r.err;
    EXPECT_FALSE(Exists(state_dir_ + "/containers/v")) << source;
  }
  EXPECT_FALSE(Exists(host_etc + "/default/pwned"));
  EXPECT_FALSE(Exists("/etc/pwned"));
  EXPECT_FALSE(Exists("/etc/default/pwned"));
  CliResult r = Cli(
      {"run", "--name", "v2", "--volume", tmp_ + "/etclink/default:/v", "bb", "--", "/bin/true"});
  EXPECT_EQ(r.err, "driftwatch: volume source " + tmp_ + "/etclink/default: " + tmp_ +
                       "/etclink is a symlink; give the real path (refused)\n");
}

TEST_F(HardeningTest, ASymlinkPlantedByOneContainerNeverRedirectsAnother) {
  const std::string host_etc = tmp_ + "/host-etc";
  WriteFile(host_etc + "/default/keep", "host\n");
  const std::string shared = tmp_ + "/shared";
  ASSERT_EQ(mkdir(shared.c_str(), 0755), 0);
  // The first container plants a link in its volume...
  CliResult r = Cli({"run", "--name", "a", "--volume", shared + ":/data", "bb", "--", "/bin/ln",
                     "-s", host_etc, "/data/link"});
  ASSERT_EQ(r.code, 0) << r.err;
  // ...which a later container's volume source runs through.
  r = Cli({"run", "--name", "b", "--volume", shared + "/link/default:/x", "bb", "--", "/bin/sh",
           "-c", "echo pwned > /x/pwned"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "driftwatch: volume source " + shared + "/link/default: " + shared +
                       "/link is a symlink; give the real path (refused)\n");
  EXPECT_FALSE(Exists(host_etc + "/default/pwned"));
  // A source swapped for a symlink after `create` is caught at `start`:
  // the path is resolved again, once, when the container starts.
  const std::string src = tmp_ + "/src";
  WriteFile(src + "/d/file", "x\n");
  ASSERT_EQ(Cli({"run", "--name", "c", "--volume", src + "/d:/d", "bb", "--", "/bin/true"}).code,
            0);
  ASSERT_EQ(rename(src.c_str(), (tmp_ + "/src.old").c_str()), 0);
  ASSERT_EQ(symlink(host_etc.c_str(), src.c_str()), 0);
  ASSERT_EQ(mkdir((host_etc + "/d").c_str(), 0755), 0);
  r = Cli({"start", "c"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(src + " is a symlink; give the real path (refused)"), std::string::npos)
      << r.err;
}

TEST_F(HardeningTest, DefaultNetworkIsPrivateWithLoopbackUp) {
  CliResult r = Cli({"run", "--name", "n", "bb", "--", "/bin/sh", "-c",
                     "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; "
                     "cat /sys/class/net/lo/flags"});
  EXPECT_EQ(r.out, "lo\n0x9\n") << r.err;  // IFF_UP | IFF_LOOPBACK
  EXPECT_EQ(Record("n").net, "none");
  // A service of the host's that listens on 127.0.0.1 only.
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(s, 4), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  r = Cli({"run", "--name", "n2", "--volume", probe_vol_, "bb", "--", "/probe/dwprobe", "connect",
           port});
  EXPECT_EQ(r.out, "connect: Connection refused\n") << r.err;
  r = Cli({"run", "--name", "n3", "--net", "host", "--volume", probe_vol_, "bb", "--",
           "/probe/dwprobe", "connect", port});
  EXPECT_EQ(r.out, "connect: ok\n") << r.err;
  close(s);
}

TEST_F(HardeningTest, RawSocketsOnlyWhenAsked) {
  CliResult r =
      Cli({"run", "--name", "r", "--volume", probe_vol_, "bb", "--", "/probe/dwprobe", "rawsock"});
  EXPECT_EQ(r.out, "raw socket: Operation not permitted\n") << r.err;
  r = Cli({"run", "--name", "r2", "--cap-add", "NET_RAW", "--volume", probe_vol_, "bb", "--",
           "/probe/dwprobe", "rawsock"});
  EXPECT_EQ(r.out, "raw socket: ok\n") << r.err;
  EXPECT_EQ(Record("r2").cap_add, std::vector<std::string>{"NET_RAW"});
  r = Cli({"run", "--name", "r3", "--cap-add", "NET_RAWX", "bb", "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown capability"), std::string::npos) << r.err;
}

TEST_F(HardeningTest, CgroupNamespaceHidesTheHostsCgroupPaths) {
  ASSERT_EQ(Cli({"run", "--detach", "--name", "cg", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  for (const std::vector<std::string>& how :
       {std::vector<std::string>{"run", "--name", "cg2", "bb", "--", "/bin/cat",
                                 "/proc/self/cgroup"},
        std::vector<std::string>{"exec", "cg", "--", "/bin/cat", "/proc/self/cgroup"}}) {
    CliResult r = Cli(how);
    ASSERT_EQ(r.code, 0) << r.err;
    std::vector<std::string> lines = Lines(r.out);
    ASSERT_FALSE(lines.empty());
    for (const std::string& l : lines) {
      EXPECT_EQ(l.substr(l.rfind(':')), ":/") << how[0] << ": " << l;
    }
  }
  // From the host the container's cgroups are where they always were.
  auto host_view = ReadSmallFile("/proc/" + std::to_string(Record("cg").pid) + "/cgroup", 65536);
  ASSERT_TRUE(host_view.ok());
  EXPECT_NE(host_view->find("/driftwatch/" + Record("cg").id), std::string::npos) << *host_view;
}

TEST_F(HardeningTest, MemoryLimitCapsSwapToo) {
  ASSERT_EQ(
      Cli({"run", "--detach", "--name", "m", "--memory", "64M", "bb", "--", "/bin/sleep", "1000"})
          .code,
      0);
  bool capped = false;
  for (const std::string& dir : CgroupSet::DirsFor(Record("m").id)) {
    auto memsw = ReadSmallFile(dir + "/memory.memsw.limit_in_bytes", 100);
    if (memsw.ok()) {
      EXPECT_EQ(*memsw, std::to_string(64u << 20) + "\n") << dir;
      capped = true;
    }
    auto swap = ReadSmallFile(dir + "/memory.swap.max", 100);
    if (swap.ok()) {
      EXPECT_EQ(*swap, "0\n") << dir;
      capped = true;
    }
  }
  if (!capped) GTEST_SKIP() << "no swap accounting on this kernel";
}

TEST_F(HardeningTest, ImportDropsDeviceNodesAndSetuidBitsUnlessKept) {
  const std::string img = tmp_ + "/special";
  ASSERT_EQ(RunProgram({"/bin/cp", "-a", image_dir_, img}).value().first, 0);
  ASSERT_EQ(mknod((img + "/sda").c_str(), S_IFBLK | 0666, makedev(8, 0)), 0);
  ASSERT_EQ(mknod((img + "/mem").c_str(), S_IFCHR | 0666, makedev(1, 1)), 0);
  WriteFile(img + "/bin/rootshell", "#!/bin/sh\n", 0755);
  ASSERT_EQ(chmod((img + "/bin/rootshell").c_str(), 06755), 0);
  ASSERT_EQ(RunProgram({"/bin/tar", "-C", img, "-cf", tmp_ + "/special.tar", "."}).value().first,
            0);
  CliResult r = Cli({"image", "import", "sp", tmp_ + "/special.tar"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "driftwatch: note: sp: removed 2 device node(s), cleared setuid/setgid on 1 file(s), "
            "removed file capabilities from 0 file(s) (--keep-special keeps them)\n");
  const std::string rootfs = StateDir(DefaultHost(), state_dir_).ImageRootfs("sp");
  EXPECT_FALSE(Exists(rootfs + "/sda"));
  EXPECT_FALSE(Exists(rootfs + "/mem"));
  struct stat st;
  ASSERT_EQ(stat((rootfs + "/bin/rootshell").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  // The same from a directory.
  r = Cli({"image", "import", "spdir", img});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(Exists(StateDir(DefaultHost(), state_dir_).ImageRootfs("spdir") + "/sda"));
  // Kept when asked.
  r = Cli({"image", "import", "--keep-special", "spk", tmp_ + "/special.tar"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string kept = StateDir(DefaultHost(), state_dir_).ImageRootfs("spk");
  ASSERT_EQ(lstat((kept + "/sda").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  ASSERT_EQ(stat((kept + "/bin/rootshell").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 06755u);
}

}  // namespace
}  // namespace driftwatch::container::testing
