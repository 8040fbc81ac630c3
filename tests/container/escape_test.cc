// What a container must not reach: host fds, host mounts, the launcher's
// binary, the host through volume tricks, and privileges.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "container/mountinfo.h"
#include "tests/container/fixture.h"

namespace driftwatch::container::testing {
namespace {

using EscapeTest = ContainerTest;

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(EscapeTest, HostFdsAreNotVisible) {
  // An fd the launcher's caller leaked (no O_CLOEXEC) must not reach inside.
  int leaked = open("/etc/hostname", O_RDONLY);
  ASSERT_GE(leaked, 3);
  CliResult r = Cli({"run", "--name", "fds", "bb", "--", "/bin/ls", "/proc/self/fd"});
  close(leaked);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n1\n2\n3\n");  // 3 is ls's own directory handle
  // The init holds nothing beyond 0-2, and even those cannot be opened
  // from inside.
  r = Cli({"run", "--name", "initfds", "bb", "--", "/bin/sh", "-c",
           "ls /proc/1/fd; readlink /proc/1/fd/1 || echo denied; cat /proc/1/fd/0 || echo denied"});
  EXPECT_EQ(r.out, "0\n1\n2\ndenied\ndenied\n") << r.err;
}

// The CVE-2024-21626 class: a host directory fd or a host working directory
// that survives into the container is a path to the host's file system
// (/proc/self/fd/N/.. or /proc/self/cwd/..). Neither `run` nor `exec` may
// carry one in: the process starts in the container's "/" with fds 0-2 only.
TEST_F(EscapeTest, HostDirectoryFdAndWorkingDirectoryDoNotLeakIn) {
  const std::string host_dir = tmp_ + "/host-side";
  ASSERT_EQ(mkdir(host_dir.c_str(), 0755), 0);
  { std::ofstream(host_dir + "/marker") << "host\n"; }
  int leaked = open(host_dir.c_str(), O_RDONLY | O_DIRECTORY);  // no O_CLOEXEC on purpose
  ASSERT_GE(leaked, 3);
  char old_cwd[4096];
  ASSERT_NE(getcwd(old_cwd, sizeof old_cwd), nullptr);
  ASSERT_EQ(chdir(host_dir.c_str()), 0);
  const std::string fd = std::to_string(leaked);
  const std::string probe = "readlink /proc/self/cwd; ls /proc/self/fd; cat /proc/self/fd/" + fd +
                            "/marker /proc/self/cwd/marker marker 2>/dev/null || echo unreachable";
  CliResult run = Cli({"run", "--name", "cwd-run", "bb", "--", "/bin/sh", "-c", probe});
  ASSERT_EQ(Cli({"run", "--detach", "--name", "cwd-exec", "bb", "--", "/bin/sleep", "1000"}).code,
            0);
  CliResult exec = Cli({"exec", "cwd-exec", "--", "/bin/sh", "-c", probe});
  EXPECT_EQ(chdir(old_cwd), 0);
  close(leaked);
  EXPECT_EQ(run.out, "/\n0\n1\n2\n3\nunreachable\n") << run.err;
  EXPECT_EQ(exec.out, "/\n0\n1\n2\n3\nunreachable\n") << exec.err;
}

TEST_F(EscapeTest, HostMountsAreNotVisible) {
  CliResult r = Cli({"run", "--name", "mnt", "bb", "--", "/bin/cat", "/proc/self/mountinfo"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto mounts = ParseMountInfo(r.out);
  ASSERT_TRUE(mounts.ok()) << mounts.status().ToString();
  std::set<std::string> points;
  for (const MountInfo& m : *mounts) points.insert(m.mount_point);
  std::set<std::string> allowed = {"/",
                                   "/proc",
                                   "/proc/sys",
                                   "/proc/irq",
                                   "/proc/bus",
                                   "/proc/fs",
                                   "/proc/kcore",
                                   "/proc/keys",
                                   "/proc/timer_list",
                                   "/proc/kallsyms",
                                   "/proc/sysrq-trigger",
                                   "/dev",
                                   "/dev/null",
                                   "/dev/zero",
                                   "/dev/full",
                                   "/dev/random",
                                   "/dev/urandom",
                                   "/dev/pts",
                                   "/dev/shm",
                                   "/sys"};
  for (const std::string& p : points) EXPECT_TRUE(allowed.count(p)) << "host mount visible: " << p;
  EXPECT_EQ(mounts->front().fstype, "overlay");
  // The root is the image, not the host.
  r = Cli({"run", "--name", "ls", "bb", "--", "/bin/ls", "/"});
  EXPECT_EQ(r.out, "bin\ndev\netc\nevil\nopt\nproc\nroot\nsrv\nsys\ntmp\nusr\n");
  // /sys and /proc/sys are read-only.
  r = Cli({"run", "--name", "ro", "bb", "--", "/bin/sh", "-c",
           "echo 1 > /proc/sys/kernel/panic_on_oops || echo ro1; touch /sys/x || echo ro2"});
  EXPECT_EQ(Lines(r.out), (std::vector<std::string>{"ro1", "ro2"})) << r.err;
}

TEST_F(EscapeTest, LauncherBinaryCannotBeOpenedFromInside) {
  std::string self_before = ReadWhole("/proc/self/exe");
  ASSERT_EQ(Cli({"run", "--detach", "--name", "exe", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  // PID 1 is the launcher's own process image; /proc/1/exe is the classic
  // way to reach the host binary (CVE-2019-5736).
  const std::string probe =
      "for p in /proc/1/exe /proc/1/root/../../proc/1/exe; do"
      "  if (echo x >> $p) 2>/dev/null; then echo writable $p; fi;"
      "  if cat $p > /dev/null 2>&1; then echo readable $p; fi;"
      "  if readlink $p > /dev/null 2>&1; then echo visible $p; fi;"
      "done; echo done";
  CliResult r = Cli({"exec", "exe", "--", "/bin/sh", "-c", probe});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "done\n");
  // Not through a process started by exec either (it joins the namespaces
  // from the launcher's binary before it execs).
  r = Cli({"exec", "exe", "--", "/bin/sh", "-c",
           "for d in /proc/[0-9]*; do readlink $d/exe; done 2>/dev/null | sort -u"});
  EXPECT_EQ(r.out, "/bin/busybox\n");
  EXPECT_EQ(ReadWhole("/proc/self/exe"), self_before);
}

TEST_F(EscapeTest, VolumeSourceThatIsASymlinkToRootIsRefused) {
  std::string link = tmp_ + "/rootlink";
  ASSERT_EQ(symlink("/", link.c_str()), 0);
  CliResult r = Cli({"run", "--name", "v1", "--volume", link + ":/host", "bb", "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "driftwatch: volume source " + link + " is a symlink; give the real path (refused)\n");
  r = Cli({"run", "--name", "v2", "--volume", "/:/host", "bb", "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "driftwatch: volume source / is the host root; refused\n");
  struct stat st;
  EXPECT_NE(stat((state_dir_ + "/containers/v1").c_str(), &st), 0);
}

TEST_F(EscapeTest, VolumeDestinationThroughASymlinkIsRefused) {
  // The image has /evil -> /etc; a destination under it must not follow it.
  std::string vol = tmp_ + "/vol";
  mkdir(vol.c_str(), 0755);
  CliResult r =
      Cli({"run", "--name", "d1", "--volume", vol + ":/evil/passwd", "bb", "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/evil/passwd: is a symlink inside the container; refused"),
            std::string::npos)
      << r.err;
  // A read-only volume is read-only, a writable one writes through.
  r = Cli({"run", "--name", "d2", "--volume", vol + ":/data:ro", "bb", "--", "/bin/sh", "-c",
           "touch /data/x 2>/dev/null || echo refused"});
  EXPECT_EQ(r.out, "refused\n");
  r = Cli({"run", "--name", "d3", "--volume", vol + ":/data", "bb", "--", "/bin/sh", "-c",
           "echo w > /data/x"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadSmallFile(vol + "/x", 100).value(), "w\n");
}

TEST_F(EscapeTest, PrivilegesAreBounded) {
  CliResult r = Cli(
      {"run", "--name", "caps", "bb", "--", "/bin/sh", "-c",
       "grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status; mount -t tmpfs t /tmp 2>/dev/null "
       "|| echo no-mount"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Lines(r.out),
            (std::vector<std::string>{"CapEff:\t00000000a00405fb", "CapBnd:\t00000000a00405fb",
                                      "NoNewPrivs:\t1", "no-mount"}));
}

}  // namespace
}  // namespace driftwatch::container::testing
