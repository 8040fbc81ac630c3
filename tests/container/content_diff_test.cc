// `driftwatch diff container:NAME:/PATH`: a container's file against its
// image's, as GNU `diff -u` prints them, running or stopped.
#include <cstdlib>

#include "tests/container/fixture.h"
#include "tests/testing/run.h"

namespace driftwatch::container::testing {
namespace {

namespace tu = driftwatch::testutil;

class ContentDiffTest : public ContainerTest {
 protected:
  // `driftwatch diff TARGET` run by the real binary.
  tu::RunResult Diff(const std::string& target) {
    const char* bin = std::getenv("DRIFTWATCH_BIN");
    return tu::Run(tu::Quote(bin ? bin : "driftwatch") + " diff " + tu::Quote(target) +
                   " --state-dir " + tu::Quote(state_dir_) + " 2>" + tu::Quote(tmp_ + "/err"));
  }
  std::string Err() {
    auto err = ReadSmallFile(tmp_ + "/err", 1 << 20);
    return err.ok() ? *err : "";
  }

  // What GNU diff prints for the two files, with the labels driftwatch uses.
  std::string GnuDiff(const std::string& path, const std::string& image_file,
                      const std::string& now_file) {
    tu::RunResult r = tu::Run("/usr/bin/diff -u -N --label " + tu::Quote(path + "\timage bb") +
                              " --label " + tu::Quote(path + "\tcontainer web now") + " " +
                              tu::Quote(image_file) + " " + tu::Quote(now_file));
    EXPECT_EQ(r.exit_code, 1);
    return r.out;
  }
};

TEST_F(ContentDiffTest, ContainerFileAgainstItsImageRunningAndStopped) {
  CliResult run = Cli({"run", "--detach", "--name", "web", "bb", "--", "/bin/sleep", "1000"});
  ASSERT_EQ(run.code, 0) << run.err;
  Sh("web", "printf 'root:x:0:\\nstaff:x:50:bob\\n' > /etc/group && rm /etc/hosts");
  const std::string image = state_dir_ + "/images/bb/rootfs";
  // The expected side "now", kept outside the container for after the stop.
  WriteFile(tmp_ + "/group.now", "root:x:0:\nstaff:x:50:bob\n");
  const std::string group = GnuDiff("/etc/group", image + "/etc/group", tmp_ + "/group.now");
  const std::string hosts = GnuDiff("/etc/hosts", image + "/etc/hosts", tmp_ + "/missing");
  ASSERT_NE(group, "");

  for (const char* when : {"running", "stopped"}) {
    tu::RunResult d = Diff("container:web:/etc/group");
    EXPECT_EQ(d.exit_code, 1) << when << ": " << Err();
    EXPECT_EQ(d.out, group) << when;
    tu::RunResult gone = Diff("container:web:/etc/hosts");
    EXPECT_EQ(gone.exit_code, 1) << when << ": " << Err();
    EXPECT_EQ(gone.out, hosts) << when;
    tu::RunResult same = Diff("container:web:/etc/passwd");
    EXPECT_EQ(same.exit_code, 0) << when << ": " << Err();
    EXPECT_EQ(same.out, "") << when;
    if (std::string(when) == "running") {
      ASSERT_EQ(Cli({"stop", "web"}).code, 0);
    }
  }

  tu::RunResult bad = Diff("container:web");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(Err().find("expected container:NAME:/PATH"), std::string::npos) << Err();
  tu::RunResult nobody = Diff("container:nobody:/etc/group");
  EXPECT_EQ(nobody.exit_code, 2);
}

}  // namespace
}  // namespace driftwatch::container::testing
