// The fixture every container integration test uses: root check, a temp
// state dir with the busybox image imported as "bb", and a TearDown that
// force-removes every container, kills helper processes and checks that no
// cgroup directory is left behind.
#ifndef DRIFTWATCH_TESTS_CONTAINER_FIXTURE_H_
#define DRIFTWATCH_TESTS_CONTAINER_FIXTURE_H_

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "container/cgroups.h"
#include "container/image_store.h"
#include "container/launcher.h"
#include "container/state.h"
#include "tests/container/harness.h"

namespace driftwatch::container::testing {

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: namespaces, overlayfs and cgroups";
    tmp_ = MakeTempDir();
    ASSERT_FALSE(tmp_.empty());
    state_dir_ = tmp_ + "/state";
    // Image imports record baselines in the agent store: keep it in the
    // test's temp dir (the CLI runs in forked children, which inherit it).
    db_ = tmp_ + "/agent.db";
    setenv("DRIFTWATCH_DB", db_.c_str(), 1);
    image_dir_ = tmp_ + "/image";
    if (!BuildBusyboxImage(image_dir_))
      GTEST_SKIP() << "needs /bin/busybox (package busybox-static)";
    CliResult r = Cli({"image", "import", "bb", image_dir_});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  void TearDown() override {
    for (pid_t pid : helpers_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (state_dir_.empty()) return;
    StateDir state(DefaultHost(), state_dir_);
    std::vector<std::string> ids;
    auto names = state.ListContainers();
    if (names.ok()) {
      for (const std::string& n : *names) {
        auto r = state.LoadContainer(n);
        if (r.ok()) ids.push_back(r->id);
        Status s = RemoveContainer(state, n, true);
        EXPECT_TRUE(s.ok()) << n << ": " << s.ToString();
      }
    }
    for (const std::string& id : ids) {
      for (const std::string& dir : CgroupSet::DirsFor(id)) {
        struct stat st;
        EXPECT_NE(stat(dir.c_str(), &st), 0) << "cgroup left behind: " << dir;
      }
    }
    RemoveAll(tmp_);
    unsetenv("DRIFTWATCH_DB");
  }

  // The CLI with --state-dir pointing into the test's temp dir.
  CliResult Cli(std::vector<std::string> args) {
    size_t at = args.size();
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--") {
        at = i;
        break;
      }
    }
    args.insert(args.begin() + static_cast<long>(at), {"--state-dir", state_dir_});
    return RunCli(args);
  }

  // Runs `sh -c SCRIPT` in a running container and expects success.
  void Sh(const std::string& name, const std::string& script) {
    CliResult r = Cli({"exec", name, "--", "/bin/sh", "-c", script});
    ASSERT_EQ(r.code, 0) << script << "\nout: " << r.out << "\nerr: " << r.err;
  }

  ContainerRecord Record(const std::string& name) {
    auto r = StateDir(DefaultHost(), state_dir_).LoadContainer(name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ContainerRecord{};
  }

  std::string tmp_;
  std::string state_dir_;
  std::string image_dir_;
  std::string db_;
  std::vector<pid_t> helpers_;  // killed in TearDown
};

}  // namespace driftwatch::container::testing

#endif  // DRIFTWATCH_TESTS_CONTAINER_FIXTURE_H_
