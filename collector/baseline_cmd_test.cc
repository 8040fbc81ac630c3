// driftwatch-collector baseline with --from-host and --from-majority on a
// real SQLite store, whose hosts' trees are put in through the store.
#include <gtest/gtest.h>

#include <sstream>

#include "collector/cli.h"
#include "collector/sqlite_store.h"
#include "core/host.h"
#include "tests/testing/memory_tree_store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::collector::cli {
namespace {

using testutil::TestFile;
using testutil::TreeBuilder;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RunCommand(const std::vector<std::string>& args) {
  auto program = MakeProgram(DefaultHost());
  std::ostringstream out, err;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int code = program->Run(args, out, err);
  const std::string so = testing::internal::GetCapturedStdout();
  const std::string se = testing::internal::GetCapturedStderr();
  return {code, out.str() + so, err.str() + se};
}

TreeBuilder Host(int i) {
  TreeBuilder b;
  b.Add("/etc/hostname", TestFile("web-" + std::to_string(i) + "\n"))
      .Add("/etc/nginx/nginx.conf",
           TestFile(i == 2 ? "worker_processes 8;\n" : "worker_processes 4;\n"));
  return b;
}

class BaselineCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteStore(db_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    for (int i = 1; i <= 3; ++i) {
      const std::string id = "web-" + std::to_string(i);
      ASSERT_TRUE((*store)->EnrollHost(id, "web", "test", "sha-" + id, 1, "").ok());
      const TreeBuilder::Built built = Host(i).Build();
      ASSERT_TRUE((*store)->trees().PutTrees(built.objects, 1).ok());
      HostTree t;
      t.host_id = id;
      t.root = built.root;
      t.set_ns = 1;
      t.host_specific = {"/etc/hostname"};
      ASSERT_TRUE((*store)->trees().SetHostTree(t).ok());
    }
    ASSERT_TRUE((*store)->EnrollHost("db-1", "db", "test", "sha-db-1", 1, "").ok());
  }

  std::vector<GroupBaseline> Baselines() {
    auto store = OpenSqliteStore(db_);
    EXPECT_TRUE(store.ok());
    auto list = (*store)->trees().ListGroupBaselines("web");
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<GroupBaseline>();
  }

  testutil::TempDir dir_;
  const std::string db_ = dir_ / "c.db";
};

TEST_F(BaselineCmdTest, FromMajorityThenFromHost) {
  Outcome o = RunCommand({"baseline", "--db", db_, "--group", "web", "--from-majority", "--by",
                          "ops", "--why", "golden"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  TreeBuilder majority = Host(1);
  majority.Remove("/etc/hostname");
  EXPECT_EQ(o.out, "group web: baseline revision 1 from majority, root " +
                       majority.Build().root.Hex() + "\n");
  o = RunCommand({"baseline", "--db", db_, "--group", "web", "--from-host", "web-2", "--by",
                  "alice", "--why", "eight workers"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  const std::vector<GroupBaseline> list = Baselines();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].revision, 2);
  EXPECT_EQ(list[0].source, "host:web-2");
  EXPECT_EQ(list[0].by, "alice");
  EXPECT_EQ(list[0].why, "eight workers");
  TreeBuilder web2 = Host(2);
  web2.Remove("/etc/hostname");
  EXPECT_EQ(list[0].root, web2.Build().root);
  EXPECT_EQ(list[1].source, "majority");
  EXPECT_EQ(list[1].by, "ops");
}

TEST_F(BaselineCmdTest, MistakesWriteNothing) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"--group", "web", "--from-majority", "--from-host", "web-1", "--by", "a", "--why", "b"},
       "driftwatch-collector: baseline: give --from-host or --from-majority, not both\n"},
      {{"--group", "web", "--from-majority", "--by", "a"},
       "driftwatch-collector: baseline: --why is required with --from-host or --from-majority\n"},
      {{"--from-majority", "--by", "a", "--why", "b"},
       "driftwatch-collector: baseline: --group is required with --from-host or "
       "--from-majority\n"},
      {{"--group", "web", "--why", "b"},
       "driftwatch-collector: baseline: --by and --why go with --from-host or --from-majority\n"},
      {{"--group", "web", "--from-host", "db-1", "--by", "a", "--why", "b"},
       "driftwatch-collector: host 'db-1' is in group 'db', not 'web'\n"},
      {{"--group", "db", "--from-majority", "--by", "a", "--why", "b"},
       "driftwatch-collector: no host of group 'db' has sent its tree yet\n"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"baseline", "--db", db_};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Outcome o = RunCommand(args);
    EXPECT_EQ(o.code, kExitError) << c.err;
    EXPECT_EQ(o.err, c.err);
  }
  EXPECT_TRUE(Baselines().empty());
}

TEST_F(BaselineCmdTest, WithoutASourceItStillQueuesHostBaselines) {
  Outcome o = RunCommand({"baseline", "--db", db_, "--group", "web"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(o.out, "queued baseline for 3 host(s) in group web\n");
  EXPECT_TRUE(Baselines().empty());
}

}  // namespace
}  // namespace driftwatch::collector::cli
