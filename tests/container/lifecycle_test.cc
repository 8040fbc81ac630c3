// run / logs / ps / stop / rm / exec / cgroups / net of real containers.

#include <fstream>

#include "container/proc_stat.h"
#include "tests/container/fixture.h"
// After gtest: cpprest defines a U() macro that gtest's headers would see.
#include <cpprest/json.h>

namespace driftwatch::container::testing {
namespace {

using LifecycleTest = ContainerTest;

TEST_F(LifecycleTest, ForegroundRunPassesOutputAndExitCodeAndKeepsALog) {
  CliResult r = Cli({"run", "--name", "hello", "--env", "GREETING=hi there", "bb", "--", "/bin/sh",
                     "-c", "echo \"$GREETING from $(hostname)\"; echo oops >&2; exit 3"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "hi there from hello\n");
  EXPECT_EQ(r.err, "oops\n");
  CliResult logs = Cli({"logs", "hello"});
  EXPECT_EQ(logs.code, 0);
  EXPECT_EQ(logs.out, "hi there from hello\noops\n");
  CliResult ps = Cli({"ps"});
  ASSERT_EQ(Lines(ps.out).size(), 2u) << ps.out;
  EXPECT_NE(Lines(ps.out)[1].find("exited(3)"), std::string::npos) << ps.out;
}

TEST_F(LifecycleTest, RunWithRmLeavesNothing) {
  CliResult r = Cli({"run", "--rm", "bb", "--", "/bin/sh", "-c", "echo bye; exit 4"});
  EXPECT_EQ(r.code, 4);
  EXPECT_EQ(r.out, "bye\n");
  auto names = StateDir(DefaultHost(), state_dir_).ListContainers();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
  r = Cli({"run", "--rm", "--detach", "bb", "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "driftwatch: --rm and --detach exclude each other\n");
}

TEST_F(LifecycleTest, UnknownCommandIsAStartError) {
  CliResult r = Cli({"run", "--name", "nope", "bb", "--", "/bin/does-not-exist"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("exec /bin/does-not-exist: No such file or directory"), std::string::npos)
      << r.err;
  EXPECT_EQ(Record("nope").status, "exited");
}

TEST_F(LifecycleTest, DetachedContainerSurvivesTheCliAndStops) {
  CliResult r = Cli({"run", "--detach", "--name", "svc", "bb", "--", "/bin/sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "svc\n");
  ContainerRecord rec = Record("svc");
  EXPECT_TRUE(IsRunning(DefaultHost(), rec));
  // The record is all a new CLI process needs.
  CliResult ps = Cli({"ps", "--format", "json"});
  ASSERT_EQ(ps.code, 0) << ps.err;
  web::json::value v = web::json::value::parse(ps.out);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].at("name").as_string(), "svc");
  EXPECT_EQ(v[0].at("status").as_string(), "running");
  EXPECT_EQ(v[0].at("pid").as_integer(), rec.pid);
  EXPECT_EQ(v[0].at("image").as_string(), "bb");
  EXPECT_EQ(v[0].at("image_digest").as_string(),
            StateDir(DefaultHost(), state_dir_).LoadImage("bb")->digest.Hex());
  EXPECT_FALSE(v[0].at("drifted").as_bool());

  Sh("svc", "echo x > /etc/new");
  ps = Cli({"ps", "--format", "json"});
  v = web::json::value::parse(ps.out);
  EXPECT_TRUE(v[0].at("drifted").as_bool());
  EXPECT_EQ(v[0].at("drift").at("added").as_integer(), 1);

  CliResult rm = Cli({"rm", "svc"});
  EXPECT_EQ(rm.code, 2);
  EXPECT_NE(rm.err.find("is running"), std::string::npos);
  ASSERT_EQ(Cli({"stop", "svc"}).code, 0);
  rec = Record("svc");
  EXPECT_EQ(rec.status, "exited");
  EXPECT_EQ(rec.exit_code, 128 + SIGTERM);
  EXPECT_FALSE(ProcessMatches(DefaultHost(), rec.pid, rec.start_ticks));
  for (const std::string& dir : CgroupSet::DirsFor(rec.id)) {
    struct stat st;
    EXPECT_NE(stat(dir.c_str(), &st), 0) << dir;
  }
  EXPECT_EQ(Cli({"rm", "svc"}).code, 0);
  struct stat st;
  EXPECT_NE(stat((state_dir_ + "/containers/svc").c_str(), &st), 0);
  EXPECT_EQ(Cli({"ps"}).out, Lines(Cli({"ps"}).out)[0] + "\n");
}

TEST_F(LifecycleTest, ExecRunsInsideWithTheExitCode) {
  ASSERT_EQ(Cli({"run", "--detach", "--name", "x", "--env", "MODE=prod", "bb", "--", "/bin/sleep",
                 "1000"})
                .code,
            0);
  // PID 1 is the container's init, PID 2 its command: the exec'd shell is
  // in the container's pid namespace.
  CliResult r = Cli({"exec", "x", "--", "/bin/sh", "-c",
                     "echo $MODE $(hostname) $(cat /proc/2/cmdline | tr '\\0' ' '); exit 7"});
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_EQ(r.out, "prod x /bin/sleep 1000\n");
  r = Cli({"exec", "nonexistent", "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no container named 'nonexistent'"), std::string::npos) << r.err;
}

TEST_F(LifecycleTest, CgroupLimitsAreSetAndRemoved) {
  ASSERT_EQ(Cli({"run", "--detach", "--name", "lim", "--memory", "64M", "--pids", "32", "bb", "--",
                 "/bin/sleep", "1000"})
                .code,
            0);
  ContainerRecord rec = Record("lim");
  std::vector<std::string> dirs = CgroupSet::DirsFor(rec.id);
  ASSERT_FALSE(dirs.empty());
  bool saw_memory = false, saw_pids = false;
  for (const std::string& dir : dirs) {
    std::string procs = ReadSmallFile(dir + "/cgroup.procs", 4096).value();
    EXPECT_NE(procs.find(std::to_string(rec.pid)), std::string::npos) << dir;
    for (const char* f : {"/memory.limit_in_bytes", "/memory.max"}) {
      auto v = ReadSmallFile(dir + f, 100);
      if (v.ok()) {
        EXPECT_EQ(*v, std::to_string(64u << 20) + "\n");
        saw_memory = true;
      }
    }
    auto p = ReadSmallFile(dir + "/pids.max", 100);
    if (p.ok()) {
      EXPECT_EQ(*p, "32\n");
      saw_pids = true;
    }
  }
  EXPECT_TRUE(saw_memory);
  EXPECT_TRUE(saw_pids);
  // The pids limit holds inside.
  CliResult r =
      Cli({"exec", "lim", "--", "/bin/sh", "-c",
           "i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done 2>/dev/null; echo started"});
  EXPECT_NE(r.code, 0);
  ASSERT_EQ(Cli({"rm", "--force", "lim"}).code, 0);
  for (const std::string& dir : dirs) {
    struct stat st;
    EXPECT_NE(stat(dir.c_str(), &st), 0) << dir;
  }
}

TEST_F(LifecycleTest, NetNoneHasOnlyLoopback) {
  CliResult r = Cli({"run", "--net", "none", "bb", "--", "/bin/sh", "-c", "ls /sys/class/net"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "lo\n");
}

TEST_F(LifecycleTest, StartAgainKeepsTheLayer) {
  ASSERT_EQ(Cli({"run", "--name", "again", "bb", "--", "/bin/sh", "-c",
                 "echo $$ >> /count; wc -l < /count"})
                .out,
            "1\n");
  CliResult r = Cli({"start", "again"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n");
}

TEST_F(LifecycleTest, ImageDigestIsContentAddressed) {
  CliResult again = Cli({"image", "import", "bb2", image_dir_});
  ASSERT_EQ(again.code, 0) << again.err;
  auto a = StateDir(DefaultHost(), state_dir_).LoadImage("bb");
  auto b = StateDir(DefaultHost(), state_dir_).LoadImage("bb2");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->digest, b->digest);
  WriteFile(image_dir_ + "/etc/extra", "1\n");
  ASSERT_EQ(Cli({"image", "import", "bb3", image_dir_}).code, 0);
  EXPECT_NE(StateDir(DefaultHost(), state_dir_).LoadImage("bb3")->digest, a->digest);
  EXPECT_EQ(Cli({"image", "import", "bb", image_dir_}).code, 2);
  // A tar archive imports to the same digest as the directory it came from.
  auto tar = RunProgram({"/bin/tar", "-C", image_dir_, "-cf", tmp_ + "/img.tar", "."});
  ASSERT_TRUE(tar.ok() && tar->first == 0);
  ASSERT_EQ(Cli({"image", "import", "fromtar", tmp_ + "/img.tar"}).code, 0);
  EXPECT_EQ(StateDir(DefaultHost(), state_dir_).LoadImage("fromtar")->digest,
            StateDir(DefaultHost(), state_dir_).LoadImage("bb3")->digest);
}

}  // namespace
}  // namespace driftwatch::container::testing
