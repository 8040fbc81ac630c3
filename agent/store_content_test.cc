// The agent store as a ContentStore: blobs and xattr sets, their garbage
// collection, the events' diff columns and the migration to schema v4.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/file_hash.h"
#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;

Digest Of(std::string_view raw) { return Hasher::Of(HashAlgo::kXxh128, raw); }

Entry KeptFile(const std::string& name, std::string_view raw, Hash128 xattrs = Hash128()) {
  Entry e;
  e.name = name;
  e.type = EntryType::kFile;
  e.mask = kAttrType | kAttrHash | kAttrXattrs;
  e.content = Of(raw);
  e.xattrs = xattrs;
  return e;
}

// Puts a one-level tree and a snapshot of it; returns the snapshot id.
int64_t AddTree(Store& store, std::vector<Entry> entries, const std::string& kind) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  std::string bytes = SerializeTree(Tree{std::move(entries)});
  Hash128 id = TreeHash(bytes);
  EXPECT_TRUE(store.Put(id, bytes).ok());
  SnapshotRow s;
  s.kind = kind;
  s.root = id;
  auto sid = store.AddSnapshot(s);
  EXPECT_TRUE(sid.ok()) << sid.status().message();
  return sid.ok() ? *sid : 0;
}

TEST(StoreContentTest, RoundTripsBlobsAndXattrSets) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  Store& s = **store;
  const std::string raw = "line one\nline two\n";
  const std::string binary("\0\x01\xff\0zz", 6);
  EXPECT_FALSE(*s.HasContent(Of(raw)));
  EXPECT_FALSE(s.GetContent(Of(raw))->has_value());
  ASSERT_TRUE(s.PutContent(Of(raw), raw).ok());
  ASSERT_TRUE(s.PutContent(Of(binary), binary).ok());
  ASSERT_TRUE(s.PutContent(Of(""), "").ok());
  // Readable while buffered and after the flush.
  EXPECT_TRUE(*s.HasContent(Of(raw)));
  EXPECT_EQ(**s.GetContent(Of(raw)), raw);
  ASSERT_TRUE(s.Flush().ok());
  EXPECT_EQ(**s.GetContent(Of(raw)), raw);
  EXPECT_EQ(**s.GetContent(Of(binary)), binary);
  EXPECT_EQ(**s.GetContent(Of("")), "");
  const Digest sha = Hasher::Of(HashAlgo::kSha256, raw);
  ASSERT_TRUE(s.PutContent(sha, raw).ok());
  EXPECT_EQ(**s.GetContent(sha), raw);

  std::vector<Xattr> xattrs = {{"user.b", std::string("\0v", 2)}, {"security.capability", "cap"}};
  const Hash128 xd = XattrDigest(xattrs);
  EXPECT_FALSE(s.GetXattrs(xd)->has_value());
  ASSERT_TRUE(s.PutXattrs(xd, xattrs).ok());
  ASSERT_TRUE(s.Flush().ok());
  auto back = s.GetXattrs(xd);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ(XattrDigest(**back), xd);
  EXPECT_EQ((*back)->size(), 2u);
  auto counts = s.CountContent();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->blobs, 4);
  EXPECT_EQ(counts->xattr_sets, 1);
  EXPECT_EQ(counts->raw_bytes, static_cast<int64_t>(2 * raw.size() + binary.size()));
}

TEST(StoreContentTest, DamagedBlobsAreCorruptionNotCrashes) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  const std::string raw(5000, 'a');
  {
    auto store = Store::Open(DefaultHost(), path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->PutContent(Of(raw), raw).ok());
    ASSERT_TRUE((*store)->PutContent(Of("b"), "b").ok());
    ASSERT_TRUE((*store)->PutXattrs(XattrDigest({{"user.a", "1"}}), {{"user.a", "1"}}).ok());
  }
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("UPDATE blobs SET data = x'28b52ffd00' WHERE raw_size = 5000").ok());
    ASSERT_TRUE((*db)->Exec("UPDATE blobs SET raw_size = 99999999999 WHERE raw_size = 1").ok());
    ASSERT_TRUE((*db)->Exec("UPDATE xattr_sets SET data = x'ffffffff'").ok());
  }
  auto store = Store::Open(DefaultHost(), path);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->GetContent(Of(raw)).status().code(), StatusCode::kCorruption);
  EXPECT_EQ((*store)->GetContent(Of("b")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ((*store)->GetXattrs(XattrDigest({{"user.a", "1"}})).status().code(),
            StatusCode::kCorruption);
}

// One blob per distinct content, however many baselines, revisions and
// files refer to it.
TEST(StoreContentTest, BlobStoredOnceAcrossBaselinesAndRevisions) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  for (const char* baseline : {"web", "db"}) {
    for (int revision = 1; revision <= 2; ++revision) {
      // The scanner puts what it reads: the same two contents each time.
      for (const char* raw : {"same\n", "same\n", "other\n"}) {
        ASSERT_TRUE(s.PutContent(Of(raw), raw).ok());
      }
      int64_t id =
          AddTree(s, {KeptFile("a", "same\n"), KeptFile("b", "same\n"), KeptFile("c", "other\n")},
                  "baseline");
      auto row = s.AddBaseline(baseline, id, revision, "alice", "r");
      ASSERT_TRUE(row.ok());
      EXPECT_EQ(row->revision, revision);
    }
  }
  EXPECT_EQ(s.CountContent()->blobs, 2);
  auto db = sqlite::Db::Open(s.path(), AgentDbOptions(/*read_only=*/true));
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT COUNT(*), COUNT(DISTINCT digest) FROM blobs");
  ASSERT_TRUE(q.ok() && *q->Step());
  EXPECT_EQ(q->Int(0), 2);
  EXPECT_EQ(q->Int(1), 2);
}

// Prune keeps what a baseline revision, a retained snapshot or a history
// event refers to, and nothing else.
TEST(StoreContentTest, GarbageCollectionRemovesOnlyUnreferenced) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  const std::vector<Xattr> base_x = {{"user.k", "base"}}, gone_x = {{"user.k", "gone"}};
  for (const char* raw : {"base", "in-event", "old-check", "newest", "orphan"}) {
    ASSERT_TRUE(s.PutContent(Of(raw), raw).ok());
  }
  ASSERT_TRUE(s.PutXattrs(XattrDigest(base_x), base_x).ok());
  ASSERT_TRUE(s.PutXattrs(XattrDigest(gone_x), gone_x).ok());
  int64_t base = AddTree(s, {KeptFile("f", "base", XattrDigest(base_x))}, "baseline");
  ASSERT_TRUE(s.AddBaseline("default", base, 1, "a", "r").ok());
  int64_t c1 = AddTree(s, {KeptFile("f", "in-event")}, "check");
  DriftEvent ev;
  ev.path = "/f";
  ev.kind = DriftKind::kModified;
  ev.old_entry = KeptFile("f", "base");
  ev.new_entry = KeptFile("f", "in-event");
  ASSERT_TRUE(s.RecordCheck(CheckRow{0, c1, "default", 1, 1, 2}, {ev}).ok());
  AddTree(s, {KeptFile("f", "old-check", XattrDigest(gone_x))}, "check");
  AddTree(s, {KeptFile("f", "newest")}, "check");
  ASSERT_EQ(s.CountContent()->blobs, 5);

  ASSERT_TRUE(s.Prune(1).ok());
  for (const char* kept : {"base", "in-event", "newest"}) {
    EXPECT_TRUE(*s.HasContent(Of(kept))) << kept;
    EXPECT_EQ(**s.GetContent(Of(kept)), kept);
  }
  EXPECT_FALSE(*s.HasContent(Of("old-check")));
  EXPECT_FALSE(*s.HasContent(Of("orphan")));
  EXPECT_TRUE(s.GetXattrs(XattrDigest(base_x))->has_value());
  EXPECT_FALSE(s.GetXattrs(XattrDigest(gone_x))->has_value());
  EXPECT_EQ(s.CountContent()->blobs, 3);
  EXPECT_EQ(s.CountContent()->xattr_sets, 1);
}

TEST(StoreContentTest, EventsKeepTheirDiffAndContentNote) {
  TempDir dir;
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok());
  DriftEvent changed;
  changed.path = "/etc/hosts";
  changed.kind = DriftKind::kModified;
  changed.diff = "--- /etc/hosts\n+++ /etc/hosts\n@@ -1 +1 @@\n-a\n+b\n";
  DriftEvent secret;
  secret.path = "/etc/shadow";
  secret.kind = DriftKind::kModified;
  secret.content_note = "redacted";
  const int64_t snap = AddTree(**store, {}, "check");
  ASSERT_TRUE((*store)->RecordCheck(CheckRow{0, snap, "default", 1, 5, 6}, {changed, secret}).ok());
  auto h = (*store)->History(0, 10);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].event.diff, changed.diff);
  EXPECT_EQ((*h)[0].event.content_note, "");
  EXPECT_EQ((*h)[1].event.diff, "");
  EXPECT_EQ((*h)[1].event.content_note, "redacted");
}

// A v3 store gains the content tables and the events' columns; its events
// read back without a diff.
TEST(StoreContentTest, MigratesV3ToV4) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  DriftEvent ev;
  ev.path = "/etc/passwd";
  ev.kind = DriftKind::kModified;
  {
    auto store = Store::Open(DefaultHost(), path);
    ASSERT_TRUE(store.ok());
    const int64_t snap = AddTree(**store, {}, "check");
    ASSERT_TRUE((*store)->RecordCheck(CheckRow{0, snap, "default", 1, 5, 6}, {ev}).ok());
  }
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec("DROP TABLE restore_actions; DROP TABLE restores;"
                           " DROP TABLE blobs; DROP TABLE xattr_sets; DROP TABLE chain;"
                           " ALTER TABLE events DROP COLUMN diff;"
                           " ALTER TABLE events DROP COLUMN content_note;"
                           " ALTER TABLE snapshots DROP COLUMN content_hash;"
                           " UPDATE schema_versions SET version = 3 WHERE component = 'store'")
                    .ok());
  }
  auto store = Store::Open(DefaultHost(), path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto h = (*store)->History(0, 10);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].event.path, "/etc/passwd");
  EXPECT_EQ((*h)[0].event.diff, "");
  EXPECT_EQ((*h)[0].event.content_note, "");
  ASSERT_TRUE((*store)->PutContent(Of("x"), "x").ok());
  ASSERT_TRUE((*store)->Flush().ok());
  EXPECT_EQ(**(*store)->GetContent(Of("x")), "x");
  auto db = sqlite::Db::Open(path, AgentDbOptions(/*read_only=*/true));
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT version FROM schema_versions WHERE component = 'store'");
  ASSERT_TRUE(q.ok() && *q->Step());
  EXPECT_EQ(q->Int(0), kStoreSchemaVersion);
  EXPECT_EQ(kStoreSchemaVersion, 7);
}

}  // namespace
}  // namespace driftwatch::agent
