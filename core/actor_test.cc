#include "core/actor.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

TEST(FormatActorTest, FullActorNamesExePidUidAndLogin) {
  Actor a;
  a.pid = 4242;
  a.exe = "/usr/bin/vim";
  a.uid = 1000;
  a.euid = 1000;
  a.loginuid = 1000;
  a.login = "alice";
  EXPECT_EQ(FormatActor(a), "/usr/bin/vim, pid 4242, uid 1000 (login alice)");
}

TEST(FormatActorTest, SaysEuidContainerAndExit) {
  Actor a;
  a.pid = 7;
  a.exe = "/usr/bin/passwd";
  a.uid = 1000;
  a.euid = 0;
  a.loginuid = 1001;
  a.container = "docker:web-1";
  a.exited = true;
  EXPECT_EQ(FormatActor(a),
            "/usr/bin/passwd, pid 7, uid 1000 (loginuid 1001), euid 0, in docker:web-1, exited");
}

TEST(FormatActorTest, GoneProcessKeepsItsPid) {
  Actor a;
  a.pid = 77;
  a.exited = true;
  EXPECT_EQ(FormatActor(a), "pid 77, exited");
}

TEST(FormatActorTest, EscapesControlBytesInExe) {
  Actor a;
  a.pid = 1;
  a.exe = "/tmp/x\ny";
  EXPECT_EQ(FormatActor(a), "/tmp/x\\ny, pid 1");
}

}  // namespace
}  // namespace driftwatch
