#include "cli/cli_args.h"

#include <gtest/gtest.h>

#include <sstream>

#include "agent/store.h"
#include "cli/output.h"
#include "core/host.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::cli {
namespace {

struct Outcome {
  int code;
  std::string out;  // usage and help; the commands print to std::cout
  std::string err;
};

Outcome RunDriftwatch(const std::vector<std::string>& args) {
  auto program = MakeProgram();
  std::ostringstream out, err;
  int code = program->Run(args, out, err);
  return {code, out.str(), err.str()};
}

// Every mistake is exit 2 with one line naming the command and what was
// expected, then where the usage is.
TEST(DriftwatchArgsTest, MistakesSayWhatWasExpected) {
  struct Case {
    std::vector<std::string> args;
    std::string first_line;
  };
  const std::string kHuge(1 << 20, 'x');
  const Case cases[] = {
      {{"history", "--limit", "abc"},
       "driftwatch history: --limit: expected a positive integer, not 'abc'"},
      {{"history", "--limit", "0"},
       "driftwatch history: --limit: expected a positive integer, not '0'"},
      {{"history", "--limit=-3"},
       "driftwatch history: --limit: expected a positive integer, not '-3'"},
      {{"history", "--bogus"}, "driftwatch history: unknown flag --bogus"},
      {{"history", "--bogus=1"}, "driftwatch history: unknown flag --bogus"},
      {{"history", "--since", "yesterday"},
       "driftwatch history: --since: expected a duration like 24h or 7d or an RFC 3339 time, not "
       "'yesterday'"},
      {{"history", "stray"}, "driftwatch history: unexpected argument 'stray'"},
      {{"history", "--db"}, "driftwatch history: --db: expected a value (FILE)"},
      {{"history", "--db", "a", "--db", "b"}, "driftwatch history: --db: given more than once"},
      {{"check", "--format", "yaml"},
       "driftwatch check: --format: expected text or json, not 'yaml'"},
      {{"check", "--min-severity", "urgent"},
       "driftwatch check: --min-severity: expected info, low, medium, high or critical, not "
       "'urgent'"},
      {{"check", "--jobs", "999"},
       "driftwatch check: --jobs: expected an integer from 1 to 256, not '999'"},
      {{"check", "-x"}, "driftwatch check: unknown flag -x"},
      {{"scan", "extra"}, "driftwatch scan: unexpected argument 'extra'"},
      {{"bogus"},
       "driftwatch: unknown command 'bogus' (expected rules, baseline, check, scan, history, "
       "diff, packages, enroll, daemon, container, containers, status, db, watch, restore, store)"},
      {{"diff"}, "driftwatch diff: PATH is required"},
      {{"diff", "etc/hosts"},
       "driftwatch diff: PATH: expected an absolute path or container:NAME:/PATH, not "
       "'etc/hosts'"},
      {{"diff", "/etc/a", "/etc/b"}, "driftwatch diff: unexpected argument '/etc/b'"},
      {{"diff", "/etc/hosts", "--baseline"},
       "driftwatch diff: --baseline: expected a value (NAME)"},
      {{"diff", "/etc/hosts", "--root", ""},
       "driftwatch diff: --root: expected a value that is not empty"},
      {{"diff", "/etc/hosts", "--bogus"}, "driftwatch diff: unknown flag --bogus"},
      {{"status", "now"}, "driftwatch status: unexpected argument 'now'"},
      {{"db"}, "driftwatch db: expected a subcommand: check, recover"},
      {{"db", "check", "--format", "yaml"},
       "driftwatch db check: --format: expected text or json, not 'yaml'"},
      {{"--bogus"}, "driftwatch: unknown flag --bogus"},
      {{"baseline"},
       "driftwatch baseline: expected a subcommand: create, list, show, accept, statement, sign, "
       "attach, signatures"},
      {{"baseline", "drop"},
       "driftwatch baseline: unknown command 'drop' (expected create, list, show, accept, "
       "statement, sign, attach, signatures)"},
      {{"baseline", "create", "a", "b"}, "driftwatch baseline create: unexpected argument 'b'"},
      {{"baseline", "show"}, "driftwatch baseline show: NAME is required"},
      {{"baseline", "accept", "default"}, "driftwatch baseline accept: --reason is required"},
      {{"baseline", "accept", "default", "--reason", ""},
       "driftwatch baseline accept: --reason: expected a value that is not empty"},
      {{"rules", "check"}, "driftwatch rules check: FILE is required"},
      {{"enroll", "--token", "x"}, "driftwatch enroll: --collector is required"},
      {{"packages", "frobnicate"},
       "driftwatch packages: unknown command 'frobnicate' (expected verify)"},
      {{"packages", "--root", "/", "verify"},
       "driftwatch packages verify: --root: not a flag of 'driftwatch packages verify'; give "
       "the command's flags after it"},
      {{"container", "stop", "--timeout", "soon", "c1"},
       "driftwatch container stop: --timeout: expected an integer from 0 to 3600, not 'soon'"},
      {{"container", "run", "--net", "bridge", "img"},
       "driftwatch container run: --net: expected none or host, not 'bridge'"},
      {{"container", "exec", "c1", "ls", "-l"}, "driftwatch container exec: unknown flag -l"},
      {{"history", "--path", "/etc/**", "/usr/**"},
       "driftwatch history: unexpected argument '/usr/**'"},
      {{"restore", "/etc/hosts"}, "driftwatch restore: --reason is required"},
      {{"restore", "--all", "--reason", ""},
       "driftwatch restore: --reason: expected a value that is not empty"},
      {{"restore", "--all", "--reason", "x", "--format", "yaml"},
       "driftwatch restore: --format: expected text or json, not 'yaml'"},
      {{"container", "restore", "c1"}, "driftwatch container restore: --reason is required"},
      {{"daemon", "--print-config=maybe"},
       "driftwatch daemon: --print-config: not a valid value: 'maybe'"},
      {{"--generate-completion", "zsh"}, "driftwatch: --generate-completion: expected bash"},
      // A value of any size is refused with a short message.
      {{"check", "--format", kHuge},
       "driftwatch check: --format: expected text or json, not '" + kHuge.substr(0, 64) +
           "...' (1048576 characters)"},
      {{"daemon", "--print-config=" + kHuge},
       "driftwatch daemon: --print-config: not a valid value: '" + kHuge.substr(0, 64) +
           "...' (1048576 characters)"},
      {{"history", kHuge},
       "driftwatch history: unexpected argument '" + kHuge.substr(0, 64) +
           "...' (1048576 characters)"},
  };
  for (const Case& c : cases) {
    Outcome o = RunDriftwatch(c.args);
    std::string joined;
    for (const std::string& a : c.args) joined += a.substr(0, 80) + " ";
    EXPECT_EQ(o.code, kExitError) << joined;
    EXPECT_EQ(o.err.substr(0, o.err.find('\n')), c.first_line) << joined;
    EXPECT_EQ(o.out, "") << joined;
  }
  Outcome o = RunDriftwatch({"history", "--limit", "abc"});
  EXPECT_EQ(o.err,
            "driftwatch history: --limit: expected a positive integer, not 'abc'\n"
            "run 'driftwatch history --help' for usage\n");
}

void HelpOfEvery(const CLI::App* app, std::vector<std::string> path) {
  Outcome o = RunDriftwatch([&] {
    auto args = path;
    args.push_back("--help");
    return args;
  }());
  std::string name = "driftwatch";
  for (const std::string& p : path) name += " " + p;
  EXPECT_EQ(o.code, kExitOk) << name;
  EXPECT_EQ(o.err, "") << name;
  EXPECT_NE(o.out.find("Usage: " + name + " "), std::string::npos) << name << ":\n" << o.out;
  for (const CLI::App* sub : app->get_subcommands({})) {
    auto next = path;
    next.push_back(sub->get_name());
    HelpOfEvery(sub, next);
  }
}

TEST(DriftwatchArgsTest, EveryCommandAnswersHelp) {
  auto program = MakeProgram();
  HelpOfEvery(program.get(), {});
  EXPECT_GE(program->get_subcommands({}).size(), 10u);
  Outcome o = RunDriftwatch({"baseline", "create", "-h"});
  EXPECT_EQ(o.code, kExitOk);
  EXPECT_NE(o.out.find("[NAME]"), std::string::npos) << o.out;
  // --help wins over what else is wrong on the line.
  o = RunDriftwatch({"history", "--limit", "5", "--help"});
  EXPECT_EQ(o.code, kExitOk);
}

TEST(DriftwatchArgsTest, VersionAndNoArguments) {
  Outcome o = RunDriftwatch({"--version"});
  EXPECT_EQ(o.code, kExitOk);
  EXPECT_EQ(o.out, std::string("driftwatch ") + DRIFTWATCH_VERSION + "\n");
  o = RunDriftwatch({});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_NE(o.err.find("Usage: driftwatch"), std::string::npos) << o.err;
}

// Good command lines reach their command with the values given.
TEST(DriftwatchArgsTest, GoodLinesRunTheirCommand) {
  testutil::TempDir dir;
  testutil::WriteFile(dir / "rules.yaml", "version: 1\nrules:\n  - path: /etc/**\n");
  testing::internal::CaptureStdout();
  Outcome o = RunDriftwatch({"rules", "check", dir / "rules.yaml"});
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(out, dir / "rules.yaml" + ": ok, 1 rules over 1 roots\n");

  testing::internal::CaptureStdout();
  o = RunDriftwatch({"history", "--db=" + dir / "agent.db", "--limit", "3", "--format", "json",
                     "--path", "/etc/**", "--path", "/usr/**", "--since", "7d"});
  out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(out, "[]\n");

  testing::internal::CaptureStdout();
  o = RunDriftwatch({"baseline", "list", "--db", dir / "agent.db"});
  out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(out, "");
}

// `baseline create NAME` names the baseline (it used to write `default`).
TEST(DriftwatchArgsTest, BaselineCreateTakesTheNamePositionally) {
  testutil::TempDir dir;
  testutil::WriteFile(dir / "root/etc/hosts", "127.0.0.1 localhost\n");
  testutil::WriteFile(dir / "rules.yaml", "version: 1\nrules:\n  - path: /etc/**\n");
  const std::vector<std::string> common = {
      "--db", dir / "agent.db", "--rules", dir / "rules.yaml", "--root", dir / "root", "--quiet"};
  auto line = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    testing::internal::CaptureStdout();
    Outcome o = RunDriftwatch(args);
    testing::internal::GetCapturedStdout();
    return o;
  };
  EXPECT_EQ(line({"baseline", "create", "mybase"}).code, kExitOk);
  EXPECT_EQ(line({"baseline", "create", "--name", "other"}).code, kExitOk);
  EXPECT_EQ(line({"baseline", "create", "same", "--name", "same"}).code, kExitOk);
  Outcome twice = line({"baseline", "create", "one", "--name", "two"});
  EXPECT_EQ(twice.code, kExitError);
  auto store = agent::Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto rows = (*store)->Baselines(std::nullopt);
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> names;
  for (const agent::BaselineRow& r : *rows) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"mybase", "other", "same"}));
}

// history --path G --limit N: N events at paths matching G, even when
// events of other paths come first.
TEST(DriftwatchArgsTest, HistoryLimitAppliesAfterThePathFilter) {
  testutil::TempDir dir;
  {
    auto store = agent::Store::Open(DefaultHost(), dir / "agent.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    agent::SnapshotRow snap;
    snap.kind = "check";
    snap.root_path = "/";
    snap.created_ns = 1;
    auto sid = (*store)->AddSnapshot(snap);
    ASSERT_TRUE(sid.ok()) << sid.status().message();
    std::vector<DriftEvent> events;
    for (const char* path : {"/etc/a", "/etc/b", "/etc/c", "/var/g1", "/var/g2", "/var/g3"}) {
      DriftEvent ev;
      ev.path = path;
      ev.kind = DriftKind::kRemoved;
      ev.severity = Severity::kLow;
      events.push_back(ev);
    }
    ASSERT_TRUE((*store)->RecordCheck(agent::CheckRow{0, *sid, "default", 1, 10, 20}, events).ok());
  }
  testing::internal::CaptureStdout();
  Outcome o = RunDriftwatch({"history", "--db", dir / "agent.db", "--path", "/var/**", "--limit",
                             "2", "--format", "json"});
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_NE(out.find("\"/var/g1\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"/var/g2\""), std::string::npos) << out;
  EXPECT_EQ(out.find("\"/var/g3\""), std::string::npos) << out;
  EXPECT_EQ(out.find("/etc/"), std::string::npos) << out;
}

TEST(OutputTest, ParsesSinceForms) {
  const int64_t now = 1'000'000 * 1'000'000'000LL;
  EXPECT_EQ(ParseSince("24h", now).value(), now - 86400 * 1'000'000'000LL);
  EXPECT_EQ(ParseSince("7d", now).value(), now - 7 * 86400 * 1'000'000'000LL);
  EXPECT_EQ(ParseSince("2026-11-01T00:00:00Z", now).value(), 1793491200LL * 1'000'000'000LL);
  EXPECT_FALSE(ParseSince("yesterday", now).ok());
}

TEST(OutputTest, FormatsEventsCompactly) {
  DriftEvent e;
  e.path = "/etc/pass\nwd";
  e.kind = DriftKind::kModified;
  e.changed = kAttrPerm;
  Entry o, n;
  o.mask = n.mask = kAttrType | kAttrPerm;
  o.mode = 0644;
  n.mode = 0600;
  e.old_entry = o;
  e.new_entry = n;
  e.severity = Severity::kHigh;
  EXPECT_EQ(FormatEvent(e), "M /etc/pass\\nwd  perm 0644 -> 0600  [high]");
}

}  // namespace
}  // namespace driftwatch::cli
