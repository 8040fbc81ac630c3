// FleetStore conformance: the same cases run on the SQLite store and on the
// PostgreSQL store (a throw-away cluster, pg_cluster.h), and must give the
// same whole outcomes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "collector/pg_store.h"
#include "collector/sqlite_store.h"
#include "core/drift_json.h"
#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

class StoreConformanceTest : public BothStoresTest {
 protected:
  void Seed() override { ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", 1, "").ok()); }

  static DriftEvent Event(const std::string& path, DriftKind kind, Severity sev) {
    DriftEvent e;
    e.path = path;
    e.kind = kind;
    e.severity = sev;
    e.rule = "/etc/**";
    return e;
  }
  static ReportEnvelope Envelope(const std::string& id, const std::string& host,
                                 std::vector<DriftEvent> events, int64_t t) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = host;
    env.agent_version = "1.0";
    env.sent_ns = t - 5;
    env.received_ns = t;
    env.result.target = host + ".example";
    env.result.baseline = "default";
    env.result.baseline_revision = 1;
    env.result.started_ns = t - 10;
    env.result.finished_ns = t;
    for (const DriftEvent& e : events) {
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    return env;
  }
  static ReportEnvelope Envelope(const std::string& id, std::vector<Severity> sevs, int64_t t) {
    std::vector<DriftEvent> events;
    for (size_t i = 0; i < sevs.size(); ++i) {
      events.push_back(Event("/etc/f" + std::to_string(i), DriftKind::kAdded, sevs[i]));
    }
    return Envelope(id, "h", events, t);
  }
  static std::vector<int64_t> Ids(const Result<std::vector<EventRecord>>& r) {
    std::vector<int64_t> ids;
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok()) {
      for (const EventRecord& e : *r) ids.push_back(e.id);
    }
    return ids;
  }
};

TEST_P(StoreConformanceTest, TokensAndEnrollment) {
  ASSERT_TRUE(store_->AddToken("sha-read", Role::kRead, "", 5, {}).ok());
  auto t = store_->LookupToken("sha-read");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->role, Role::kRead);
  EXPECT_EQ((*t)->host_id, "");
  auto agent = store_->LookupToken("sha-h");
  ASSERT_TRUE(agent.ok() && agent->has_value());
  EXPECT_EQ((*agent)->role, Role::kAgent);
  EXPECT_EQ((*agent)->host_id, "h");
  EXPECT_FALSE(store_->LookupToken("nope")->has_value());
  EXPECT_EQ(store_->EnrollHost("h", "db", "2", "sha-h2", 9, "").code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(store_->LookupToken("sha-h2")->has_value());  // nothing of the refused enrollment
  ASSERT_TRUE(store_->EnrollHost("a\xc3\xa9/b c'\"", "g'1", "2", "sha-x", 9, "").ok());
  auto hosts = store_->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].id, "a\xc3\xa9/b c'\"");  // byte order: 'a' < 'h'
  EXPECT_EQ((*hosts)[0].group, "g'1");
  EXPECT_EQ((*hosts)[1].id, "h");
  EXPECT_EQ(store_->GetHost("ghost").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->TouchHost("h", 50).ok());
  ASSERT_TRUE(store_->TouchHost("h", 40).ok());  // never goes back
  EXPECT_EQ(store_->GetHost("h")->last_seen_ns, 50);
}

TEST_P(StoreConformanceTest, IngestUpdatesHostAndDeduplicates) {
  ReportEnvelope env = Envelope("r1", {Severity::kLow, Severity::kHigh}, 1000);
  env.result.subtrees = {{"/etc", Hash128{1, 2}}, {"/usr/bin", Hash128{3, 4}}};
  env.result.root = Hash128{7, 8};
  auto r = store_->IngestReport(env, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->report_seq, 1);
  EXPECT_EQ(r->first_event_id, 1);
  EXPECT_EQ(r->events, 2);
  EXPECT_EQ(r->received_ns, 1000);

  auto again = store_->IngestReport(Envelope("r1", {Severity::kLow}, 2000), {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->report_seq, 1);
  EXPECT_EQ(again->first_event_id, 1);
  EXPECT_EQ(again->events, 2);
  EXPECT_EQ(again->received_ns, 1000);

  ASSERT_TRUE(store_->EnrollHost("other", "", "1", "sha-o", 1, "").ok());
  auto stolen = store_->IngestReport(Envelope("r1", "other", {}, 3000), {});
  EXPECT_EQ(stolen.status().code(), StatusCode::kAlreadyExists);

  auto empty = store_->IngestReport(Envelope("r2", {}, 4000), {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->report_seq, 2);
  EXPECT_EQ(empty->first_event_id, 0);

  auto h = store_->GetHost("h");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->target, "h.example");
  EXPECT_EQ(h->agent_version, "1.0");
  EXPECT_EQ(h->last_report_ns, 4000);
  EXPECT_EQ(h->last_seen_ns, 4000);
  EXPECT_EQ(h->baseline, "default");
  EXPECT_EQ(h->baseline_revision, 1);
  EXPECT_EQ(h->baseline_since_ns, 990);  // started_ns of the report that switched
  EXPECT_EQ(h->reports, 2);
  EXPECT_EQ(h->events, 2);
  EXPECT_EQ(h->last_report_events, 0);
  EXPECT_EQ(h->root, Hash128());
  EXPECT_TRUE(h->subtrees.empty());
  auto c = store_->Counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hosts, 2);
  EXPECT_EQ(c->reports, 2);
  EXPECT_EQ(c->events, 2);

  ASSERT_TRUE(store_->IngestReport(Envelope("r3", {}, 5000), {}).ok());
  ReportEnvelope sub = Envelope("r4", {}, 6000);
  sub.result.subtrees = env.result.subtrees;
  sub.result.root = env.result.root;
  ASSERT_TRUE(store_->IngestReport(sub, {}).ok());
  h = store_->GetHost("h");
  EXPECT_EQ(h->root, (Hash128{7, 8}));
  ASSERT_EQ(h->subtrees.size(), 2u);
  EXPECT_EQ(h->subtrees[0], (std::pair<std::string, Hash128>("/etc", Hash128{1, 2})));
  EXPECT_EQ(h->subtrees[1], (std::pair<std::string, Hash128>("/usr/bin", Hash128{3, 4})));
}

TEST_P(StoreConformanceTest, QueryDriftFiltersAndPages) {
  ASSERT_TRUE(store_->EnrollHost("db1", "db", "1", "sha-d", 1, "").ok());
  ASSERT_TRUE(
      store_
          ->IngestReport(
              Envelope("r1", "h",
                       {Event("/etc/passwd", DriftKind::kModified, Severity::kHigh),
                        Event("/etc/ssh/sshd_config", DriftKind::kAdded, Severity::kCritical),
                        Event("/usr/bin/ls", DriftKind::kRemoved, Severity::kLow)},
                       1000),
              {})
          .ok());
  ASSERT_TRUE(store_
                  ->IngestReport(Envelope("r2", "db1",
                                          {Event("/etc/passwd", DriftKind::kAdded, Severity::kLow),
                                           Event("/etc/a.b", DriftKind::kAdded, Severity::kMedium)},
                                          2000),
                                 {})
                  .ok());
  DriftQuery all;
  all.page.newest_first = false;
  auto every = store_->QueryDrift(all);
  ASSERT_TRUE(every.ok());
  ASSERT_EQ(every->size(), 5u);
  EXPECT_EQ((*every)[0].host_id, "h");
  EXPECT_EQ((*every)[0].report_id, "r1");
  EXPECT_EQ((*every)[0].detected_ns, 1000);
  EXPECT_EQ((*every)[0].received_ns, 1000);
  EXPECT_EQ(
      (*every)[0].event_json,
      DriftEventToJson(Event("/etc/passwd", DriftKind::kModified, Severity::kHigh)).serialize());
  EXPECT_EQ((*every)[4].report_id, "r2");

  // Newest first (by detection time, then id) unless asked otherwise.
  DriftQuery q;
  q.host = "db1";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5, 4}));
  q = {};
  q.group = "web";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{3, 2, 1}));
  q = {};
  q.path_glob = "/etc/*";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5, 4, 2, 1}));
  q.path_glob = "/etc/?.b";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5}));
  q.path_glob = "/etc/a?b";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5}));
  q.path_glob = "/etc/[a-p]*";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5, 4, 1}));
  q.path_glob = "/etc/[^p]*";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5, 2}));
  q.path_glob = "/ETC/*";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{}));
  q.path_glob = "/etc/[ab";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{}));
  q = {};
  q.kind = DriftKind::kAdded;
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5, 4, 2}));
  q = {};
  q.min_severity = Severity::kHigh;
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{2, 1}));
  q = {};
  q.since_ns = 1000;
  q.until_ns = 2000;
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{3, 2, 1}));
  q.since_ns = 1001;
  q.until_ns.reset();
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5, 4}));
  q = {};
  q.event_id = 4;
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{4}));
  q.host = "h";
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{}));
  // Pages: strictly after or before a key of the order, in that order.
  q = {};
  q.page.limit = 2;
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{5, 4}));
  q.page.after = EventKey{2000, 4};
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{3, 2}));
  q.page.after = EventKey{1000, 2};
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{1}));
  q.page.after.reset();
  q.page.before = EventKey{1000, 2};
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{4, 3}));
  q.page.newest_first = false;
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{1}));
  q.page.before.reset();
  q.page.after = EventKey{1000, 2};
  EXPECT_EQ(Ids(store_->QueryDrift(q)), (std::vector<int64_t>{3, 4}));

  EventPageQuery page;
  EXPECT_EQ(Ids(store_->PathHistory("/etc/passwd", page)), (std::vector<int64_t>{4, 1}));
  page.newest_first = false;
  EXPECT_EQ(Ids(store_->PathHistory("/etc/passwd", page)), (std::vector<int64_t>{1, 4}));
  page.after = EventKey{1000, 1};
  EXPECT_EQ(Ids(store_->PathHistory("/etc/passwd", page)), (std::vector<int64_t>{4}));
  EXPECT_EQ(Ids(store_->PathHistory("/etc/*", EventPageQuery{})), (std::vector<int64_t>{}));

  auto sum = store_->Summary(2500, 1000);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->hosts, 2);
  EXPECT_EQ(sum->drifted_hosts, 2);
  EXPECT_EQ(sum->silent_hosts, 1);  // h reported at 1000, 1500 ago
  ASSERT_EQ(sum->events_by_severity.size(), 4u);
  EXPECT_EQ(sum->events_by_severity[0], (std::pair<Severity, int64_t>(Severity::kLow, 2)));
  EXPECT_EQ(sum->events_by_severity[1], (std::pair<Severity, int64_t>(Severity::kMedium, 1)));
  EXPECT_EQ(sum->events_by_severity[2], (std::pair<Severity, int64_t>(Severity::kHigh, 1)));
  EXPECT_EQ(sum->events_by_severity[3], (std::pair<Severity, int64_t>(Severity::kCritical, 1)));
}

TEST_P(StoreConformanceTest, CommandsHandedOutOnceAndAcked) {
  ASSERT_TRUE(store_->EnrollHost("h2", "web", "1", "sha-2", 1, "").ok());
  ASSERT_TRUE(store_->EnrollHost("d", "db", "1", "sha-3", 1, "").ok());
  auto one = store_->QueueCommand("h", "check-now", 10);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, 1);
  EXPECT_EQ(store_->QueueCommand("ghost", "baseline", 10).status().code(), StatusCode::kNotFound);
  auto group = store_->QueueCommandForGroup("web", "baseline", 20);
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(*group, (std::vector<int64_t>{2, 3}));
  auto every = store_->QueueCommandForGroup("", "baseline", 30);
  EXPECT_EQ(*every, (std::vector<int64_t>{4, 5, 6}));

  auto taken = store_->TakeCommands("h", 100);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 3u);
  EXPECT_EQ((*taken)[0].id, 1);
  EXPECT_EQ((*taken)[0].kind, "check-now");
  EXPECT_EQ((*taken)[0].host_id, "h");
  EXPECT_EQ((*taken)[0].created_ns, 10);
  EXPECT_EQ((*taken)[0].handed_out_ns, 100);
  EXPECT_EQ((*taken)[1].id, 2);
  EXPECT_EQ((*taken)[2].id, 5);  // "" queued d=4, h=5, h2=6 (by id order)
  EXPECT_TRUE(store_->TakeCommands("h", 200)->empty());

  CommandAck ack;
  ack.ok = true;
  ack.detail = "baseline 'default' revision 2";
  ack.baseline = "default";
  ack.baseline_revision = 2;
  ack.baseline_created_ns = 150;
  ack.baseline_root = Hash128{5, 6};
  ASSERT_TRUE(store_->AckCommand("h", 2, ack, 160).ok());
  EXPECT_EQ(store_->AckCommand("h2", 1, ack, 160).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AckCommand("h", 99, ack, 160).code(), StatusCode::kNotFound);
  auto host = store_->GetHost("h");
  EXPECT_EQ(host->baseline, "default");
  EXPECT_EQ(host->baseline_revision, 2);
  EXPECT_EQ(host->baseline_since_ns, 150);
  EXPECT_EQ(host->root, (Hash128{5, 6}));
  EXPECT_EQ(host->last_seen_ns, 160);

  auto list = store_->ListCommands("h");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[1].id, 2);
  EXPECT_EQ((*list)[1].acked_ns, 160);
  EXPECT_TRUE((*list)[1].ok);
  EXPECT_EQ((*list)[1].detail, "baseline 'default' revision 2");
  EXPECT_EQ((*list)[0].acked_ns, 0);
  EXPECT_FALSE((*list)[0].ok);
  EXPECT_EQ(store_->Counts()->pending_commands, 5);
}

// queued -> handed out -> acknowledged once: an ack before the command was
// handed out, or a second ack, is refused and changes nothing.
TEST_P(StoreConformanceTest, CommandAckedOnlyAfterHandOutAndOnlyOnce) {
  ASSERT_EQ(*store_->QueueCommand("h", "baseline", 10), 1);
  CommandAck early;
  early.ok = true;
  early.detail = "too early";
  early.baseline = "forged";
  early.baseline_revision = 9;
  early.baseline_root = Hash128{7, 7};
  Status s = store_->AckCommand("h", 1, early, 20);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.message();
  EXPECT_EQ(s.message(),
            "command 1 has not been handed out yet; poll /api/v1/agents/commands first");
  auto list = store_->ListCommands("h");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].handed_out_ns, 0);
  EXPECT_EQ((*list)[0].acked_ns, 0);
  EXPECT_FALSE((*list)[0].ok);
  EXPECT_EQ((*list)[0].detail, "");
  EXPECT_EQ(store_->GetHost("h")->baseline_revision, 0);
  EXPECT_TRUE(store_->ListBaselines("h")->empty());
  EXPECT_EQ(store_->Counts()->pending_commands, 1);

  // The refused ack did not take the command away from its agent.
  auto taken = store_->TakeCommands("h", 30);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].id, 1);

  CommandAck ack;
  ack.ok = true;
  ack.detail = "baseline 'default' revision 2";
  ack.baseline = "default";
  ack.baseline_revision = 2;
  ack.baseline_created_ns = 35;
  ack.baseline_root = Hash128{5, 6};
  ASSERT_TRUE(store_->AckCommand("h", 1, ack, 40).ok());

  CommandAck again;
  again.ok = false;
  again.detail = "second answer";
  again.baseline = "other";
  again.baseline_revision = 3;
  s = store_->AckCommand("h", 1, again, 50);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.message();
  EXPECT_EQ(s.message(), "command 1 was acknowledged already; an acknowledgement is accepted once");
  s = store_->AckCommand("h", 1, ack, 60);  // the same answer again is refused too
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.message();
  EXPECT_EQ(store_->AckCommand("h", 2, ack, 60).code(), StatusCode::kNotFound);

  list = store_->ListCommands("h");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].handed_out_ns, 30);
  EXPECT_EQ((*list)[0].acked_ns, 40);
  EXPECT_TRUE((*list)[0].ok);
  EXPECT_EQ((*list)[0].detail, "baseline 'default' revision 2");
  auto host = store_->GetHost("h");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->baseline, "default");
  EXPECT_EQ(host->baseline_revision, 2);
  EXPECT_EQ(host->baseline_since_ns, 35);
  EXPECT_EQ(host->root, (Hash128{5, 6}));
  EXPECT_EQ(host->last_seen_ns, 40);
  auto revs = store_->ListBaselines("h");
  ASSERT_TRUE(revs.ok());
  ASSERT_EQ(revs->size(), 1u);
  EXPECT_EQ((*revs)[0].revision, 2);
  EXPECT_EQ(store_->Counts()->pending_commands, 0);
}

TEST_P(StoreConformanceTest, AlertsQueuedOncePerEventAndRoute) {
  std::vector<AlertRoute> routes = {{"ops", Severity::kHigh, {}}, {"db", Severity::kLow, {"db"}}};
  auto r = store_->IngestReport(
      Envelope("r1", {Severity::kLow, Severity::kHigh, Severity::kCritical}, 100), routes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto again = store_->IngestReport(
      Envelope("r1", {Severity::kLow, Severity::kHigh, Severity::kCritical}, 200), routes);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  auto due = store_->DueAlerts(1000, 100);
  ASSERT_TRUE(due.ok()) << due.status().message();
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].route, "ops");
  EXPECT_EQ((*due)[0].event_id, 2);
  EXPECT_EQ((*due)[0].attempts, 0);
  EXPECT_EQ((*due)[0].event.host_id, "h");
  EXPECT_EQ((*due)[0].event.report_id, "r1");
  EXPECT_EQ((*due)[0].event.detected_ns, 100);
  EXPECT_EQ((*due)[1].event_id, 3);
  EXPECT_EQ(store_->Counts()->pending_alerts, 2);
  ASSERT_TRUE(store_->RescheduleAlert((*due)[0].id, 1, 5000, "refused").ok());
  ASSERT_TRUE(store_->MarkAlertDelivered((*due)[1].id, 1000).ok());
  EXPECT_EQ(store_->DueAlerts(1000, 100)->size(), 0u);
  auto later = store_->DueAlerts(5000, 100);
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].attempts, 1);
  EXPECT_EQ(store_->Counts()->pending_alerts, 1);
}

TEST_P(StoreConformanceTest, RetentionPrunesOldEventsAndCounts) {
  ASSERT_TRUE(store_
                  ->IngestReport(Envelope("r1", {Severity::kLow, Severity::kHigh}, 100),
                                 {{"ops", Severity::kLow, {}}})
                  .ok());
  ASSERT_TRUE(store_->IngestReport(Envelope("r2", {Severity::kHigh}, 300), {}).ok());
  auto n = store_->PruneEvents(200, 1000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(Ids(store_->QueryDrift(DriftQuery{})), (std::vector<int64_t>{3}));
  auto sum = store_->Summary(300, 1000);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->events_by_severity[0].second, 0);  // low
  EXPECT_EQ(sum->events_by_severity[2].second, 1);  // high
  EXPECT_EQ(store_->Counts()->events, 1);
  EXPECT_EQ(store_->Counts()->pending_alerts, 0);
  EXPECT_EQ(*store_->PruneEvents(200, 1000), 0);
}

TEST_P(StoreConformanceTest, UnknownHostStoresNothing) {
  ReportEnvelope env = Envelope("r9", {Severity::kLow}, 100);
  env.host_id = "ghost";
  auto r = store_->IngestReport(env, {});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Counts()->reports, 0);
  EXPECT_EQ(store_->Counts()->events, 0);
  EXPECT_TRUE(store_->QueryDrift(DriftQuery{})->empty());
}

TEST_P(StoreConformanceTest, ReportSummaryAndRefusalsAreKeptPerHost) {
  // A folded report: 2 events listed of a check of 5000.
  ReportEnvelope env = Envelope("r1", {Severity::kCritical, Severity::kMedium}, 100);
  env.total_events = 5000;
  env.summary_json = R"({"events":5000,"listed":2,"folded":4998})";
  auto r = store_->IngestReport(env, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 2);
  auto h = store_->GetHost("h");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->events, 2);
  EXPECT_EQ(h->last_report_events, 5000);
  EXPECT_EQ(h->last_summary_json, env.summary_json);
  EXPECT_EQ(h->reports_refused, 0);
  EXPECT_EQ(h->last_refused_ns, 0);
  EXPECT_EQ(store_->Counts()->events, 2);
  // Refusals count up and keep the latest reason; unknown hosts are kNotFound.
  ASSERT_TRUE(store_->RecordRefusedReport("h", "invalid: events[0].kind", 200).ok());
  ASSERT_TRUE(store_->RecordRefusedReport("h", "too_large: over 8388608 bytes", 300).ok());
  EXPECT_EQ(store_->RecordRefusedReport("ghost", "x", 300).code(), StatusCode::kNotFound);
  h = store_->GetHost("h");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->reports_refused, 2);
  EXPECT_EQ(h->last_refused_ns, 300);
  EXPECT_EQ(h->last_refused_reason, "too_large: over 8388608 bytes");
  EXPECT_EQ(h->last_summary_json, env.summary_json);
  // The next report replaces the summary and keeps the refusals.
  ReportEnvelope next = Envelope("r2", {Severity::kLow}, 400);
  next.total_events = 1;
  next.summary_json = R"({"events":1,"listed":1,"folded":0})";
  ASSERT_TRUE(store_->IngestReport(next, {}).ok());
  auto list = store_->ListHosts();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].last_report_events, 1);
  EXPECT_EQ((*list)[0].last_summary_json, next.summary_json);
  EXPECT_EQ((*list)[0].reports_refused, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace driftwatch::collector
