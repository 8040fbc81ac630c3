#include "agent/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using ::testing::HasSubstr;

Entry FileEntry(const std::string& name, const std::string& content) {
  Entry e;
  e.name = name;
  e.type = EntryType::kFile;
  e.mask = kAttrType | kAttrPerm | kAttrHash;
  e.mode = 0644;
  e.content = Hasher::Of(HashAlgo::kXxh128, content);
  return e;
}

TEST(StoreTest, CreatesParentsAndRoundTripsEverything) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "a/b/agent.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  Tree t{{FileEntry("passwd", "x")}};
  std::string bytes = SerializeTree(t);
  Hash128 id = TreeHash(bytes);
  ASSERT_TRUE((*store)->Put(id, bytes).ok());
  // Readable before and after the flush.
  ASSERT_TRUE((*store)->Get(id).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  EXPECT_EQ((*store)->Get(id)->entries, t.entries);

  SnapshotRow snap;
  snap.kind = "baseline";
  snap.target = "web-1";
  snap.root_path = "/srv/root";
  snap.rules_hash = "abc";
  snap.root = id;
  snap.created_ns = 42;
  snap.stats.files = 7;
  snap.warnings = {"w1", "w2"};
  snap.subtrees = {{"/etc", id}};
  auto sid = (*store)->AddSnapshot(snap);
  ASSERT_TRUE(sid.ok());
  auto back = (*store)->GetSnapshot(*sid);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->root, id);
  EXPECT_EQ(back->warnings, snap.warnings);
  EXPECT_EQ(back->subtrees, snap.subtrees);
  EXPECT_EQ(back->stats.files, 7u);

  auto r1 = (*store)->AddBaseline("default", *sid, 1, "alice", "first");
  auto r2 = (*store)->AddBaseline("default", *sid, 2, "bob", "second");
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->revision, 1);
  EXPECT_EQ(r2->revision, 2);
  auto latest = (*store)->LatestBaseline("default");
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->author, "bob");
  EXPECT_FALSE((*store)->LatestBaseline("other")->has_value());

  DriftEvent ev;
  ev.path = "/etc/pass\xffwd";
  ev.kind = DriftKind::kModified;
  ev.changed = kAttrHash;
  ev.old_entry = FileEntry("passwd", "x");
  ev.new_entry = FileEntry("passwd", "y");
  ev.severity = Severity::kHigh;
  ev.rule = "/etc/** (host.yaml:3)";
  ASSERT_TRUE((*store)->RecordCheck(CheckRow{0, *sid, "default", 2, 10, 20}, {ev}).ok());
  auto history = (*store)->History(0, 100);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  const DriftEvent& got = (*history)[0].event;
  EXPECT_EQ(got.path, ev.path);
  EXPECT_EQ(got.kind, ev.kind);
  EXPECT_EQ(got.old_entry, ev.old_entry);
  EXPECT_EQ(got.new_entry, ev.new_entry);
  EXPECT_EQ(got.rule, ev.rule);
  EXPECT_TRUE((*store)->History(21, 100)->empty());
}

// The limit counts the events the filter keeps: the newest events of one
// path stay reachable behind many events of others.
TEST(StoreTest, HistoryLimitCountsFilteredEvents) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  SnapshotRow snap;
  snap.kind = "check";
  snap.root_path = "/";
  snap.created_ns = 1;
  auto sid = (*store)->AddSnapshot(snap);
  ASSERT_TRUE(sid.ok()) << sid.status().message();
  std::vector<DriftEvent> events;
  for (const char* path : {"/etc/a", "/etc/b", "/etc/c", "/var/g1", "/var/g2", "/var/g3"}) {
    DriftEvent ev;
    ev.path = path;
    ev.kind = DriftKind::kAdded;
    ev.severity = Severity::kLow;
    ev.new_entry = FileEntry("x", "y");
    events.push_back(ev);
  }
  ASSERT_TRUE((*store)->RecordCheck(CheckRow{0, *sid, "default", 1, 10, 20}, events).ok());
  auto only_var = [](const DriftEvent& e) { return e.path.rfind("/var/", 0) == 0; };
  auto two = (*store)->History(0, 2, only_var);
  ASSERT_TRUE(two.ok()) << two.status().message();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].event.path, "/var/g1");
  EXPECT_EQ((*two)[1].event.path, "/var/g2");
  EXPECT_EQ((*store)->History(0, 10, only_var)->size(), 3u);
  EXPECT_EQ((*store)->History(0, 2)->size(), 2u);
  EXPECT_EQ((*store)->History(0, 2)->front().event.path, "/etc/a");
}

TEST(StoreTest, RefusesNewerSchema) {
  TempDir dir;
  { ASSERT_TRUE(Store::Open(DefaultHost(), dir / "agent.db").ok()); }
  {
    auto db = sqlite::Db::Open(dir / "agent.db", AgentDbOptions());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)->Exec("UPDATE schema_versions SET version = 99 WHERE component = 'store'").ok());
  }
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99"));
}

TEST(StoreTest, StatCacheReplacesRowsPerDirectory) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok());
  CachedStat a{"a", 1, 2, 3, 4, 5, 6, Hasher::Of(HashAlgo::kSha256, "a"), true, HashBytes("x")};
  CachedStat b{"b", 1, 3, 3, 4, 5, 6, Hasher::Of(HashAlgo::kXxh128, "b"), false, Hash128()};
  ASSERT_TRUE((*store)->StoreDir("/etc", {a, b}).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  auto rows = (*store)->LoadDir("/etc");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].digest, a.digest);
  EXPECT_EQ((*rows)[1].digest, b.digest);
  EXPECT_TRUE((*rows)[0].has_xattrs);
  EXPECT_EQ((*rows)[0].xattrs, HashBytes("x"));
  EXPECT_FALSE((*rows)[1].has_xattrs);
  ASSERT_TRUE((*store)->StoreDir("/etc", {b}).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  EXPECT_EQ((*store)->LoadDir("/etc")->size(), 1u);
  EXPECT_TRUE((*store)->LoadDir("/usr")->empty());
}

TEST(StoreTest, PruneKeepsBaselinesAndDropsUnreachableTrees) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok());
  auto add = [&](const std::string& content, const std::string& kind) {
    Tree t{{FileEntry("f", content)}};
    std::string bytes = SerializeTree(t);
    Hash128 id = TreeHash(bytes);
    EXPECT_TRUE((*store)->Put(id, bytes).ok());
    SnapshotRow s;
    s.kind = kind;
    s.root = id;
    EXPECT_TRUE((*store)->AddSnapshot(s).ok());
    return id;
  };
  Hash128 base = add("base", "baseline");
  ASSERT_TRUE((*store)->AddBaseline("default", 1, 1, "a", "r").ok());
  Hash128 c1 = add("c1", "check");
  Hash128 c2 = add("c2", "check");
  Hash128 c3 = add("c3", "check");
  ASSERT_TRUE((*store)->Prune(2).ok());
  EXPECT_TRUE((*store)->Get(base).ok());
  EXPECT_FALSE((*store)->Get(c1).ok());
  EXPECT_TRUE((*store)->Get(c2).ok());
  EXPECT_TRUE((*store)->Get(c3).ok());
}

}  // namespace
}  // namespace driftwatch::agent

namespace driftwatch::agent {
namespace {

// A store of schema v1 (no rules_path) is migrated: its snapshots read
// back with an empty rules_path, new ones keep theirs.
TEST(StoreTest, MigratesV1ToV2) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  {
    auto store = Store::Open(DefaultHost(), path);
    ASSERT_TRUE(store.ok());
    SnapshotRow snap;
    snap.kind = "baseline";
    snap.rules_path = "/etc/driftwatch/rules.yaml";
    ASSERT_TRUE((*store)->AddSnapshot(snap).ok());
  }
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("ALTER TABLE snapshots DROP COLUMN rules_path").ok());
    ASSERT_TRUE((*db)
                    ->Exec("DROP TABLE restore_actions; DROP TABLE restores;"
                           " DROP TABLE journal_paths; DROP TABLE journal_state")
                    .ok());
    ASSERT_TRUE((*db)
                    ->Exec("DROP TABLE blobs; DROP TABLE xattr_sets;"
                           " ALTER TABLE events DROP COLUMN diff;"
                           " ALTER TABLE events DROP COLUMN content_note;"
                           " ALTER TABLE snapshots DROP COLUMN content_hash")
                    .ok());
    ASSERT_TRUE((*db)->Exec("DROP TABLE chain").ok());
    ASSERT_TRUE(
        (*db)->Exec("UPDATE schema_versions SET version = 1 WHERE component = 'store'").ok());
  }
  auto store = Store::Open(DefaultHost(), path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto old = (*store)->GetSnapshot(1);
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->rules_path, "");
  SnapshotRow snap;
  snap.kind = "baseline";
  snap.rules_path = "/srv/rules.yaml";
  auto id = (*store)->AddSnapshot(snap);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*store)->GetSnapshot(*id)->rules_path, "/srv/rules.yaml");
}

}  // namespace
}  // namespace driftwatch::agent
