// FleetStore event order on both stores: pages of the (detected_ns, id)
// order, newest or oldest first, read after or before a key; an event
// delivered late lands in its place; concurrent ingest leaves the pages
// already seen as they were.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/drift_json.h"
#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

class StoreOrderTest : public BothStoresTest {
 protected:
  void Seed() override { ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", 1, "").ok()); }

  // A report of `paths` (one added event each) from a check finished at t.
  static ReportEnvelope Report(const std::string& id, const std::vector<std::string>& paths,
                               int64_t t) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = "h";
    env.agent_version = "1.0";
    env.received_ns = 1000000 + t;  // received in ingest order, whatever was detected
    env.result.target = "h.example";
    env.result.started_ns = t - 1;
    env.result.finished_ns = t;
    for (const std::string& p : paths) {
      DriftEvent e;
      e.path = p;
      e.kind = DriftKind::kAdded;
      e.severity = Severity::kMedium;
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    return env;
  }
  void Ingest(const std::string& id, const std::vector<std::string>& paths, int64_t t) {
    auto r = store_->IngestReport(Report(id, paths, t), {});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  static std::vector<int64_t> Ids(const Result<std::vector<EventRecord>>& r) {
    std::vector<int64_t> ids;
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok()) {
      for (const EventRecord& e : *r) ids.push_back(e.id);
    }
    return ids;
  }
  static EventKey Key(const EventRecord& e) { return {e.detected_ns, e.id}; }
  Result<std::vector<EventRecord>> Page(bool newest_first, std::optional<EventKey> after,
                                        std::optional<EventKey> before, int limit) {
    DriftQuery q;
    q.page.newest_first = newest_first;
    q.page.after = after;
    q.page.before = before;
    q.page.limit = limit;
    return store_->QueryDrift(q);
  }
};

TEST_P(StoreOrderTest, LateReportLandsInItsPlaceByDetectionTime) {
  Ingest("r1", {"/etc/a", "/etc/b"}, 3000);  // ids 1, 2
  Ingest("r2", {"/etc/c"}, 5000);            // id 3
  // Delivered last from an agent's outbox: checked between r1 and r2.
  Ingest("late", {"/etc/a"}, 4000);  // id 4
  EXPECT_EQ(Ids(Page(true, {}, {}, 10)), (std::vector<int64_t>{3, 4, 2, 1}));
  EXPECT_EQ(Ids(Page(false, {}, {}, 10)), (std::vector<int64_t>{1, 2, 4, 3}));
  // The page after r2's event holds the late one first.
  EXPECT_EQ(Ids(Page(true, EventKey{5000, 3}, {}, 2)), (std::vector<int64_t>{4, 2}));
  EventPageQuery newest;
  EXPECT_EQ(Ids(store_->PathHistory("/etc/a", newest)), (std::vector<int64_t>{4, 1}));
  EventPageQuery oldest;
  oldest.newest_first = false;
  EXPECT_EQ(Ids(store_->PathHistory("/etc/a", oldest)), (std::vector<int64_t>{1, 4}));
  // Each event keeps its own detection time in the answer.
  auto all = Page(true, {}, {}, 10);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[1].detected_ns, 4000);
  EXPECT_EQ((*all)[1].report_id, "late");
}

TEST_P(StoreOrderTest, PagingForwardThenBackReturnsTheSamePages) {
  // 11 events over 6 detection times, ties included, ingested out of order.
  Ingest("r1", {"/a1", "/a2"}, 2000);
  Ingest("r2", {"/b1"}, 6000);
  Ingest("r3", {"/c1", "/c2", "/c3"}, 4000);
  Ingest("r4", {"/d1"}, 1000);
  Ingest("r5", {"/e1", "/e2"}, 5000);
  Ingest("r6", {"/f1", "/f2"}, 3000);
  for (bool newest_first : {true, false}) {
    SCOPED_TRACE(newest_first ? "newest first" : "oldest first");
    auto every = Page(newest_first, {}, {}, 100);
    ASSERT_TRUE(every.ok());
    ASSERT_EQ(every->size(), 11u);
    for (size_t i = 1; i < every->size(); ++i) {
      const EventKey a = Key((*every)[i - 1]), b = Key((*every)[i]);
      const bool in_order =
          newest_first
              ? (a.detected_ns > b.detected_ns || (a.detected_ns == b.detected_ns && a.id > b.id))
              : (a.detected_ns < b.detected_ns || (a.detected_ns == b.detected_ns && a.id < b.id));
      EXPECT_TRUE(in_order) << i;
    }
    std::vector<std::vector<int64_t>> forward;
    std::optional<EventKey> after;
    for (int n = 0; n < 10; ++n) {
      auto page = Page(newest_first, after, {}, 3);
      ASSERT_TRUE(page.ok());
      if (page->empty()) break;
      forward.push_back(Ids(page));
      after = Key(page->back());
    }
    ASSERT_EQ(forward.size(), 4u);  // 3 + 3 + 3 + 2
    std::vector<int64_t> joined;
    for (const auto& p : forward) joined.insert(joined.end(), p.begin(), p.end());
    EXPECT_EQ(joined, Ids(every));
    // Back from the last page, each page before the one in hand.
    auto last = Page(newest_first, after, {}, 3);
    ASSERT_TRUE(last.ok());
    EXPECT_TRUE(last->empty());
    std::optional<EventKey> before = Key((*every)[9]);  // first event of the last page
    for (int i = 2; i >= 0; --i) {
      auto page = Page(newest_first, {}, before, 3);
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(Ids(page), forward[i]) << "page " << i;
      if (page->empty()) break;
      before = Key(page->front());
    }
    EXPECT_TRUE(Page(newest_first, {}, before, 3)->empty());
  }
}

TEST_P(StoreOrderTest, ConcurrentIngestDoesNotChangePagesAlreadySeen) {
  for (int i = 0; i < 20; ++i) {
    Ingest("old" + std::to_string(i), {"/old/" + std::to_string(i)}, 1000 + 10 * i);
  }
  auto before_all = Page(true, {}, {}, 1000);
  ASSERT_TRUE(before_all.ok());
  const std::vector<int64_t> existing = Ids(before_all);
  ASSERT_EQ(existing.size(), 20u);
  // A writer keeps reporting newer checks while a reader pages newest first.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 200 && !stop; ++i) {
      auto r = store_->IngestReport(
          Report("new" + std::to_string(i), {"/new/" + std::to_string(i)}, 100000 + i), {});
      if (!r.ok()) break;
      ++written;
    }
  });
  // Each page is read after one more report was stored (waits bounded).
  auto after_ingest = [&](int n) {
    for (int i = 0; i < 2000 && written.load() <= n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  std::vector<std::vector<EventRecord>> seen;
  after_ingest(0);
  auto first = Page(true, {}, {}, 3);
  ASSERT_TRUE(first.ok());
  seen.push_back(*first);
  for (int n = 0; n < 100; ++n) {
    after_ingest(n + 1);
    auto page = Page(true, Key(seen.back().back()), {}, 3);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    seen.push_back(*page);
  }
  stop = true;
  writer.join();
  ASSERT_GT(written.load(), static_cast<int>(seen.size()));
  // Every event that existed before is read exactly once, in order.
  std::vector<int64_t> read;
  for (const auto& p : seen) {
    for (const EventRecord& e : p) read.push_back(e.id);
  }
  EXPECT_EQ(std::set<int64_t>(read.begin(), read.end()).size(), read.size());
  std::vector<int64_t> old_read;
  for (int64_t id : read) {
    if (std::find(existing.begin(), existing.end(), id) != existing.end()) old_read.push_back(id);
  }
  EXPECT_EQ(old_read, existing);
  // Read again now, each page after the first is the page seen, and the
  // page before each is the one seen before it.
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(Ids(Page(true, Key(seen[i - 1].back()), {}, 3)), Ids(seen[i])) << i;
    EXPECT_EQ(Ids(Page(true, {}, Key(seen[i].front()), 3)), Ids(seen[i - 1])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreOrderTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace driftwatch::collector
