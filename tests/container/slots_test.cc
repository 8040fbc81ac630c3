// A/B deploys: health-checked swaps, refused bad deploys, rollback, and
// volumes that outlive slots.
#include "tests/container/fixture.h"

namespace driftwatch::container::testing {
namespace {

class SlotsTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Version 2 of the image has /etc/version; the health check asks for it.
    WriteFile(image_dir_ + "/etc/version", "2\n");
    ASSERT_EQ(Cli({"image", "import", "bb-v2", image_dir_}).code, 0);
    vol_ = tmp_ + "/vol";
    mkdir(vol_.c_str(), 0755);
  }
  std::string Active() {
    auto s = StateDir(DefaultHost(), state_dir_).LoadService("web");
    return s.ok() ? s->active : "";
  }
  bool Running(const std::string& name) { return IsRunning(DefaultHost(), Record(name)); }
  std::string vol_;
};

TEST_F(SlotsTest, DeploySwapsOnHealthAndRollbackReturns) {
  const std::vector<std::string> cmd = {"--", "/bin/sh", "-c",
                                        "hostname >> /data/starts; exec sleep 1000"};
  auto deploy = [&](const std::string& image, const std::string& health) {
    std::vector<std::string> args = {"deploy", "web",      image,          "--health",
                                     health,   "--volume", vol_ + ":/data"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    return Cli(args);
  };
  CliResult r = deploy("bb", "test -f /etc/passwd");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web: slot a (web-a) is active\n");
  EXPECT_EQ(Active(), "a");
  EXPECT_TRUE(Running("web-a"));

  r = deploy("bb-v2", "test -f /etc/version");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web: slot b (web-b) is active; stopped web-a\n");
  EXPECT_EQ(Active(), "b");
  EXPECT_TRUE(Running("web-b"));
  EXPECT_FALSE(Running("web-a"));
  EXPECT_EQ(Record("web-b").image, "bb-v2");

  // A deploy whose health check fails leaves the running slot alone.
  r = Cli({"deploy", "web", "bb", "--health", "echo not ready; test -f /etc/version"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "driftwatch: deploy web to slot a: health check of web-a failed after 20 tries (exit "
            "1: not ready); "
            "slot b keeps serving\n");
  EXPECT_EQ(Active(), "b");
  EXPECT_TRUE(Running("web-b"));
  EXPECT_FALSE(Running("web-a"));

  // Rollback returns to the slot before the last swap: the failed deploy
  // replaced slot a with the old image, so roll back to a fresh v1 deploy.
  r = deploy("bb", "test -f /etc/passwd");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Active(), "a");
  r = Cli({"rollback", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web: slot b (web-b) is active again; stopped web-a\n");
  EXPECT_EQ(Active(), "b");
  EXPECT_TRUE(Running("web-b"));
  EXPECT_FALSE(Running("web-a"));

  // The volume saw every start of every slot, the failed one included.
  std::vector<std::string> starts = Lines(ReadSmallFile(vol_ + "/starts", 4096).value());
  EXPECT_EQ(starts, (std::vector<std::string>{"web-a", "web-b", "web-a", "web-a", "web-b"}));
}

TEST_F(SlotsTest, RollbackWithoutHistoryIsRefused) {
  CliResult r = Cli({"rollback", "web"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "driftwatch: service web was never deployed\n");
  r = Cli({"deploy", "web", "bb", "--health", "true", "--", "/bin/sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"rollback", "web"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "driftwatch: service web has no previous slot to roll back to\n");
}

}  // namespace
}  // namespace driftwatch::container::testing
