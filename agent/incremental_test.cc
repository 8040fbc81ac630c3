// Journal-driven checks against full checks, on real trees and real
// stores: every kind of change, with the dirty set a watcher would give,
// must produce the events, root, subtrees and counts of a full check.
#include "agent/incremental.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "agent/check.h"
#include "agent/incremental_test_journal.h"
#include "agent/scanner.h"
#include "agent/store.h"
#include "tests/testing/fault_host.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

namespace fs = std::filesystem;
using journaltest::Dirty;
using journaltest::Journal;
using testutil::TempDir;
using testutil::WriteFile;

class IncrementalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(j_.Host("/etc/app/app.conf"), "port = 80\n");
    WriteFile(j_.Host("/etc/app/conf.d/a.conf"), "a\n");
    WriteFile(j_.Host("/etc/app/conf.d/b.conf"), "b\n");
    WriteFile(j_.Host("/etc/hosts"), "127.0.0.1 localhost\n");
    WriteFile(j_.Host("/etc/skip/state"), "1\n");
    WriteFile(j_.Host("/srv/app/index.html"), "<p>hi</p>\n");
    WriteFile(j_.Host("/outside/moved/inner.conf"), "from outside\n");
    WriteFile(j_.Host("/outside/single.conf"), "single\n");
    fs::create_symlink("app.conf", j_.Host("/etc/app/current"));
    j_.Start();
  }
  Journal j_;
};

TEST_F(IncrementalTest, ContentChange) {
  WriteFile(j_.Host("/etc/app/conf.d/a.conf"), "changed\n");
  EXPECT_EQ(j_.Step(Dirty({"/etc/app/conf.d/a.conf"})),
            (std::vector<std::string>{
                "modified /etc/app/conf.d/a.conf high /etc/** (rules.yaml:3) size hash"}));
}

TEST_F(IncrementalTest, Chmod) {
  ASSERT_EQ(::chmod(j_.Host("/etc/hosts").c_str(), 0600), 0);
  EXPECT_EQ(j_.Step(Dirty({"/etc/hosts"})),
            (std::vector<std::string>{"modified /etc/hosts high /etc/** (rules.yaml:3) perm"}));
}

TEST_F(IncrementalTest, ChmodOfADirectory) {
  ASSERT_EQ(::chmod(j_.Host("/etc/app/conf.d").c_str(), 0700), 0);
  EXPECT_EQ(
      j_.Step(Dirty({"/etc/app/conf.d"})),
      (std::vector<std::string>{"modified /etc/app/conf.d high /etc/** (rules.yaml:3) perm"}));
}

TEST_F(IncrementalTest, Chown) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another uid needs root";
  ASSERT_EQ(::lchown(j_.Host("/etc/app/app.conf").c_str(), 1234, 1234), 0);
  EXPECT_EQ(
      j_.Step(Dirty({"/etc/app/app.conf"})),
      (std::vector<std::string>{"modified /etc/app/app.conf high /etc/** (rules.yaml:3) uid gid"}));
}

TEST_F(IncrementalTest, Xattr) {
  ASSERT_EQ(::setxattr(j_.Host("/etc/hosts").c_str(), "user.driftwatch", "1", 1, 0), 0)
      << "user xattrs unsupported on the temp filesystem";
  EXPECT_EQ(j_.Step(Dirty({"/etc/hosts"})),
            (std::vector<std::string>{"modified /etc/hosts high /etc/** (rules.yaml:3) xattrs"}));
}

TEST_F(IncrementalTest, SymlinkRetarget) {
  fs::remove(j_.Host("/etc/app/current"));
  fs::create_symlink("conf.d/a.conf", j_.Host("/etc/app/current"));
  EXPECT_EQ(
      j_.Step(Dirty({"/etc/app/current"})),
      (std::vector<std::string>{"modified /etc/app/current high /etc/** (rules.yaml:3) link"}));
}

TEST_F(IncrementalTest, CreateFile) {
  WriteFile(j_.Host("/etc/app/conf.d/c.conf"), "c\n");
  EXPECT_EQ(j_.Step(Dirty({"/etc/app/conf.d/c.conf"})),
            (std::vector<std::string>{"added /etc/app/conf.d/c.conf high /etc/** (rules.yaml:3)"}));
}

TEST_F(IncrementalTest, CreateDirectoryWithContents) {
  WriteFile(j_.Host("/etc/new/sub/x.conf"), "x\n");
  WriteFile(j_.Host("/etc/new/y.conf"), "y\n");
  EXPECT_EQ(j_.Step(Dirty({"/etc/new", "/etc/new/sub", "/etc/new/sub/x.conf", "/etc/new/y.conf"},
                          {"/etc/new"})),
            (std::vector<std::string>{"added /etc/new high /etc/** (rules.yaml:3)",
                                      "added /etc/new/sub high /etc/** (rules.yaml:3)",
                                      "added /etc/new/sub/x.conf high /etc/** (rules.yaml:3)",
                                      "added /etc/new/y.conf high /etc/** (rules.yaml:3)"}));
}

TEST_F(IncrementalTest, RemoveFile) {
  fs::remove(j_.Host("/etc/app/conf.d/b.conf"));
  EXPECT_EQ(
      j_.Step(Dirty({"/etc/app/conf.d/b.conf"})),
      (std::vector<std::string>{"removed /etc/app/conf.d/b.conf high /etc/** (rules.yaml:3)"}));
}

TEST_F(IncrementalTest, RemoveDirectoryWithContents) {
  fs::remove_all(j_.Host("/etc/app/conf.d"));
  // The watcher saw the files go, then the directory: dirty paths whose
  // parent is gone.
  EXPECT_EQ(
      j_.Step(Dirty({"/etc/app/conf.d", "/etc/app/conf.d/a.conf", "/etc/app/conf.d/b.conf"})),
      (std::vector<std::string>{"removed /etc/app/conf.d high /etc/** (rules.yaml:3)",
                                "removed /etc/app/conf.d/a.conf high /etc/** (rules.yaml:3)",
                                "removed /etc/app/conf.d/b.conf high /etc/** (rules.yaml:3)"}));
}

TEST_F(IncrementalTest, RenameWithin) {
  fs::rename(j_.Host("/etc/app/conf.d"), j_.Host("/etc/conf.d"));
  fs::rename(j_.Host("/etc/hosts"), j_.Host("/etc/app/hosts"));
  j_.Step(
      Dirty({"/etc/app/conf.d", "/etc/conf.d", "/etc/hosts", "/etc/app/hosts"}, {"/etc/conf.d"}));
}

TEST_F(IncrementalTest, RenameInFromOutsideTheWatchedPaths) {
  fs::rename(j_.Host("/outside/moved"), j_.Host("/etc/app/moved"));
  fs::rename(j_.Host("/outside/single.conf"), j_.Host("/srv/app/single.conf"));
  j_.Step(Dirty({"/etc/app/moved", "/srv/app/single.conf"}, {"/etc/app/moved"}));
}

TEST_F(IncrementalTest, RenameOut) {
  fs::rename(j_.Host("/etc/app/conf.d"), j_.Host("/outside/conf.d"));
  fs::rename(j_.Host("/srv/app/index.html"), j_.Host("/outside/index.html"));
  j_.Step(Dirty({"/etc/app/conf.d", "/srv/app/index.html"}));
}

TEST_F(IncrementalTest, NothingDirtyIsTheLatestCheck) { j_.Step(Dirty({})); }

TEST_F(IncrementalTest, IgnoredAndUnwatchedPathsChangeNothing) {
  WriteFile(j_.Host("/etc/skip/state"), "2\n");
  WriteFile(j_.Host("/outside/other"), "x\n");
  j_.Step(Dirty({"/etc/skip/state", "/outside/other"}));
}

// A directory that cannot be opened is a warning in every full check; a
// journal-driven check says the same, whether it lists the directory's
// parent again or not.
TEST(IncrementalWarningsTest, AreThoseOfAFullCheck) {
  Journal j;
  WriteFile(j.Host("/etc/app/app.conf"), "a\n");
  WriteFile(j.Host("/etc/app/locked/secret"), "s\n");
  WriteFile(j.Host("/etc/hosts"), "h\n");
  testutil::FaultHost host(DefaultHost());
  host.FailOn(testutil::FaultHost::Op::kOpen, "locked", EACCES);
  j.SetHost(&host);
  j.Start();
  WriteFile(j.Host("/etc/hosts"), "changed\n");
  j.Step(Dirty({"/etc/hosts"}));  // /etc/app is reused: the warning is carried
  WriteFile(j.Host("/etc/app/app.conf"), "changed\n");
  j.Step(Dirty({"/etc/app/app.conf"}));  // /etc/app is listed: locked is opened again
  CheckOptions o = j.Options("journal.db");
  o.dirty = Dirty({});
  o.dirty->base_snapshot_id = j.LatestCheckSnapshot();
  auto r = RunCheck(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0].rfind("/etc/app/locked: ", 0), 0u) << r->warnings[0];
}

TEST(IncrementalWarningsTest, ADirtyDirectoryThatCannotBeOpenedCountsAsEmpty) {
  Journal j;
  WriteFile(j.Host("/etc/app/conf.d/a.conf"), "a\n");
  WriteFile(j.Host("/etc/app/conf.d/sub/b.conf"), "b\n");
  testutil::FaultHost host(DefaultHost());
  j.SetHost(&host);
  j.Start();
  ASSERT_EQ(::chmod(j.Host("/etc/app/conf.d").c_str(), 0700), 0);
  host.FailOn(testutil::FaultHost::Op::kOpen, "conf.d", EACCES);
  j.Step(Dirty({"/etc/app/conf.d"}));
}

TEST_F(IncrementalTest, AStaleBaseSnapshotWalksEverything) {
  const int64_t stale = j_.LatestCheckSnapshot();
  j_.Step(Dirty({}));  // a newer check
  WriteFile(j_.Host("/etc/hosts"), "changed\n");
  CheckOptions o = j_.Options("journal.db");
  o.dirty = Dirty({});
  o.dirty->base_snapshot_id = stale;
  auto r = RunCheck(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->walk.journal);
  EXPECT_EQ(r->walk.full_reason, "the journal starts at snapshot " + std::to_string(stale) +
                                     " but the latest check is snapshot " +
                                     std::to_string(stale + 1));
  // The full walk found what the journal missed.
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].path, "/etc/hosts");
}

TEST_F(IncrementalTest, OtherRulesWalkEverything) {
  WriteFile(j_.Options("journal.db").rules_path, std::string(journaltest::kRules) +
                                                     "  - path: /srv/other/**\n"
                                                     "    check: content\n");
  const int64_t base = j_.LatestCheckSnapshot();
  CheckOptions o = j_.Options("journal.db");
  o.dirty = Dirty({});
  o.dirty->base_snapshot_id = base;
  auto r = RunCheck(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->walk.journal);
  EXPECT_EQ(r->walk.full_reason,
            "the rules changed since the journal's snapshot " + std::to_string(base));
}

// Content rules leave the fingerprint alone, but a journal-driven scan would
// take clean directories over without the content now kept: walk all.
TEST_F(IncrementalTest, OtherContentRulesWalkEverythingAndKeep) {
  WriteFile(j_.Host("/etc/app/kept.conf"), "kept in a clean directory\n");
  j_.Step(Dirty({"/etc/app/kept.conf"}));
  WriteFile(j_.Options("journal.db").rules_path, std::string(journaltest::kRules) +
                                                     "  - path: /etc/**\n"
                                                     "    content: keep\n");
  const int64_t base = j_.LatestCheckSnapshot();
  CheckOptions o = j_.Options("journal.db");
  o.dirty = Dirty({});
  o.dirty->base_snapshot_id = base;
  auto r = RunCheck(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->walk.journal);
  EXPECT_EQ(r->walk.full_reason,
            "the content rules changed since the journal's snapshot " + std::to_string(base));
  auto store = Store::Open(DefaultHost(), o.db_path);
  ASSERT_TRUE(store.ok());
  auto kept = (*store)->GetContent(Hasher::Of(HashAlgo::kXxh128, "kept in a clean directory\n"));
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ(**kept, "kept in a clean directory\n");
  // The next journal-driven check is taken with the same content rules.
  CheckOptions next = j_.Options("journal.db");
  next.dirty = Dirty({});
  next.dirty->base_snapshot_id = j_.LatestCheckSnapshot();
  auto again = RunCheck(next);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->walk.journal) << again->walk.full_reason;
}

TEST_F(IncrementalTest, ABadPathWalksEverything) {
  CheckOptions o = j_.Options("journal.db");
  o.dirty = Dirty({"/etc/../etc/hosts"});
  o.dirty->base_snapshot_id = j_.LatestCheckSnapshot();
  auto r = RunCheck(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->walk.journal);
  EXPECT_EQ(r->walk.full_reason, "the journal holds '/etc/../etc/hosts', not a clean logical path");
}

TEST_F(IncrementalTest, NoDirtySetLeavesWalkAlone) {
  auto r = RunCheck(j_.Options("journal.db"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->walk, WalkInfo());
}

rules::Policy EtcPolicy() {
  auto p = rules::ParsePolicy(
      journaltest::kRules, "rules.yaml",
      [](const std::string&) -> Result<std::string> { return Status::NotFound("no includes"); });
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(p).value();
}

// The scanner itself: what a journal-driven scan opens.
class ReuseScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(tmp_ / "etc/a/x", "x\n");
    WriteFile(tmp_ / "etc/b/y", "y\n");
    WriteFile(tmp_ / "etc/c/d/z", "z\n");
    auto base = Scan(nullptr);
    ASSERT_TRUE(base.ok()) << base.status().message();
    base_ = std::move(*base);
    EXPECT_EQ(base_.dirs_listed, 6u);  // /, /etc, a, b, c, c/d
  }
  Result<ScanResult> Scan(const ScanReuse* reuse) {
    ScanOptions o;
    o.root = tmp_.path();
    o.jobs = 2;
    o.reuse = reuse;
    return ScanTree(DefaultHost(), policy_, o, store_);
  }
  ScanReuse Reuse(std::vector<std::string> dirty, TreeSource* source = nullptr) {
    ScanReuse r;
    r.source = source != nullptr ? source : &store_;
    r.root = base_.root;
    r.stats = base_.stats;
    r.subtrees = base_.subtrees;
    r.dirty = std::move(dirty);
    return r;
  }

  TempDir tmp_;
  rules::Policy policy_ = EtcPolicy();
  MemoryTreeStore store_;
  ScanResult base_;
};

TEST_F(ReuseScanTest, OpensOnlyTheDirectoriesLeadingToDirtyPaths) {
  WriteFile(tmp_ / "etc/a/x", "changed\n");
  WriteFile(tmp_ / "etc/c/d/z", "changed too\n");
  // The journal names only x: c/d is not opened, so z's change is not seen.
  ScanReuse only_x = Reuse({"/etc/a/x"});
  auto partial = Scan(&only_x);
  ASSERT_TRUE(partial.ok()) << partial.status().message();
  EXPECT_EQ(partial->dirs_listed, 3u);  // /, /etc, /etc/a
  EXPECT_NE(partial->root, base_.root);
  EXPECT_EQ(partial->stats.files, 3u);
  EXPECT_EQ(partial->stats.dirs, 5u);

  ScanReuse both = Reuse({"/etc/a/x", "/etc/c/d/z"});
  auto journal = Scan(&both);
  auto full = Scan(nullptr);
  ASSERT_TRUE(journal.ok() && full.ok());
  EXPECT_EQ(journal->dirs_listed, 5u);  // b is not opened
  EXPECT_EQ(journal->root, full->root);
  EXPECT_EQ(journal->subtrees, full->subtrees);
  EXPECT_NE(journal->root, partial->root);
}

TEST_F(ReuseScanTest, NothingDirtyOpensNothing) {
  ScanReuse none = Reuse({});
  auto r = Scan(&none);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->dirs_listed, 0u);
  EXPECT_EQ(r->root, base_.root);
  EXPECT_EQ(r->subtrees, base_.subtrees);
  EXPECT_EQ(r->stats.files, 3u);
  EXPECT_EQ(r->stats.dirs, 5u);
  EXPECT_EQ(r->stats.files_hashed, 0u);
}

TEST_F(ReuseScanTest, AMissingBaseTreeIsAnError) {
  MemoryTreeStore empty;
  ScanReuse gone = Reuse({"/etc/a/x"}, &empty);
  auto r = Scan(&gone);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("journal base /"), std::string::npos) << r.status().message();
}

TEST(CleanLogicalPathTest, AcceptsOnlyAbsoluteNormalPaths) {
  for (const char* ok : {"/", "/etc", "/etc/a b", "/etc/.hidden"}) {
    EXPECT_TRUE(IsCleanLogicalPath(ok)) << ok;
  }
  for (const char* bad : {"", "etc", "/etc/", "//etc", "/etc/./a", "/etc/..", "/a//b"}) {
    EXPECT_FALSE(IsCleanLogicalPath(bad)) << bad;
  }
}

}  // namespace
}  // namespace driftwatch::agent
