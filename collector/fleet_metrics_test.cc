#include "collector/fleet_metrics.h"

#include <gtest/gtest.h>

namespace driftwatch::collector {
namespace {

constexpr int64_t kSec = 1000000000;
constexpr int64_t kNow = 1796432523 * kSec;

HostRecord Host(const std::string& id, const std::string& group, int64_t report_age_s,
                int64_t events, const std::string& summary = "") {
  HostRecord h;
  h.id = id;
  h.group = group;
  h.last_report_ns = report_age_s < 0 ? 0 : kNow - report_age_s * kSec;
  h.interval_ns = 60 * kSec;  // silent after 180 s
  h.last_report_events = events;
  h.last_summary_json = summary;
  return h;
}

TEST(FleetFiguresTest, StatesOpenDriftAndNewestReportByGroup) {
  const std::vector<HostRecord> hosts = {
      Host("web-1", "web", 10, 0),
      Host("web-2", "web", 30, 3,
           R"({"events":3,"severities":{"low":0,"medium":1,"high":2,"critical":0}})"),
      Host("web-3", "web", 600, 1,
           R"({"events":1,"severities":{"low":0,"medium":0,"high":0,"critical":1}})"),
      Host("db-1", "db", -1, 0),
      Host("db-2", "db", 5, 2, "not json"),
  };
  const auto g = FleetFigures(hosts, kNow, 7200 * kSec);
  ASSERT_EQ(g.size(), 2u);
  const GroupFigures& web = g.at("web");
  EXPECT_EQ(web.ok, 1);
  EXPECT_EQ(web.drifted, 1);
  EXPECT_EQ(web.silent, 1);
  EXPECT_EQ(web.open_drift, (std::array<int64_t, 4>{0, 1, 2, 1}));
  EXPECT_EQ(web.newest_report_ns, kNow - 10 * kSec);
  const GroupFigures& db = g.at("db");
  EXPECT_EQ(db.ok, 0);
  EXPECT_EQ(db.drifted, 1);
  EXPECT_EQ(db.silent, 1);
  EXPECT_EQ(db.open_drift, (std::array<int64_t, 4>{}));

  MetricsText t;
  RenderFleetMetrics(g, kNow, &t);
  const std::string text = t.Take();
  for (const char* line : {"driftwatch_fleet_hosts{group=\"web\",state=\"silent\"} 1\n",
                           "driftwatch_fleet_hosts{group=\"db\",state=\"ok\"} 0\n",
                           "driftwatch_fleet_open_drift{group=\"web\",severity=\"high\"} 2\n",
                           "driftwatch_fleet_open_drift{group=\"web\",severity=\"critical\"} 1\n",
                           "driftwatch_fleet_newest_report_age_seconds{group=\"web\"} 10\n",
                           "driftwatch_fleet_newest_report_age_seconds{group=\"db\"} 5\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

TEST(FleetFiguresTest, GroupsBeyondTheCapAreSummedAsOther) {
  std::vector<HostRecord> hosts;
  for (size_t i = 0; i < kMaxGroups + 5; ++i) {
    hosts.push_back(Host("h" + std::to_string(i), "g" + std::to_string(i), 1, 0));
  }
  const auto g = FleetFigures(hosts, kNow, 7200 * kSec);
  EXPECT_EQ(g.size(), kMaxGroups + 1);
  EXPECT_EQ(g.at("(other)").ok, 5);
}

}  // namespace
}  // namespace driftwatch::collector
