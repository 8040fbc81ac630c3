#include "collector/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "collector/sqlite_store.h"
#include "core/host.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::collector::cli {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RunCollector(const std::vector<std::string>& args) {
  auto program = MakeProgram(DefaultHost());
  std::ostringstream out, err;
  int code = program->Run(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(CollectorArgsTest, MistakesSayWhatWasExpected) {
  struct Case {
    std::vector<std::string> args;
    std::string first_line;
  };
  const Case cases[] = {
      {{"--bogus"}, "driftwatch-collector: unknown flag --bogus"},
      {{"--bogus", "x"}, "driftwatch-collector: unknown flag --bogus"},
      {{"--listen"}, "driftwatch-collector: --listen: expected a value (HOST:PORT)"},
      {{"--db", "a", "--db", "b"}, "driftwatch-collector: --db: given more than once"},
      {{"--store-pool", "many"},
       "driftwatch-collector: --store-pool: expected an integer from 1 to 1024, not 'many'"},
      {{"--store", "mysql://x"},
       "driftwatch-collector: --store: expected sqlite:///PATH or postgresql://USER@HOST/DB"},
      {{"serve"},
       "driftwatch-collector: unknown command 'serve' (expected token, host, verify, baseline, "
       "package, key, migrate)"},
      {{"token"}, "driftwatch-collector token: expected a subcommand: create, list, revoke"},
      {{"token", "revoke", "--db", "x.db"}, "driftwatch-collector token revoke: ID is required"},
      {{"token", "list", "--db", "x.db", "--format", "csv"},
       "driftwatch-collector token list: --format: expected table or json, not 'csv'"},
      {{"host"},
       "driftwatch-collector host: expected a subcommand: list, remove, rename, trust-reset"},
      {{"host", "rename", "web-1", "--db", "x.db"},
       "driftwatch-collector host rename: NEW is required"},
      {{"token", "create", "--db", "x.db"},
       "driftwatch-collector token create: --role is required"},
      {{"token", "create", "--db", "x.db", "--role", "root"},
       "driftwatch-collector token create: --role: expected enroll, read, admin or reenroll, not "
       "'root'"},
      {{"token", "create", "--db", "x.db", "--role", "enroll", "--uses", "abc"},
       "driftwatch-collector token create: --uses: expected a positive integer, not 'abc'"},
      {{"token", "create", "--db", "x.db", "--role", "enroll", "--expires", "soon"},
       "driftwatch-collector token create: --expires: expected a duration like 30d, 12h, 15m or "
       "30s, not 'soon'"},
      {{"token", "create", "--db", "x.db", "--role", "read", "extra"},
       "driftwatch-collector token create: unexpected argument 'extra'"},
      {{"--db", "x.db", "token", "create", "--role", "read"},
       "driftwatch-collector token create: --db: not a flag of 'driftwatch-collector token "
       "create'; give the command's flags after it"},
      {{"baseline", "--group"}, "driftwatch-collector baseline: --group: expected a value (GROUP)"},
      {{"migrate"}, "driftwatch-collector migrate: --store is required"},
      {{"package", "agent", "--url", "http://c"},
       "driftwatch-collector package agent: --out is required"},
      {{"package", "agent", "--bogus"}, "driftwatch-collector package agent: unknown flag --bogus"},
  };
  for (const Case& c : cases) {
    Outcome o = RunCollector(c.args);
    std::string joined;
    for (const std::string& a : c.args) joined += a + " ";
    EXPECT_EQ(o.code, cmdline::kExitError) << joined;
    EXPECT_EQ(o.err.substr(0, o.err.find('\n')), c.first_line) << joined;
  }
  Outcome o = RunCollector({"--bogus"});
  EXPECT_EQ(o.err,
            "driftwatch-collector: unknown flag --bogus\n"
            "run 'driftwatch-collector --help' for usage\n");
}

void HelpOfEvery(const CLI::App* app, std::vector<std::string> path) {
  std::vector<std::string> args = path;
  args.push_back("--help");
  Outcome o = RunCollector(args);
  std::string name = "driftwatch-collector";
  for (const std::string& p : path) name += " " + p;
  EXPECT_EQ(o.code, cmdline::kExitOk) << name;
  EXPECT_NE(o.out.find("Usage: " + name + " "), std::string::npos) << name << ":\n" << o.out;
  for (const CLI::App* sub : app->get_subcommands({})) {
    auto next = path;
    next.push_back(sub->get_name());
    HelpOfEvery(sub, next);
  }
}

TEST(CollectorArgsTest, EveryCommandAnswersHelp) {
  auto program = MakeProgram(DefaultHost());
  HelpOfEvery(program.get(), {});
  Outcome o = RunCollector({"--version"});
  EXPECT_EQ(o.code, cmdline::kExitOk);
  EXPECT_EQ(o.out, std::string("driftwatch-collector ") + DRIFTWATCH_VERSION + "\n");
}

// A good line reaches its command: the token is created in the store named.
TEST(CollectorArgsTest, TokenCreateWithLimits) {
  testutil::TempDir dir;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  Outcome o = RunCollector({"token", "create", "--db=" + dir / "c.db", "--role", "enroll", "--uses",
                            "3", "--expires", "7d"});
  const std::string token = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(o.code, cmdline::kExitOk) << err;
  EXPECT_EQ(token.rfind("dw_", 0), 0u) << token;
  EXPECT_NE(err.find("enroll token: 3 uses, expires "), std::string::npos) << err;
}

}  // namespace
}  // namespace driftwatch::collector::cli
