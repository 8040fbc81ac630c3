// RunCheck on an in-memory host: the scanned tree, the rule file, the
// clock and the hostname are a MemHost; only the agent store is a file
// (SQLite's), in a directory made through the host.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/store.h"
#include "core/entry.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::agent {
namespace {

using testutil::MemHost;

constexpr int64_t kSec = 1000000000;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/app/**
    check: content
    severity: high
  - path: /etc/app/cache/**
    ignore: true
)";

// One event as a line: kind, path, severity, changed attributes, rule.
std::string Line(const DriftEvent& e) {
  std::string line = std::string(DriftKindName(e.kind)) + " " + e.path + " " +
                     std::string(SeverityName(e.severity));
  for (std::string_view a : AttrNames(e.changed)) line += " " + std::string(a);
  return line + " (" + e.rule + ")";
}

class RunCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_run_check_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    host_.SetHostname("web-1");
    host_.PutFile("/config/rules.yaml", kRules);
    host_.PutFile("/etc/app/app.conf", "port = 80\n");
    host_.PutFile("/etc/app/keep.conf", "unchanged\n");
    host_.PutFile("/etc/app/gone.conf", "old\n", 0600);
    host_.PutFile("/etc/app/cache/state", "1");
    host_.PutSymlink("/etc/app/current", "app.conf");
    options_.host = &host_;
    options_.db_path = dir_ + "/agent.db";
    options_.rules_path = "/config/rules.yaml";
    options_.root = "/";
    options_.jobs = 1;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string dir_;
  MemHost host_;
  CheckOptions options_;
};

TEST_F(RunCheckTest, ReportsExactlyTheChangedAddedAndRemovedFiles) {
  auto base = CreateBaseline(options_, "test", "first");
  ASSERT_TRUE(base.ok()) << base.status().message();
  EXPECT_EQ(base->revision, 1);
  EXPECT_EQ(base->stats.files, 3u);  // the cache is ignored
  // The store's directory and empty file are made through the host (SQLite
  // opens the file itself); nothing else is written through it.
  EXPECT_EQ(host_.log(), (std::vector<std::string>{"mkdir /tmp 0700", "mkdir " + dir_ + " 0700",
                                                   "create " + dir_ + "/agent.db 0600"}));
  host_.ClearLog();

  // A minute later: one file edited, one added, one removed, the ignored
  // cache rewritten.
  host_.AdvanceNs(60 * kSec);
  host_.PutFile("/etc/app/app.conf", "port = 8080\n");
  host_.PutFile("/etc/app/new.conf", "added\n");
  host_.Erase("/etc/app/gone.conf");
  host_.PutFile("/etc/app/cache/state", "2");
  host_.AdvanceNs(5 * kSec);

  auto result = RunCheck(options_);
  ASSERT_TRUE(result.ok()) << result.status().message();
  std::vector<std::string> lines;
  for (const DriftEvent& e : result->events) lines.push_back(Line(e));
  // `check: content`: the times of the file and of /etc/app are not drift.
  const std::string rule = "/etc/app/** (rules.yaml:3)";
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "modified /etc/app/app.conf high size hash (" + rule + ")",
                       "removed /etc/app/gone.conf high (" + rule + ")",
                       "added /etc/app/new.conf high (" + rule + ")",
                   }));
  EXPECT_EQ(result->target, "web-1");
  EXPECT_EQ(result->finished_ns, host_.NowNs());
  EXPECT_EQ(result->baseline, "default");
  EXPECT_EQ(result->baseline_revision, 1);
  // A check reads the tree; it writes nothing through the host.
  EXPECT_EQ(host_.log(), std::vector<std::string>{});

  // Nothing changed since: the same drift against the same baseline.
  host_.AdvanceNs(60 * kSec);
  auto again = RunCheck(options_);
  ASSERT_TRUE(again.ok()) << again.status().message();
  std::vector<std::string> again_lines;
  for (const DriftEvent& e : again->events) again_lines.push_back(Line(e));
  EXPECT_EQ(again_lines, lines);
}

// --min-severity: events below it are returned and kept in the history
// all the same; only those at or above it count.
TEST_F(RunCheckTest, EventsBelowMinSeverityAreKeptAndDoNotCount) {
  host_.PutFile("/config/rules.yaml", R"(version: 1
rules:
  - path: /etc/app/*.conf
    check: content
    severity: high
  - path: /etc/app/notes/**
    check: content
    severity: low
)");
  host_.PutFile("/etc/app/notes/todo", "one\n");
  ASSERT_TRUE(CreateBaseline(options_, "test", "first").ok());
  host_.AdvanceNs(60 * kSec);
  host_.PutFile("/etc/app/notes/todo", "two\n");
  auto low_only = RunCheck(options_);
  ASSERT_TRUE(low_only.ok()) << low_only.status().message();
  std::vector<std::string> lines;
  for (const DriftEvent& e : low_only->events) lines.push_back(Line(e));
  EXPECT_EQ(lines, std::vector<std::string>{
                       "modified /etc/app/notes/todo low hash (/etc/app/notes/** (rules.yaml:6))"});
  auto medium = ParseMinSeverity("medium");
  ASSERT_TRUE(medium.ok());
  auto info = ParseMinSeverity("info");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(CountAtOrAbove(*medium, low_only->events), 0u);  // check exits 0
  EXPECT_EQ(CountAtOrAbove(*info, low_only->events), 1u);    // the default: exits 1
  EXPECT_EQ(CountAtOrAbove(Severity::kLow, low_only->events), 1u);

  host_.AdvanceNs(60 * kSec);
  host_.PutFile("/etc/app/app.conf", "port = 8080\n");
  auto both = RunCheck(options_);
  ASSERT_TRUE(both.ok()) << both.status().message();
  ASSERT_EQ(both->events.size(), 2u);
  EXPECT_EQ(CountAtOrAbove(*medium, both->events), 1u);
  EXPECT_EQ(CountAtOrAbove(Severity::kCritical, both->events), 0u);

  // Both checks' events are in the history, the low one included.
  auto store = Store::Open(host_, options_.db_path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto history = (*store)->History(0, 100);
  ASSERT_TRUE(history.ok());
  std::vector<std::string> kept;
  for (const HistoryRow& h : *history)
    kept.push_back(h.event.path + " " + std::string(SeverityName(h.event.severity)));
  EXPECT_EQ(kept, (std::vector<std::string>{"/etc/app/notes/todo low", "/etc/app/app.conf high",
                                            "/etc/app/notes/todo low"}));
}

// check and accept default to the root and rule file of the baseline;
// what the caller gives wins; a recorded rule file that is gone is said.
TEST_F(RunCheckTest, DefaultsComeFromTheBaseline) {
  host_.PutFile("/srv/etc/app/app.conf", "port = 80\n");
  options_.root = "/srv";
  ASSERT_TRUE(CreateBaseline(options_, "test", "first").ok());

  CheckOptions o;  // what `driftwatch check --db FILE` starts from
  o.host = &host_;
  o.db_path = options_.db_path;
  o.rules_path = "/etc/driftwatch/rules.yaml";
  o.jobs = 1;
  ASSERT_TRUE(ApplyBaselineDefaults(&o, false, false).ok());
  EXPECT_EQ(o.root, "/srv");
  EXPECT_EQ(o.rules_path, "/config/rules.yaml");
  host_.PutFile("/srv/etc/app/app.conf", "port = 8080\n");
  auto r = RunCheck(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].path, "/etc/app/app.conf");

  CheckOptions given = o;
  given.root = "/other";
  given.rules_path = "/other.yaml";
  ASSERT_TRUE(ApplyBaselineDefaults(&given, true, true).ok());
  EXPECT_EQ(given.root, "/other");
  EXPECT_EQ(given.rules_path, "/other.yaml");
  given.rules_path = "/other.yaml";
  ASSERT_TRUE(ApplyBaselineDefaults(&given, false, true).ok());
  EXPECT_EQ(given.root, "/srv");
  EXPECT_EQ(given.rules_path, "/other.yaml");

  host_.Erase("/config/rules.yaml");
  CheckOptions gone = o;
  Status s = ApplyBaselineDefaults(&gone, false, false);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "the rule file /config/rules.yaml recorded with baseline 'default' rev 1 is gone; "
            "pass --rules FILE to check with another");

  CheckOptions fresh = o;  // no store yet: nothing recorded, nothing changed
  fresh.db_path = dir_ + "/none/agent.db";
  fresh.root = "/";
  ASSERT_TRUE(ApplyBaselineDefaults(&fresh, false, false).ok());
  EXPECT_EQ(fresh.root, "/");
}

TEST_F(RunCheckTest, NoHostIsAnError) {
  options_.host = nullptr;
  auto r = RunCheck(options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace driftwatch::agent
