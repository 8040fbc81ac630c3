#include "collector/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "core/drift_json.h"

namespace driftwatch::collector {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_store_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/c.db";
    auto s = OpenSqliteStore(path_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", 1).ok());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  static ReportEnvelope Envelope(const std::string& id, std::vector<Severity> sevs, int64_t t) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = "h";
    env.received_ns = t;
    env.result.target = "h";
    env.result.baseline = "default";
    env.result.finished_ns = t;
    for (size_t i = 0; i < sevs.size(); ++i) {
      DriftEvent e;
      e.path = "/etc/f" + std::to_string(i);
      e.kind = DriftKind::kAdded;
      e.severity = sevs[i];
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    return env;
  }

  std::string dir_, path_;
  std::unique_ptr<FleetStore> store_;
};

TEST_F(SqliteStoreTest, RefusesUnknownSchemaVersion) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_versions SET version = 7 WHERE component = 'collector'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenSqliteStore(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(s.status().message(),
            path_ +
                ": collector store schema version 7 is not supported by this build (knows "
                "version 1); see docs/collector.md");
}

TEST_F(SqliteStoreTest, AlertsQueuedOncePerEventAndRoute) {
  std::vector<AlertRoute> routes = {{"ops", Severity::kHigh, {}}, {"db", Severity::kLow, {"db"}}};
  auto r = store_->IngestReport(
      Envelope("r1", {Severity::kLow, Severity::kHigh, Severity::kCritical}, 100), routes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto again = store_->IngestReport(
      Envelope("r1", {Severity::kLow, Severity::kHigh, Severity::kCritical}, 200), routes);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->received_ns, 100);
  auto due = store_->DueAlerts(1000, 100);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].route, "ops");
  EXPECT_EQ((*due)[0].event_id, 2);
  EXPECT_EQ((*due)[1].event_id, 3);
  ASSERT_TRUE(store_->RescheduleAlert((*due)[0].id, 1, 5000, "refused").ok());
  ASSERT_TRUE(store_->MarkAlertDelivered((*due)[1].id, 1000).ok());
  EXPECT_EQ(store_->DueAlerts(1000, 100)->size(), 0u);
  EXPECT_EQ(store_->DueAlerts(5000, 100)->size(), 1u);
}

TEST_F(SqliteStoreTest, RetentionPrunesOldEventsAndCounts) {
  ASSERT_TRUE(
      store_->IngestReport(Envelope("r1", {Severity::kLow, Severity::kHigh}, 100), {}).ok());
  ASSERT_TRUE(store_->IngestReport(Envelope("r2", {Severity::kHigh}, 300), {}).ok());
  auto n = store_->PruneEvents(200, 1000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  DriftQuery q;
  auto left = store_->QueryDrift(q);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, 3);
  auto sum = store_->Summary(300, 1000);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->events_by_severity[0].second, 0);  // low
  EXPECT_EQ(sum->events_by_severity[2].second, 1);  // high
  EXPECT_EQ(store_->Counts()->events, 1);
}

TEST_F(SqliteStoreTest, UnknownHostStoresNothing) {
  ReportEnvelope env = Envelope("r9", {Severity::kLow}, 100);
  env.host_id = "ghost";
  auto r = store_->IngestReport(env, {});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Counts()->reports, 0);
  EXPECT_EQ(store_->QueueCommand("ghost", "baseline", 1).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace driftwatch::collector
