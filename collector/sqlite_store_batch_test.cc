#include "collector/sqlite_store_batch.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <thread>
#include <vector>

#include "collector/sqlite_lifecycle.h"
#include "collector/sqlite_rows.h"
#include "collector/sqlite_store.h"
#include "core/drift_json.h"

namespace driftwatch::collector {
namespace {

class SqliteIngestBatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_batch_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto db = sqlite::Db::Open(dir_ + "/c.db", SqliteStoreOptions());
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
    ASSERT_TRUE(sqlite_rows::CreateOrUpgradeSchema(*db_).ok());
    for (const char* h : {"a", "b"}) {
      ASSERT_TRUE(
          sqlite_lifecycle::EnrollHost(*db_, h, "web", "1", std::string("sha-") + h, 1, "").ok());
    }
  }
  void TearDown() override {
    db_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  static ReportEnvelope Envelope(const std::string& id, const std::string& host, int events) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = host;
    env.received_ns = 100;
    env.result.target = host;
    env.result.baseline = "default";
    env.result.finished_ns = 100;
    for (int i = 0; i < events; ++i) {
      DriftEvent e;
      e.path = "/etc/" + id + "/" + std::to_string(i);
      e.kind = DriftKind::kModified;
      e.severity = Severity::kHigh;
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    return env;
  }

  int64_t Count(const char* sql) {
    auto s = db_->Prepare(sql);
    EXPECT_TRUE(s.ok());
    auto row = s->Step();
    EXPECT_TRUE(row.ok() && *row);
    return s->Int(0);
  }

  std::string dir_;
  std::mutex db_mu_;
  std::unique_ptr<sqlite::Db> db_;
};

// Reports queued while a batch holds the database go into one transaction;
// each is answered as if it were alone: a report of an unknown host fails
// alone, a report_id sent twice in the same batch is stored once (the
// second answer is a duplicate of the first), the rest are stored whole.
TEST_F(SqliteIngestBatcherTest, QueuedReportsCommitTogetherAndFailAlone) {
  SqliteIngestBatcher batcher(*db_, db_mu_);
  const std::vector<AlertRoute> routes;
  // r0 .. r5 of hosts a and b, r3 sent twice, one report of unknown host "x".
  std::vector<ReportEnvelope> envs;
  for (int i = 0; i < 6; ++i)
    envs.push_back(Envelope("r" + std::to_string(i), i % 2 ? "b" : "a", 3));
  envs.push_back(Envelope("r3", "b", 3));
  envs.push_back(Envelope("rx", "x", 2));
  std::vector<sqlite_ingest::PreparedReport> prepared;
  for (const ReportEnvelope& e : envs) prepared.push_back(sqlite_ingest::PrepareIngest(e, routes));
  std::vector<std::optional<Result<IngestResult>>> answers(envs.size());
  std::vector<std::thread> threads;
  {
    // Held: the first caller leads and waits here with its own report; the
    // others queue behind it.
    std::unique_lock<std::mutex> hold(db_mu_);
    for (size_t i = 0; i < envs.size(); ++i) {
      threads.emplace_back([&, i] { answers[i] = batcher.Submit(prepared[i]); });
    }
    // The first caller took its own report alone; the seven others queue.
    while (batcher.queued() < envs.size() - 1) std::this_thread::yield();
  }
  for (std::thread& t : threads) t.join();
  const SqliteIngestBatcher::Stats st = batcher.stats();
  EXPECT_EQ(st.reports, 8);
  EXPECT_EQ(st.batches, 2);  // the leader's own, then the seven queued behind it
  EXPECT_EQ(st.max_batch, 7);

  std::map<std::string, int64_t> seq_of;
  int duplicates = 0;
  for (size_t i = 0; i < envs.size(); ++i) {
    ASSERT_TRUE(answers[i].has_value());
    const Result<IngestResult>& a = *answers[i];
    if (envs[i].host_id == "x") {
      ASSERT_FALSE(a.ok());
      EXPECT_EQ(a.status().code(), StatusCode::kNotFound);
      continue;
    }
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(a->events, 3);
    if (a->duplicate) {
      ++duplicates;
      EXPECT_EQ(envs[i].report_id, "r3");
      continue;
    }
    seq_of[envs[i].report_id] = a->report_seq;
  }
  EXPECT_EQ(duplicates, 1);
  ASSERT_EQ(seq_of.size(), 6u);
  EXPECT_EQ(Count("SELECT count(*) FROM reports"), 6);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 18);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE host_id = 'x'"), 0);
  // Each report's events are contiguous ids from its first_event_id.
  EXPECT_EQ(Count("SELECT count(*) FROM reports r WHERE (SELECT count(*) FROM events e WHERE "
                  "e.report_seq = r.seq AND e.id BETWEEN r.first_event_id AND "
                  "r.first_event_id + 2) = 3"),
            6);
  EXPECT_EQ(Count("SELECT n FROM event_counts WHERE severity = 3"), 18);
  EXPECT_EQ(Count("SELECT reports FROM hosts WHERE id = 'a'"), 3);
  EXPECT_EQ(Count("SELECT reports FROM hosts WHERE id = 'b'"), 3);
  // The host chains hold every stored event once, in order.
  EXPECT_EQ(Count("SELECT sum(events_length) FROM chain_hosts"), 18);
}

// When the batch's transaction cannot be had or committed, nobody is told
// their report is stored, and nothing of it is.
TEST_F(SqliteIngestBatcherTest, NothingIsAcknowledgedWhenTheBatchCannotCommit) {
  SqliteIngestBatcher batcher(*db_, db_mu_);
  const std::vector<AlertRoute> routes;
  // Another connection holds the write lock past the busy timeout.
  auto other = sqlite::Db::Open(dir_ + "/c.db", SqliteStoreOptions());
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("BEGIN IMMEDIATE").ok());
  ASSERT_TRUE(db_->SetPragma("busy_timeout", "50").ok());
  const ReportEnvelope env = Envelope("r1", "a", 2);
  const auto p = sqlite_ingest::PrepareIngest(env, routes);
  auto a = batcher.Submit(p);
  EXPECT_FALSE(a.ok());
  ASSERT_TRUE((*other)->Exec("ROLLBACK").ok());
  EXPECT_EQ(Count("SELECT count(*) FROM reports"), 0);
  // The next batch stores it.
  auto b = batcher.Submit(p);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_FALSE(b->duplicate);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 2);
}

}  // namespace
}  // namespace driftwatch::collector
