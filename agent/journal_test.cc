#include "agent/journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kRules = "rules-1";

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_ / "agent.db";
    auto j = Journal::Open(DefaultHost(), db_);
    ASSERT_TRUE(j.ok()) << j.status().message();
    journal_ = std::move(*j);
  }

  // Records a check of baseline "default" and returns its snapshot id.
  int64_t RecordCheck() {
    auto store = Store::Open(DefaultHost(), db_);
    EXPECT_TRUE(store.ok());
    SnapshotRow snap;
    snap.kind = "check";
    auto id = (*store)->AddSnapshot(snap);
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE((*store)->RecordCheck(CheckRow{0, *id, "default", 1, 1, 2}, {}).ok());
    return *id;
  }

  void Start() {
    Host& h = DefaultHost();
    ASSERT_TRUE(journal_->BeginEpoch(h.NowNs(), h.MonotonicNs(), 42, kRules).ok());
  }

  Consultation Consult(const std::string& rules = kRules) {
    auto c = journal_->Consult(rules, [] { return Status::Ok(); });
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : Consultation{};
  }

  // Starts a watcher and makes the journal valid with a full check.
  void StartValid() {
    Start();
    Consultation c = Consult();
    ASSERT_FALSE(c.dirty);
    RecordCheck();
    ASSERT_TRUE(journal_->Commit(c, "default", /*walked_everything=*/true).ok());
    ASSERT_TRUE(journal_->State()->valid);
  }

  TempDir dir_;
  std::string db_;
  std::unique_ptr<Journal> journal_;
};

TEST_F(JournalTest, WithoutWatcherEveryCheckWalksEverything) {
  Consultation c = *journal_->Consult(kRules, nullptr, 100'000'000);
  EXPECT_FALSE(c.dirty);
  EXPECT_FALSE(c.watcher_alive);
  EXPECT_EQ(c.full_reason, "no realtime watcher is running");
  RecordCheck();
  ASSERT_TRUE(journal_->Commit(c, "default", true).ok());
  EXPECT_FALSE(journal_->State()->valid);
}

TEST_F(JournalTest, NewEpochIsInvalidUntilAFullWalk) {
  Start();
  Consultation c = Consult();
  EXPECT_TRUE(c.watcher_alive);
  EXPECT_FALSE(c.dirty);
  EXPECT_THAT(c.full_reason, HasSubstr("the watcher started at "));
  EXPECT_THAT(c.full_reason, HasSubstr("; the next check walks everything"));
  // A change during the walk is kept for the next check.
  ASSERT_TRUE(journal_->AddDirty({{"/etc/late", false}}).ok());
  int64_t snap = RecordCheck();
  ASSERT_TRUE(journal_->Commit(c, "default", true).ok());
  JournalState s = *journal_->State();
  EXPECT_TRUE(s.valid);
  EXPECT_EQ(s.reason, "");
  EXPECT_EQ(s.base_snapshot_id, snap);
  EXPECT_EQ(s.watcher_pid, 42);
  Consultation next = Consult();
  ASSERT_TRUE(next.dirty);
  EXPECT_EQ(next.dirty->base_snapshot_id, snap);
  EXPECT_THAT(next.dirty->paths, ElementsAre("/etc/late"));
}

TEST_F(JournalTest, DirtyPathsAreSortedConsumedAndKeptAfterTheConsultation) {
  StartValid();
  ASSERT_TRUE(journal_->AddDirty({{"/etc/z", false}, {"/etc/d", true}}).ok());
  ASSERT_TRUE(journal_->AddDirty({{"/etc/a", false}, {"/etc/z", false}}).ok());
  Consultation c = Consult();
  ASSERT_TRUE(c.dirty) << c.full_reason;
  EXPECT_THAT(c.dirty->paths, ElementsAre("/etc/a", "/etc/d", "/etc/z"));
  EXPECT_THAT(c.dirty->trees, ElementsAre("/etc/d"));
  ASSERT_TRUE(journal_->AddDirty({{"/etc/a", false}, {"/etc/new", false}}).ok());
  int64_t snap = RecordCheck();
  ASSERT_TRUE(journal_->Commit(c, "default", false).ok());
  JournalState s = *journal_->State();
  EXPECT_TRUE(s.valid);
  EXPECT_EQ(s.base_snapshot_id, snap);
  EXPECT_EQ(s.dirty_paths, 2);
  Consultation next = Consult();
  ASSERT_TRUE(next.dirty);
  EXPECT_THAT(next.dirty->paths, ElementsAre("/etc/a", "/etc/new"));
  EXPECT_TRUE(next.dirty->trees.empty());
}

TEST_F(JournalTest, InvalidationDuringACheckIsNotUndoneByItsCommit) {
  Start();
  Consultation c = Consult();
  ASSERT_TRUE(journal_->Invalidate("the event queue overflowed").ok());
  RecordCheck();
  ASSERT_TRUE(journal_->Commit(c, "default", true).ok());
  JournalState s = *journal_->State();
  EXPECT_FALSE(s.valid);
  EXPECT_EQ(s.reason, "the event queue overflowed");
  EXPECT_EQ(Consult().full_reason, "the event queue overflowed");
}

TEST_F(JournalTest, ValidJournalInvalidatedDropsItsPaths) {
  StartValid();
  ASSERT_TRUE(journal_->AddDirty({{"/etc/a", false}}).ok());
  ASSERT_TRUE(journal_->Invalidate("a mount under /etc").ok());
  JournalState s = *journal_->State();
  EXPECT_FALSE(s.valid);
  EXPECT_EQ(s.dirty_paths, 0);
  EXPECT_EQ(Consult().full_reason, "a mount under /etc");
}

TEST_F(JournalTest, TooManyDirtyPathsInvalidate) {
  StartValid();
  std::vector<DirtyPath> batch;
  for (int64_t i = 0; i < kMaxJournalPaths; ++i) batch.push_back({"/p/" + std::to_string(i)});
  ASSERT_TRUE(journal_->AddDirty(batch).ok());
  EXPECT_TRUE(journal_->State()->valid);
  ASSERT_TRUE(journal_->AddDirty({{"/one/more", false}}).ok());
  JournalState s = *journal_->State();
  EXPECT_FALSE(s.valid);
  EXPECT_EQ(s.reason, "more than 200000 paths changed since the last check");
  EXPECT_EQ(s.dirty_paths, 0);
}

TEST_F(JournalTest, ClockJumpInvalidates) {
  StartValid();
  JournalState s = *journal_->State();
  // Realtime moved 5 s while monotonic time moved 1 s.
  ASSERT_TRUE(
      journal_->Heartbeat(s.heartbeat_ns + 5'000'000'000, s.heartbeat_mono_ns + 1'000'000'000)
          .ok());
  EXPECT_FALSE(journal_->State()->valid);
  EXPECT_THAT(journal_->State()->reason, HasSubstr("the clock jumped by 4.0 s"));
}

TEST_F(JournalTest, SteadyHeartbeatsKeepItValid) {
  StartValid();
  JournalState s = *journal_->State();
  ASSERT_TRUE(journal_
                  ->Heartbeat(s.heartbeat_ns + 1'000'000'000 + 3'000'000,
                              s.heartbeat_mono_ns + 1'000'000'000)
                  .ok());
  EXPECT_TRUE(journal_->State()->valid);
}

TEST_F(JournalTest, StaleHeartbeatMeansNoWatcher) {
  StartValid();
  Host& h = DefaultHost();
  ASSERT_TRUE(journal_->Heartbeat(h.NowNs() - 10'000'000'000, h.MonotonicNs()).ok());
  Consultation c = *journal_->Consult(kRules, nullptr, 100'000'000);
  EXPECT_FALSE(c.watcher_alive);
  EXPECT_EQ(c.full_reason, "the realtime watcher is not running");
}

TEST_F(JournalTest, StoppedWatcherAndChangedRules) {
  StartValid();
  EXPECT_EQ(Consult("rules-2").full_reason, "the rules changed since the realtime watcher started");
  ASSERT_TRUE(journal_->EndEpoch("the watcher stopped").ok());
  EXPECT_EQ(journal_->Consult(kRules, nullptr, 100'000'000)->full_reason,
            "the realtime watcher is not running");
}

TEST_F(JournalTest, CookieSyncWaitsForTheWatchersAnswer) {
  StartValid();
  ASSERT_TRUE(journal_->AddDirty({{"/etc/a", false}}).ok());
  // A watcher in another thread: answers the cookie it sees next to the store.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> seen{0};
  std::thread watcher([&] {
    auto j = Journal::Open(DefaultHost(), db_);
    ASSERT_TRUE(j.ok());
    while (!stop) {
      for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
        int64_t cookie = ParseJournalCookie(db_, e.path().string());
        if (cookie != 0) {
          ASSERT_TRUE((*j)->AddDirty({{"/etc/before-cookie", false}}).ok());
          ASSERT_TRUE((*j)->AnswerCookie(cookie).ok());
          seen = cookie;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  auto c = journal_->Consult(kRules);
  stop = true;
  watcher.join();
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->dirty) << c->full_reason;
  EXPECT_NE(seen.load(), 0);
  EXPECT_THAT(c->dirty->paths, ElementsAre("/etc/a", "/etc/before-cookie"));
  // The cookie file is gone.
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(ParseJournalCookie(db_, e.path().string()), 0) << e.path();
  }
}

TEST_F(JournalTest, UnansweredCookieMeansAFullWalk) {
  StartValid();
  auto c = journal_->Consult(kRules, nullptr, 100'000'000);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->dirty);
  EXPECT_EQ(c->full_reason, "the realtime watcher did not answer within 0.1 s");
}

TEST(JournalCookieTest, Names) {
  EXPECT_EQ(JournalCookiePath("/var/lib/driftwatch/agent.db", 7),
            "/var/lib/driftwatch/agent.db.sync-7");
  EXPECT_EQ(ParseJournalCookie("/d/agent.db", "/d/agent.db.sync-77"), 77);
  EXPECT_EQ(ParseJournalCookie("/d/agent.db", "/d/agent.db.sync-77.tmp.1"), 77);
  EXPECT_EQ(ParseJournalCookie("/d/agent.db", "/d/agent.db.sync-"), 0);
  EXPECT_EQ(ParseJournalCookie("/d/agent.db", "/d/agent.db-wal"), 0);
  EXPECT_EQ(ParseJournalCookie("/d/agent.db", "/e/agent.db.sync-1"), 0);
}

TEST(JournalSchemaTest, MigratesAVersion2Store) {
  TempDir dir;
  const std::string path = dir / "agent.db";
  ASSERT_TRUE(Store::Open(DefaultHost(), path).ok());
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec("DROP TABLE restore_actions; DROP TABLE restores; "
                           "DROP TABLE journal_paths; DROP TABLE journal_state; "
                           "DROP TABLE blobs; DROP TABLE xattr_sets; DROP TABLE chain; "
                           "ALTER TABLE events DROP COLUMN diff; "
                           "ALTER TABLE events DROP COLUMN content_note; "
                           "ALTER TABLE snapshots DROP COLUMN content_hash; "
                           "UPDATE schema_versions SET version = 2 WHERE component = 'store'")
                    .ok());
  }
  auto j = Journal::Open(DefaultHost(), path);
  ASSERT_TRUE(j.ok()) << j.status().message();
  JournalState s = *(*j)->State();
  EXPECT_FALSE(s.valid);
  EXPECT_EQ(s.reason, "no realtime watcher has run");
  auto db = sqlite::Db::Open(path);
  auto q = (*db)->Prepare("SELECT version FROM schema_versions WHERE component = 'store'");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), kStoreSchemaVersion);
  EXPECT_EQ(kStoreSchemaVersion, 7);
}

}  // namespace
}  // namespace driftwatch::agent
