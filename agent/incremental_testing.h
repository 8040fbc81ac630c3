// Test support for journal-driven checks: a tree checked into two real
// stores, one with dirty sets and one in full, compared on every step.
#ifndef DRIFTWATCH_AGENT_INCREMENTAL_TESTING_H_
#define DRIFTWATCH_AGENT_INCREMENTAL_TESTING_H_

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/check.h"
#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent::journaltest {

namespace fs = std::filesystem;
using testutil::TempDir;
using testutil::WriteFile;

inline constexpr const char* kRules = R"(version: 1
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

inline std::string EventText(const DriftEvent& e) {
  std::string s = std::string(DriftKindName(e.kind)) + " " + e.path + " " +
                  std::string(SeverityName(e.severity)) + " " + e.rule;
  for (std::string_view a : AttrNames(e.changed)) s += " " + std::string(a);
  return s;
}

inline DirtySet Dirty(std::vector<std::string> paths, std::vector<std::string> trees = {}) {
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
    // The stores go to memory when it can: a check commits several times,
    // and 400 checks of fsyncs on a disk would take long.
    std::string tmpl = "/dev/shm/driftwatch-test-XXXXXX";
    db_dir_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : tmp_.path();
  }
  ~Journal() {
    std::error_code ec;
    if (db_dir_ != tmp_.path()) fs::remove_all(db_dir_, ec);
  }
  const std::string& root() const { return root_; }
  // The host both checks go through (default: the real one).
  void SetHost(driftwatch::Host* host) { host_ = host; }
  std::string Host(const std::string& logical) const { return root_ + logical; }

  CheckOptions Options(const std::string& db) const {
    CheckOptions o;
    o.host = host_;
    o.db_path = db_dir_ + "/" + db;
    o.rules_path = tmp_ / "rules.yaml";
    o.root = root_;
    o.jobs = 1;
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
    auto store = Store::Open(DefaultHost(), db_dir_ + "/journal.db");
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
  std::string db_dir_;
  driftwatch::Host* host_ = &DefaultHost();
};

}  // namespace driftwatch::agent::journaltest

#endif  // DRIFTWATCH_AGENT_INCREMENTAL_TESTING_H_
