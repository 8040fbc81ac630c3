// Shared by the realtime integration tests: a private tmpfs per test in a
// mount namespace of the test process (so that the rest of the machine
// neither sees the mounts nor pours its events in), the root and fanotify
// skips, and changes made from child processes (the source drops the test
// process's own events).
#ifndef DRIFTWATCH_TESTS_REALTIME_REALTIME_TESTING_H_
#define DRIFTWATCH_TESTS_REALTIME_REALTIME_TESTING_H_

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "core/fs_events.h"

namespace driftwatch::testutil {

// Runs `fn` in a child process and waits for it; returns its pid.
inline pid_t InChild(const std::function<void()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    fn();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return pid;
}

// A fixture whose SetUp skips without root or fanotify and mounts a fresh
// tmpfs (mode `mode`) at tmpfs_, removed in TearDown.
class PrivateTmpfsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    if (::unshare(CLONE_NEWNS) == 0) {
      ns_ok_ = ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    }
  }

  // Call first from the derived SetUp; then return if IsSkipped() or
  // HasFatalFailure().
  void MountTmpfs(const char* name, const char* mode) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: fanotify filesystem marks";
    const std::string reason = FsEventsUnsupportedReason();
    if (!reason.empty()) GTEST_SKIP() << "needs fanotify: " << reason;
    ASSERT_TRUE(ns_ok_) << "cannot make a private mount namespace";
    std::string tmpl = std::string("/tmp/dw-") + name + "-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    tmpfs_ = tmpl;
    ASSERT_EQ(::mount("tmpfs", tmpfs_.c_str(), "tmpfs", 0, (std::string("mode=") + mode).c_str()),
              0)
        << strerror(errno);
  }

  void UnmountTmpfs() {
    if (tmpfs_.empty()) return;
    ::umount2(tmpfs_.c_str(), MNT_DETACH);
    ::rmdir(tmpfs_.c_str());
    tmpfs_.clear();
  }

  bool Stopped() const { return IsSkipped() || HasFatalFailure(); }

  std::string tmpfs_;

 private:
  static inline bool ns_ok_ = false;
};

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_REALTIME_REALTIME_TESTING_H_
