// Realtime reports on both FleetStore backends: their events join the
// host's history (with the actor, transient and time kept beside the body
// for the filters) while the host keeps its last check as its state.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/drift_json.h"
#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

class StoreRealtimeTest : public BothStoresTest {
 protected:
  void Seed() override { ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", 1, "").ok()); }

  static Actor ActorOf(const std::string& exe, int64_t pid, int64_t uid) {
    Actor a;
    a.pid = pid;
    a.exe = exe;
    a.uid = uid;
    a.euid = uid;
    a.login = "alice";
    return a;
  }
  static DriftEvent Event(const std::string& path, Severity sev) {
    DriftEvent e;
    e.path = path;
    e.kind = DriftKind::kModified;
    e.severity = sev;
    e.rule = "/etc/**";
    return e;
  }
  static ReportEnvelope Envelope(const std::string& id, std::vector<DriftEvent> events, int64_t t,
                                 bool realtime) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = "h";
    env.agent_version = realtime ? "1.1" : "1.0";
    env.sent_ns = t - 5;
    env.received_ns = t;
    env.result.target = realtime ? "" : "h.example";
    env.result.baseline = "default";
    env.result.baseline_revision = realtime ? 0 : 1;
    env.result.started_ns = t - 10;
    env.result.finished_ns = t;
    if (realtime) env.result.source = "realtime";
    for (const DriftEvent& e : events) {
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    env.total_events = static_cast<int64_t>(events.size());
    env.summary_json = "{\"events\":" + std::to_string(events.size()) + "}";
    return env;
  }
  std::vector<std::string> Paths(const DriftQuery& q) {
    auto r = store_->QueryDrift(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const EventRecord& e : *r) {
      out.push_back(web::json::value::parse(e.event_json)["path"].as_string());
    }
    return out;
  }
};

TEST_P(StoreRealtimeTest, RealtimeReportAddsEventsButKeepsTheLastCheck) {
  ReportEnvelope check = Envelope("c1", {Event("/etc/a", Severity::kHigh)}, 1000, false);
  check.result.root = Hash128{7, 8};
  check.result.subtrees = {{"/etc", Hash128{1, 2}}};
  const std::vector<AlertRoute> routes = {{"pager", Severity::kHigh, {}}};
  ASSERT_TRUE(store_->IngestReport(check, routes).ok());
  const HostRecord before = *store_->GetHost("h");

  DriftEvent rt = Event("/etc/b", Severity::kCritical);
  rt.time_ns = 1500;
  rt.actor = ActorOf("/usr/bin/vim", 4242, 1000);
  auto r = store_->IngestReport(Envelope("rt1", {rt, Event("/etc/c", Severity::kLow)}, 2000, true),
                                routes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 2);

  auto h = store_->GetHost("h");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->last_seen_ns, 2000);  // the agent was heard from
  EXPECT_EQ(h->reports, 2);
  EXPECT_EQ(h->events, 3);
  // The last check is still the host's state.
  EXPECT_EQ(h->last_report_ns, before.last_report_ns);
  EXPECT_EQ(h->target, "h.example");
  EXPECT_EQ(h->baseline, "default");
  EXPECT_EQ(h->baseline_revision, 1);
  EXPECT_EQ(h->baseline_since_ns, before.baseline_since_ns);
  EXPECT_EQ(h->root, (Hash128{7, 8}));
  EXPECT_EQ(h->subtrees, before.subtrees);
  EXPECT_EQ(h->last_report_events, 1);
  EXPECT_EQ(h->last_summary_json, "{\"events\":1}");

  // The events are in the history, the body as received.
  auto events = store_->PathHistory("/etc/b", {});
  ASSERT_TRUE(events.ok()) << events.status().message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].detected_ns, 2000);
  EXPECT_EQ((*events)[0].event_json, DriftEventToJson(rt).serialize());
  // Alerts fire for realtime events as for a check's.
  auto due = store_->DueAlerts(3000, 10);
  ASSERT_TRUE(due.ok()) << due.status().message();
  ASSERT_EQ(due->size(), 2u);  // the check's high event and the realtime critical one
  EXPECT_EQ((*due)[1].event.event_json, DriftEventToJson(rt).serialize());

  // The next check replaces the state as before.
  ASSERT_TRUE(store_->IngestReport(Envelope("c2", {}, 4000, false), {}).ok());
  h = store_->GetHost("h");
  EXPECT_EQ(h->last_report_ns, 4000);
  EXPECT_EQ(h->last_report_events, 0);
  EXPECT_EQ(h->root, Hash128());
}

TEST_P(StoreRealtimeTest, ActorAndTransientFiltersReturnExactlyTheMatchingEvents) {
  DriftEvent vim = Event("/etc/vim", Severity::kMedium);
  vim.actor = ActorOf("/usr/bin/vim", 10, 1000);
  DriftEvent root_vim = Event("/etc/root-vim", Severity::kMedium);
  root_vim.actor = ActorOf("/usr/bin/vim", 11, 0);
  DriftEvent odd = Event("/etc/odd", Severity::kMedium);
  odd.actor = ActorOf("/opt/my tool\n", 12, 1000);
  DriftEvent flip = Event("/etc/flip", Severity::kMedium);
  flip.actor = ActorOf("/usr/bin/sed", 13, 1000);
  flip.transient = true;
  flip.reverted_by = ActorOf("/usr/bin/cp", 14, 0);
  DriftEvent unknown = Event("/etc/unknown", Severity::kMedium);
  Actor gone;
  gone.pid = 15;
  gone.exited = true;
  unknown.actor = gone;
  ASSERT_TRUE(
      store_->IngestReport(Envelope("c1", {Event("/etc/check", Severity::kLow)}, 100, false), {})
          .ok());
  ASSERT_TRUE(
      store_->IngestReport(Envelope("rt1", {vim, root_vim, odd, flip, unknown}, 200, true), {})
          .ok());

  DriftQuery q;
  q.page.newest_first = false;
  using V = std::vector<std::string>;
  EXPECT_EQ(Paths(q), (V{"/etc/check", "/etc/vim", "/etc/root-vim", "/etc/odd", "/etc/flip",
                         "/etc/unknown"}));
  q.actor_exe = "/usr/bin/vim";
  EXPECT_EQ(Paths(q), (V{"/etc/vim", "/etc/root-vim"}));
  q.actor_uid = 1000;
  EXPECT_EQ(Paths(q), (V{"/etc/vim"}));
  q.actor_exe = "/opt/my tool\\n";  // the escaped form of the wire
  EXPECT_EQ(Paths(q), (V{"/etc/odd"}));
  q.actor_exe.clear();
  EXPECT_EQ(Paths(q), (V{"/etc/vim", "/etc/odd", "/etc/flip"}));
  q.actor_uid = 0;  // the reverting process is not the actor
  EXPECT_EQ(Paths(q), (V{"/etc/root-vim"}));
  q.actor_uid.reset();
  q.transient = true;
  EXPECT_EQ(Paths(q), (V{"/etc/flip"}));
  q.transient = false;
  EXPECT_EQ(Paths(q), (V{"/etc/check", "/etc/vim", "/etc/root-vim", "/etc/odd", "/etc/unknown"}));
  q.transient.reset();
  q.actor_exe = "/usr/bin/nano";
  EXPECT_EQ(Paths(q), V{});
  // Paging with a filter: one event a page, in order.
  q.actor_exe = "/usr/bin/vim";
  q.page.limit = 1;
  auto first = store_->QueryDrift(q);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  q.page.after = EventKey{(*first)[0].detected_ns, (*first)[0].id};
  EXPECT_EQ(Paths(q), (V{"/etc/root-vim"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreRealtimeTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace driftwatch::collector
