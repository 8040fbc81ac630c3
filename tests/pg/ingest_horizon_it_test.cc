// Ingest of different hosts in parallel on PostgreSQL, and what keeps the
// /drift cursor exact under it (docs/store-postgresql.md, "Several
// collectors on one database"): readers see event ids only up to the
// horizon of the oldest ingest in flight, and a horizon left behind by a
// collector that died is removed by the next ingest.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "collector/pg_conn.h"
#include "collector/pg_store.h"
#include "core/drift_json.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::collector {
namespace {

using pgtest::PgCluster;
using pgtest::Rows;

constexpr int64_t kSec = 1000000000LL;
constexpr int64_t kT = 1767225600LL * kSec;  // 2026-01-01T00:00:00Z

class IngestHorizonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_ = PgCluster::SkipReason();
    if (!skip_.empty()) return;
    cluster_ = new PgCluster();
    start_error_ = cluster_->Start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_EQ(start_error_, "");
    db_ = "hz" + std::to_string(++databases_);
    url_ = cluster_->NewDatabase(db_);
    ASSERT_NE(url_, "");
    auto m = MigratePgStore(url_);
    ASSERT_TRUE(m.ok()) << m.status().message();
  }

  std::unique_ptr<FleetStore> Open(int pool) {
    auto s = OpenPgStore(url_, PgStoreOptions{pool, 5});
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  Rows Sql(const std::string& sql) {
    std::string err;
    Rows r = cluster_->Sql(db_, sql, &err);
    EXPECT_EQ(err, "") << sql;
    return r;
  }

  // Every event is detected at the same time: the order of the cursor is
  // then the order of ids alone, the case a late commit could break.
  static ReportEnvelope Envelope(const std::string& id, const std::string& host, int events) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = host;
    env.agent_version = "1";
    env.received_ns = kT;
    env.result.target = host;
    env.result.baseline = "default";
    env.result.finished_ns = kT;
    for (int i = 0; i < events; ++i) {
      DriftEvent e;
      e.path = "/etc/" + id + "/" + std::to_string(i);
      e.kind = DriftKind::kModified;
      e.severity = static_cast<Severity>(1 + i % 4);
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    return env;
  }

  // The next page after `cursor`, oldest first.
  static Result<std::vector<EventRecord>> Page(FleetStore& s, const std::optional<EventKey>& cursor,
                                               int limit) {
    DriftQuery q;
    q.page.newest_first = false;
    q.page.after = cursor;
    q.page.limit = limit;
    return s.QueryDrift(q);
  }

  static std::string skip_, start_error_;
  static PgCluster* cluster_;
  static int databases_;
  std::string db_, url_;
};

std::string IngestHorizonTest::skip_;
std::string IngestHorizonTest::start_error_;
PgCluster* IngestHorizonTest::cluster_ = nullptr;
int IngestHorizonTest::databases_ = 0;

// Three collectors (three stores, each with its own connection pool) ingest
// the reports of twelve hosts at once, while a reader follows the cursor
// from the start: what the reader collects is every stored event, in
// (detected_ns, id) order, none missed and none twice.
TEST_F(IngestHorizonTest, ACursorFollowingThreeCollectorsMissesNothing) {
  constexpr int kCollectors = 3, kHostsPer = 4, kReports = 25, kEvents = 5;
  std::vector<std::unique_ptr<FleetStore>> collectors;
  for (int i = 0; i < kCollectors; ++i) {
    collectors.push_back(Open(kHostsPer + 1));
    ASSERT_NE(collectors.back(), nullptr);
  }
  auto reader = Open(2);
  ASSERT_NE(reader, nullptr);
  for (int h = 0; h < kCollectors * kHostsPer; ++h) {
    ASSERT_TRUE(collectors[0]
                    ->EnrollHost("h" + std::to_string(h), "", "1", "t" + std::to_string(h), 1, "")
                    .ok());
  }

  std::atomic<int> writing{kCollectors * kHostsPer};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int c = 0; c < kCollectors; ++c) {
    for (int k = 0; k < kHostsPer; ++k) {
      writers.emplace_back([&, c, k] {
        const std::string host = "h" + std::to_string(c * kHostsPer + k);
        for (int r = 0; r < kReports; ++r) {
          auto out = collectors[c]->IngestReport(
              Envelope(host + "-r" + std::to_string(r), host, kEvents), {});
          if (!out.ok() || out->duplicate) ++failures;
        }
        --writing;
      });
    }
  }
  std::vector<EventRecord> seen;
  std::optional<EventKey> cursor;
  int pages = 0;
  bool read_error = false;
  // Reads until the writers are done and a page after that comes back empty.
  while (true) {
    const bool done = writing.load() == 0;
    auto page = Page(*reader, cursor, 7);
    if (!page.ok()) {
      read_error = true;
      break;
    }
    ++pages;
    for (const EventRecord& e : *page) seen.push_back(e);
    if (!page->empty()) cursor = EventKey{page->back().detected_ns, page->back().id};
    if (done && page->empty()) break;
  }
  for (auto& t : writers) t.join();
  ASSERT_FALSE(read_error);
  EXPECT_EQ(failures.load(), 0);

  // Everything stored, in the order of the store.
  const Rows all = Sql("SELECT id FROM events ORDER BY detected_ns, id");
  ASSERT_EQ(all.size(), size_t{kCollectors * kHostsPer * kReports * kEvents});
  std::vector<int64_t> want, got;
  for (const auto& row : all) want.push_back(std::stoll(row[0]));
  for (const EventRecord& e : seen) got.push_back(e.id);
  EXPECT_EQ(got, want) << "the reader's events differ from the stored ones (" << got.size()
                       << " read in " << pages << " pages, " << want.size() << " stored)";
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), got.size());
  // No horizon outlives its ingest, and the counts add up over the shards.
  EXPECT_EQ(Sql("SELECT count(*) FROM ingest_horizons"), (Rows{{"0"}}));
  auto summary = reader->Summary(kT, kSec);
  ASSERT_TRUE(summary.ok());
  int64_t counted = 0;
  for (const auto& [sev, n] : summary->events_by_severity) counted += n;
  EXPECT_EQ(counted, int64_t{kCollectors * kHostsPer * kReports * kEvents});
}

// An ingest in flight on another session holds readers below its horizon;
// when that session is gone (its collector died mid-ingest), the next read
// removes the horizon and sees everything committed.
TEST_F(IngestHorizonTest, AHorizonHoldsReadersUntilItsSessionIsGone) {
  auto store = Open(2);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->EnrollHost("a", "", "1", "ta", 1, "").ok());
  ASSERT_TRUE(store->EnrollHost("b", "", "1", "tb", 1, "").ok());
  auto first = store->IngestReport(Envelope("r1", "a", 2), {});
  ASSERT_TRUE(first.ok()) << first.status().message();

  // "Another collector" registers a horizon, as an ingest does before it
  // draws event ids, and stops there.
  auto other = PgConn::Connect(url_, 5);
  ASSERT_TRUE(other.ok()) << other.status().message();
  auto reg = (*other)->Exec(
      "register",
      "INSERT INTO ingest_horizons(low, pid, backend_start, created_ns) SELECT last_value, "
      "pg_backend_pid(), (SELECT backend_start FROM pg_stat_activity WHERE pid = "
      "pg_backend_pid()), 0 FROM events_id_seq RETURNING pid",
      {});
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  const std::string pid = reg->Text(0, 0);

  auto second = store->IngestReport(Envelope("r2", "b", 3), {});
  ASSERT_TRUE(second.ok()) << second.status().message();
  auto page = Page(*store, std::nullopt, 100);
  ASSERT_TRUE(page.ok());
  // r2's events are stored but not visible: the live horizon is below them.
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(page->back().id, first->first_event_id + 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM events"), (Rows{{"5"}}));

  // The other collector dies without finishing its ingest.
  other->reset();
  for (int i = 0; i < 500; ++i) {
    if (Sql("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == Rows{{"0"}}) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The next read removes the horizon of the session that is gone, and
  // sees r2 in its place.
  page = Page(*store, std::nullopt, 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ(page->at(2).id, second->first_event_id);
  EXPECT_EQ(Sql("SELECT count(*) FROM ingest_horizons"), (Rows{{"0"}}));

  auto third = store->IngestReport(Envelope("r3", "a", 1), {});
  ASSERT_TRUE(third.ok()) << third.status().message();
  page = Page(*store, std::nullopt, 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 6u);
  EXPECT_EQ(page->at(2).id, second->first_event_id);
  EXPECT_EQ(page->back().id, third->first_event_id);
  EXPECT_EQ(Sql("SELECT count(*) FROM ingest_horizons"), (Rows{{"0"}}));
}

// A report that fails (an unknown host) or is a duplicate leaves no
// horizon behind.
TEST_F(IngestHorizonTest, FailedAndDuplicateIngestsLeaveNoHorizon) {
  auto store = Open(2);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->EnrollHost("a", "", "1", "ta", 1, "").ok());
  EXPECT_EQ(store->IngestReport(Envelope("r1", "nobody", 2), {}).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store->IngestReport(Envelope("r2", "a", 2), {}).ok());
  auto dup = store->IngestReport(Envelope("r2", "a", 2), {});
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(Sql("SELECT count(*) FROM ingest_horizons"), (Rows{{"0"}}));
  auto page = Page(*store, std::nullopt, 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->size(), 2u);
}

}  // namespace
}  // namespace driftwatch::collector
