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
#include <random>

#include <gtest/gtest.h>

#include "agent/check.h"
#include "agent/scanner.h"
#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

namespace fs = std::filesystem;
using testutil::TempDir;
using testutil::WriteFile;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/**
    check: [type, perm, uid, gid, size, hash, link, xattrs]
    severity: high
  - path: /etc/skip/**
    ignore: true
  - path: /srv/app/**
    check: content
    severity: medium
)";

std::string EventText(const DriftEvent& e) {
  std::string s = std::string(DriftKindName(e.kind)) + " " + e.path + " " +
                  std::string(SeverityName(e.severity)) + " " + e.rule;
  for (std::string_view a : AttrNames(e.changed)) s += " " + std::string(a);
  return s;
}

DirtySet Dirty(std::vector<std::string> paths, std::vector<std::string> trees = {}) {
  DirtySet d;
  paths.insert(paths.end(), trees.begin(), trees.end());
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::sort(trees.begin(), trees.end());
  trees.erase(std::unique(trees.begin(), trees.end()), trees.end());
  d.paths = std::move(paths);
  d.trees = std::move(trees);
  return d;
}

// Two stores with the same baseline: one checked with the dirty sets, one
// in full. Each Step compares them.
class Journal {
 public:
  Journal() : root_(tmp_ / "root") {
    WriteFile(tmp_ / "rules.yaml", kRules);
    fs::create_directories(root_ + "/etc");
    fs::create_directories(root_ + "/srv/app");
    fs::create_directories(root_ + "/outside");
  }
  const std::string& root() const { return root_; }
  std::string Host(const std::string& logical) const { return root_ + logical; }

  CheckOptions Options(const std::string& db) const {
    CheckOptions o;
    o.host = &DefaultHost();
    o.db_path = tmp_ / db;
    o.rules_path = tmp_ / "rules.yaml";
    o.root = root_;
    o.jobs = 2;
    return o;
  }

  void Start() {
    for (const char* db : {"journal.db", "full.db"}) {
      auto b = CreateBaseline(Options(db), "test", "start");
      ASSERT_TRUE(b.ok()) << b.status().message();
      auto c = RunCheck(Options(db));
      ASSERT_TRUE(c.ok()) << c.status().message();
    }
  }

  int64_t LatestCheckSnapshot() const {
    auto store = Store::Open(DefaultHost(), tmp_ / "journal.db");
    EXPECT_TRUE(store.ok());
    auto row = (*store)->LatestCheck("default");
    EXPECT_TRUE(row.ok() && row->has_value());
    return row.ok() && row->has_value() ? (*row)->snapshot_id : 0;
  }

  // The journal-driven check with `dirty` (based on the latest check)
  // against a full check of the other store; the events found, in the
  // form of EventText.
  std::vector<std::string> Step(DirtySet dirty) {
    std::vector<std::string> events;
    StepInto(std::move(dirty), &events);
    return events;
  }
  void StepInto(DirtySet dirty, std::vector<std::string>* events) {
    dirty.base_snapshot_id = LatestCheckSnapshot();
    const size_t n = dirty.paths.size();
    CheckOptions jo = Options("journal.db");
    jo.dirty = std::move(dirty);
    auto j = RunCheck(jo);
    auto f = RunCheck(Options("full.db"));
    ASSERT_TRUE(j.ok()) << j.status().message();
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_TRUE(j->walk.journal) << j->walk.full_reason;
    EXPECT_EQ(j->walk.dirty_paths, static_cast<int64_t>(n));
    EXPECT_EQ(f->walk, WalkInfo());
    ExpectSame(*j, *f);
    for (const DriftEvent& e : f->events) events->push_back(EventText(e));
  }

  static void ExpectSame(const CheckResult& j, const CheckResult& f) {
    EXPECT_EQ(j.root, f.root);
    EXPECT_EQ(j.subtrees, f.subtrees);
    EXPECT_EQ(j.stats.files, f.stats.files);
    EXPECT_EQ(j.stats.dirs, f.stats.dirs);
    EXPECT_EQ(j.stats.others, f.stats.others);
    EXPECT_EQ(j.warnings, f.warnings);
    ASSERT_EQ(j.events.size(), f.events.size());
    for (size_t i = 0; i < j.events.size(); ++i) {
      EXPECT_EQ(EventText(j.events[i]), EventText(f.events[i]));
      EXPECT_EQ(j.events[i].old_entry, f.events[i].old_entry) << j.events[i].path;
      EXPECT_EQ(j.events[i].new_entry, f.events[i].new_entry) << j.events[i].path;
    }
  }

 private:
  TempDir tmp_;
  std::string root_;
};

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
  WriteFile(j_.Options("journal.db").rules_path, std::string(kRules) +
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

}  // namespace
}  // namespace driftwatch::agent
