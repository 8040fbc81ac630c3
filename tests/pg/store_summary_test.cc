// The fleet summary on both stores: counts over every host computed
// without the host list, the list in pages by id, and the hosts that want
// attention, each checked against IsSilent and the hosts' own records.
#include <gtest/gtest.h>

#include "core/drift_json.h"
#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

constexpr int64_t kSec = 1000000000LL;
constexpr int64_t kNow = 100000 * kSec;
constexpr int64_t kSilentAfter = 7200 * kSec;

class StoreSummaryTest : public BothStoresTest {
 protected:
  // Hosts in a different order than their ids, each in one state:
  //   quiet-*: reported 60 s ago without drift, no interval said
  //   drift-1: reported with an event
  //   never-1: never reported (silent)
  //   late-1: said a 100 s interval, reported 301 s ago (silent: > 3 x)
  //   edge-1: said a 100 s interval, reported 300 s ago (not silent)
  //   old-1: no interval, reported 7201 s ago (silent)
  //   refused-1: a refused report, otherwise quiet
  void Seed() override {
    for (const char* id : {"quiet-b", "drift-1", "never-1", "late-1", "quiet-a", "edge-1", "old-1",
                           "refused-1", "quiet-c"}) {
      ASSERT_TRUE(store_->EnrollHost(id, "web", "1", std::string("sha-") + id, 1, "").ok());
    }
    Report("quiet-a", kNow - 60 * kSec, 0, 0);
    Report("quiet-b", kNow - 60 * kSec, 0, 0);
    Report("quiet-c", kNow - 60 * kSec, 0, 0);
    Report("drift-1", kNow - 60 * kSec, 0, 1);
    Report("late-1", kNow - 301 * kSec, 100 * kSec, 0);
    Report("edge-1", kNow - 300 * kSec, 100 * kSec, 0);
    Report("old-1", kNow - 7201 * kSec, 0, 0);
    Report("refused-1", kNow - 60 * kSec, 0, 0);
    ASSERT_TRUE(store_->RecordRefusedReport("refused-1", "too large", kNow).ok());
    ASSERT_TRUE(store_->RecordRefusedReport("refused-1", "too large", kNow).ok());
  }

  void Report(const std::string& host, int64_t t, int64_t interval_ns, int events) {
    ReportEnvelope env;
    env.report_id = "r-" + host;
    env.host_id = host;
    env.agent_version = "1";
    env.received_ns = t;
    env.result.target = host;
    env.result.baseline = "default";
    env.result.finished_ns = t;
    env.result.interval_ns = interval_ns;
    for (int i = 0; i < events; ++i) {
      DriftEvent e;
      e.path = "/etc/f" + std::to_string(i);
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    env.total_events = events;
    auto r = store_->IngestReport(env, {});
    ASSERT_TRUE(r.ok()) << host << ": " << r.status().message();
  }

  static std::vector<std::string> Ids(const FleetSummary& s) {
    std::vector<std::string> out;
    for (const HostRecord& h : s.host_list) out.push_back(h.id);
    return out;
  }
};

TEST_P(StoreSummaryTest, CountsCoverEveryHostWhateverThePage) {
  auto hosts = store_->ListHosts();
  ASSERT_TRUE(hosts.ok()) << hosts.status().message();
  int64_t drifted = 0, silent = 0, refused_hosts = 0, refused = 0;
  for (const HostRecord& h : *hosts) {
    drifted += h.last_report_events > 0;
    silent += IsSilent(h, kNow, kSilentAfter);
    refused_hosts += h.reports_refused > 0;
    refused += h.reports_refused;
  }
  EXPECT_EQ(drifted, 1);
  EXPECT_EQ(silent, 3);  // never-1, late-1, old-1
  for (int limit : {0, 1, 4, 1000}) {
    HostListPage page;
    page.limit = limit;
    auto s = store_->Summary(kNow, kSilentAfter, page);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->hosts, 9) << limit;
    EXPECT_EQ(s->drifted_hosts, drifted) << limit;
    EXPECT_EQ(s->silent_hosts, silent) << limit;
    EXPECT_EQ(s->refused_hosts, 1) << limit;
    EXPECT_EQ(s->reports_refused, 2) << limit;
    EXPECT_EQ(refused_hosts, 1);
    EXPECT_EQ(refused, 2);
    EXPECT_EQ(s->host_list.size(), std::min<size_t>(limit, 9)) << limit;
    EXPECT_EQ(s->more, limit > 0 && limit < 9) << limit;
  }
}

TEST_P(StoreSummaryTest, PagesFollowEachOtherInIdOrder) {
  std::vector<std::string> seen;
  HostListPage page;
  page.limit = 4;
  for (int i = 0; i < 5; ++i) {
    auto s = store_->Summary(kNow, kSilentAfter, page);
    ASSERT_TRUE(s.ok()) << s.status().message();
    for (const HostRecord& h : s->host_list) seen.push_back(h.id);
    if (!s->more) break;
    page.after = s->host_list.back().id;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"drift-1", "edge-1", "late-1", "never-1", "old-1",
                                            "quiet-a", "quiet-b", "quiet-c", "refused-1"}));
  // The records are the hosts' own.
  page = HostListPage{"old-1", 1, false};
  auto s = store_->Summary(kNow, kSilentAfter, page);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(Ids(*s), (std::vector<std::string>{"quiet-a"}));
  auto own = store_->GetHost("quiet-a");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(s->host_list[0].last_report_ns, own->last_report_ns);
  EXPECT_EQ(s->host_list[0].group, "web");
  // After the last id: an empty page.
  page = HostListPage{"refused-1", 10, false};
  s = store_->Summary(kNow, kSilentAfter, page);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->host_list.empty());
  EXPECT_FALSE(s->more);
  EXPECT_EQ(s->hosts, 9);
}

TEST_P(StoreSummaryTest, AttentionListsDriftedSilentAndRefusedHosts) {
  HostListPage page;
  page.limit = 100;
  page.attention = true;
  auto s = store_->Summary(kNow, kSilentAfter, page);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(Ids(*s),
            (std::vector<std::string>{"drift-1", "late-1", "never-1", "old-1", "refused-1"}));
  EXPECT_FALSE(s->more);
  page.limit = 2;
  page.after = "late-1";
  s = store_->Summary(kNow, kSilentAfter, page);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Ids(*s), (std::vector<std::string>{"never-1", "old-1"}));
  EXPECT_TRUE(s->more);
  // A second later edge-1 is silent too (301 s > 3 x 100 s).
  page = HostListPage{"", 100, true};
  s = store_->Summary(kNow + kSec, kSilentAfter, page);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Ids(*s), (std::vector<std::string>{"drift-1", "edge-1", "late-1", "never-1", "old-1",
                                               "refused-1"}));
  EXPECT_EQ(s->silent_hosts, 4);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreSummaryTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace driftwatch::collector
