// The oracles themselves (tests/runtimes/oracle.h), on fixed input: a wrong
// oracle would make the runtime tests agree with anything.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/runtimes/oracle.h"
#include "tests/runtimes/sandbox.h"

namespace driftwatch::rt {
namespace {

using web::json::value;

TEST(OracleTest, ParsesRuntimeDiffLines) {
  std::vector<std::string> bad;
  auto d = ParseRuntimeDiff("C /etc\nA /etc/new\nD /etc/group\n\nX /odd\nA relative\n", &bad);
  EXPECT_EQ(d, (std::vector<std::pair<std::string, std::string>>{
                   {"modified", "/etc"}, {"added", "/etc/new"}, {"removed", "/etc/group"}}));
  EXPECT_EQ(bad, (std::vector<std::string>{"X /odd", "A relative"}));
}

class OracleTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw-rt-oracle.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { Exec({"/bin/rm", "-rf", dir_}, 30); }
  std::string dir_;
};

TEST_F(OracleTreeTest, RuntimeDiffKeepsFilesAndLinksOnly) {
  const std::string merged = dir_ + "/merged", image = dir_ + "/image";
  WriteFileOrDie(merged + "/etc/new", "x\n");
  WriteFileOrDie(image + "/etc/group", "g\n");
  MkdirAll(image + "/opt/gone");
  ASSERT_EQ(symlink("/etc/new", (merged + "/etc/link").c_str()), 0);
  MkdirAll(merged + "/data");
  Changes got = FilesOfRuntimeDiff({{"modified", "/etc"},
                                    {"added", "/etc/new"},
                                    {"added", "/etc/link"},
                                    {"added", "/data"},
                                    {"removed", "/etc/group"},
                                    {"removed", "/opt/gone"}},
                                   merged, image);
  EXPECT_EQ(got, (Changes{"added /etc/link", "added /etc/new", "removed /etc/group"}));
}

TEST_F(OracleTreeTest, UpperDirWhiteoutsAndCopyUps) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: a whiteout is a 0/0 character device";
  const std::string upper = dir_ + "/upper", image = dir_ + "/image";
  WriteFileOrDie(image + "/etc/passwd", "root\n");
  WriteFileOrDie(image + "/etc/group", "root\n");
  WriteFileOrDie(upper + "/etc/passwd", "root\nextra\n");
  WriteFileOrDie(upper + "/opt/a/b/new", "n\n");
  ASSERT_EQ(mknod((upper + "/etc/group").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  EXPECT_EQ(FilesOfUpperDir(upper, image),
            (Changes{"added /opt/a/b/new", "modified /etc/passwd", "removed /etc/group"}));
}

TEST(OracleTest, EventsOfDriftwatchWithoutDirectories) {
  value events = value::parse(R"([
    {"path": "/opt/a", "kind": "added", "new": {"type": "dir"}},
    {"path": "/opt/a/f", "kind": "added", "new": {"type": "file"}},
    {"path": "/etc/l", "kind": "added", "new": {"type": "symlink"}},
    {"path": "/etc/group", "kind": "removed", "old": {"type": "file"}},
    {"path": "/srv", "kind": "removed", "old": {"type": "dir"}},
    {"path": "/data/x", "kind": "added", "new": {"type": "file"}}])");
  EXPECT_EQ(FilesOfEvents(events),
            (Changes{"added /data/x", "added /etc/l", "added /opt/a/f", "removed /etc/group"}));
  EXPECT_EQ(EventsUnder(events, {"/data", "/opt/a"}),
            (std::vector<std::string>{"/opt/a", "/opt/a/f", "/data/x"}));
}

TEST(SandboxTest, ExecIsBoundedAndCaptures) {
  ExecResult r = Exec({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 10);
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
  r = Exec({"/bin/sh", "-c", "sleep 30 & sleep 30"}, 1);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.code, 128 + 9);
}

}  // namespace
}  // namespace driftwatch::rt
