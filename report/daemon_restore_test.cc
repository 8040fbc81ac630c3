#include "report/daemon_restore.h"

#include <gtest/gtest.h>

namespace driftwatch::report {
namespace {

TEST(DaemonRestoreTest, RefusedWhenNotAllowedAndNothingIsTouched) {
  AgentCommand c;
  c.id = 7;
  c.kind = "restore";
  c.paths = {"/etc/app.conf"};
  c.reason = "undo";
  agent::CheckOptions check;  // no host: Restore would fail if it ran
  RemoteRestoreOutcome out = RunRemoteRestore(c, check, false);
  EXPECT_FALSE(out.ok);
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(out.detail, "allow_remote_restore is off in agent.yaml");
}

TEST(DaemonRestoreTest, ACommandWithoutPathsIsRefused) {
  AgentCommand c;
  c.id = 8;
  c.kind = "restore";
  c.reason = "undo";
  RemoteRestoreOutcome out = RunRemoteRestore(c, agent::CheckOptions{}, true);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.detail, "restore: the command names no paths and not all");
}

TEST(DaemonRestoreTest, OptionsCarryTheCommandAndAuthor) {
  AgentCommand c;
  c.id = 9;
  c.paths = {"/etc/a", "/etc/b/**"};
  c.all = false;
  c.remove_added = true;
  c.dry_run = true;
  c.reason = "drill";
  agent::CheckOptions check;
  check.root = "/srv/root";
  agent::RestoreOptions o = RemoteRestoreOptions(c, check);
  EXPECT_EQ(o.paths, c.paths);
  EXPECT_FALSE(o.all);
  EXPECT_TRUE(o.remove_added);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.author, "collector");
  EXPECT_EQ(o.reason, "drill (command 9)");
  EXPECT_EQ(o.check.root, "/srv/root");
}

TEST(DaemonRestoreTest, TheSummaryCountsActionsAndNamesRefusals) {
  agent::RestoreResult r;
  r.baseline = "default";
  r.revision = 3;
  r.actions = {{"/etc/a", "write", "content", true},
               {"/etc/b", "write", "content", true},
               {"/etc/b", "chmod", "0644", true},
               {"/etc/shadow", "refused", "content not kept (redact)", false}};
  r.refused = 1;
  EXPECT_EQ(SummarizeRestore(r, false),
            "restored from baseline default revision 3: 1 chmod, 2 write; 1 refused or failed: "
            "/etc/shadow: content not kept (redact)");
  agent::RestoreResult none;
  none.baseline = "default";
  none.revision = 1;
  EXPECT_EQ(SummarizeRestore(none, true),
            "would restore from baseline default revision 1: "
            "nothing to do");
  // Long lists are cut.
  for (int i = 0; i < 200; ++i) {
    r.actions.push_back({"/etc/refused-" + std::to_string(i), "refused", "outside", false});
  }
  r.refused = 201;
  EXPECT_LE(SummarizeRestore(r, false).size(), 1000u);
}

}  // namespace
}  // namespace driftwatch::report
