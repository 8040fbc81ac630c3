#include "report/outbox.h"

#include <cpprest/json.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/drift_json.h"
#include "report/reporter.h"

namespace driftwatch::report {
namespace {

using web::json::value;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_outbox_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    db_ = dir_ + "/agent.db";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  static CheckResult Result(int n_added, int n_modified, int64_t t) {
    CheckResult r;
    r.target = "web-1";
    r.baseline = "default";
    r.baseline_revision = 2;
    r.started_ns = t;
    r.finished_ns = t + 10;
    for (int i = 0; i < n_added + n_modified; ++i) {
      DriftEvent e;
      e.path = "/etc/f" + std::to_string(i);
      e.kind = i < n_added ? DriftKind::kAdded : DriftKind::kModified;
      r.events.push_back(e);
    }
    return r;
  }

  std::string dir_, db_;
};

TEST_F(OutboxTest, QueuesInOrderWithWireBodies) {
  auto o = Outbox::Open(db_);
  ASSERT_TRUE(o.ok()) << o.status().message();
  auto id1 = (*o)->Enqueue(Result(1, 0, 100), 1);
  auto id2 = (*o)->Enqueue(Result(0, 2, 200), 2);
  ASSERT_TRUE(id1.ok() && id2.ok());
  EXPECT_NE(*id1, *id2);
  EXPECT_EQ(id1->size(), 36u);
  EXPECT_EQ((*id1)[14], '4');
  auto pending = (*o)->Pending(10);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].report_id, *id1);
  EXPECT_EQ((*pending)[1].report_id, *id2);
  value body = value::parse((*pending)[0].body);
  EXPECT_EQ(body["format"].as_integer(), 1);
  EXPECT_EQ(body["report_id"].as_string(), *id1);
  EXPECT_EQ(body["agent_version"].as_string(), DRIFTWATCH_VERSION);
  auto decoded = CheckResultFromJson(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->events.size(), 1u);
  value stamped = value::parse(StampReport((*pending)[0].body, "web-1", 1793491200LL * 1000000000));
  EXPECT_EQ(stamped["host_id"].as_string(), "web-1");
  EXPECT_EQ(stamped["sent"].as_string(), "2026-11-01T00:00:00.000000000Z");
  EXPECT_EQ(stamped["report_id"].as_string(), *id1);

  ASSERT_TRUE((*o)->RecordFailure((*pending)[0].seq, 3, 999, "down").ok());
  ASSERT_TRUE((*o)->MarkRejected((*pending)[1].seq, "400").ok());
  EXPECT_EQ(*(*o)->PendingCount(), 1);
  EXPECT_EQ(*(*o)->RejectedCount(), 1);
  pending = (*o)->Pending(10);
  EXPECT_EQ((*pending)[0].attempts, 3);
  EXPECT_EQ((*pending)[0].next_attempt_ns, 999);
  ASSERT_TRUE((*o)->Remove((*pending)[0].seq).ok());
  EXPECT_EQ(*(*o)->PendingCount(), 0);
}

TEST_F(OutboxTest, OverflowSummarisesTheOldestNeverDropsSilently) {
  auto o = Outbox::Open(db_, 4);
  ASSERT_TRUE(o.ok());
  std::vector<std::string> ids;
  const int64_t t0 = 1793491200LL * 1000000000;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(*(*o)->Enqueue(Result(1, i, t0 + i * 1000000000LL), i));
  }
  auto pending = (*o)->Pending(10);
  ASSERT_EQ(pending->size(), 4u);
  // Head: one summary of reports 0..3; then reports 4, 5, 6 in order.
  EXPECT_EQ((*pending)[1].report_id, ids[4]);
  EXPECT_EQ((*pending)[2].report_id, ids[5]);
  EXPECT_EQ((*pending)[3].report_id, ids[6]);
  auto head = CheckResultFromJson(value::parse((*pending)[0].body));
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_TRUE(head->events.empty());
  EXPECT_EQ(head->target, "web-1");
  ASSERT_EQ(head->warnings.size(), 1u);
  EXPECT_EQ(head->warnings[0],
            "outbox-overflow: 4 reports with 10 drift events (4 added, 6 modified, 0 removed, 0 "
            "package) from 2026-11-01T00:00:00.000000000Z to 2026-11-01T00:00:03.000000010Z were "
            "summarised because the outbox holds at most 4 reports");
}

TEST_F(OutboxTest, EnrollmentStateAndQueueWithoutCollector) {
  std::string note;
  auto id = QueueAndDeliver(DefaultHost(), db_, Result(1, 0, 5), &note);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(note,
            "not enrolled with a collector (run driftwatch enroll); report kept in the outbox");
  auto o = Outbox::Open(db_);
  EXPECT_FALSE((*o)->LoadEnrollment()->has_value());
  Enrollment e{"http://127.0.0.1:9", "web-1", "dw_secret", "web", ""};
  ASSERT_TRUE((*o)->SaveEnrollment(e).ok());
  auto back = (*o)->LoadEnrollment();
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->collector, e.collector);
  EXPECT_EQ((*back)->host_id, "web-1");
  EXPECT_EQ((*back)->token, "dw_secret");
  EXPECT_EQ((*back)->group, "web");
  // Nothing listens on port 9: the report stays queued, in order.
  auto id2 = QueueAndDeliver(DefaultHost(), db_, Result(0, 1, 6), &note);
  ASSERT_TRUE(id2.ok());
  EXPECT_EQ(note.rfind("delivered 0 report(s), 2 kept in the outbox (collector http://127.0.0.1:9 "
                       "unreachable: ",
                       0),
            0u)
      << note;
  auto pending = (*o)->Pending(10);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].report_id, *id);
  EXPECT_EQ((*pending)[0].attempts, 1);
  EXPECT_EQ((*pending)[1].report_id, *id2);
}

TEST_F(OutboxTest, ConfirmedTreeIsKeptUntilTheNextEnrollment) {
  auto o = Outbox::Open(db_);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_FALSE((*o)->ConfirmedTree()->has_value());
  const Hash128 root = HashBytes("root");
  ASSERT_TRUE((*o)->SetConfirmedTree(root).ok());
  EXPECT_EQ((*o)->ConfirmedTree()->value_or(Hash128{}), root);
  // Another handle on the same store sees it.
  auto again = Outbox::Open(db_);
  EXPECT_EQ((*again)->ConfirmedTree()->value_or(Hash128{}), root);
  // A new enrollment may be another collector: it forgets the root.
  Enrollment e{"http://127.0.0.1:9", "web-1", "dw_secret", "web", ""};
  ASSERT_TRUE((*o)->SaveEnrollment(e).ok());
  EXPECT_FALSE((*o)->ConfirmedTree()->has_value());
}

TEST_F(OutboxTest, PackageListGoesInFullOnlyWhenItsDigestChanged) {
  auto o = Outbox::Open(db_);
  ASSERT_TRUE(o.ok()) << o.status().message();
  auto with = [](std::vector<PackageInfo> list) {
    CheckResult r = Result(0, 0, 100);
    PackageInventory p;
    p.digest = HashBytes(PackageInventoryText(list));
    p.count = static_cast<int64_t>(list.size());
    p.list = std::move(list);
    r.packages = p;
    return r;
  };
  const std::vector<PackageInfo> v1 = {{"dpkg", "bash", "5.2", "amd64"}};
  const std::vector<PackageInfo> v2 = {{"dpkg", "bash", "5.3", "amd64"}};
  ASSERT_TRUE((*o)->Enqueue(with(v1), 1).ok());
  ASSERT_TRUE((*o)->Enqueue(with(v1), 2).ok());
  ASSERT_TRUE((*o)->Enqueue(with(v2), 3).ok());
  ASSERT_TRUE((*o)->Enqueue(with(v2), 4).ok());
  ASSERT_TRUE((*o)->ForgetPackagesDigest().ok());  // the collector asked for it again
  ASSERT_TRUE((*o)->Enqueue(with(v2), 5).ok());
  ASSERT_TRUE((*o)->Enqueue(Result(0, 0, 100), 6).ok());  // packages not read: none sent
  auto pending = (*o)->Pending(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 6u);
  std::vector<std::string> shapes;
  for (const QueuedReport& q : *pending) {
    value v = value::parse(q.body);
    if (!v.has_field("packages")) {
      shapes.push_back("none");
      continue;
    }
    value p = v.at("packages");
    shapes.push_back((p.has_field("list") ? "full " : "digest ") + p.at("count").serialize());
    auto decoded = CheckResultFromJson(v);
    ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  }
  EXPECT_EQ(shapes, (std::vector<std::string>{"full 1", "digest 1", "full 1", "digest 1", "full 1",
                                              "none"}));
}

// 3,000 high events that cannot fit a 100-event report, behind 500 low ones.
CheckResult Flood() {
  CheckResult r;
  r.target = "web-1";
  r.baseline = "default";
  r.baseline_revision = 2;
  r.started_ns = 100;
  r.finished_ns = 110;
  for (int i = 0; i < 3500; ++i) {
    DriftEvent e;
    e.path = (i < 500 ? "/var/tmp/f" : "/etc/spam/f") + std::to_string(i);
    e.kind = DriftKind::kAdded;
    e.severity = i < 500 ? Severity::kLow : Severity::kHigh;
    r.events.push_back(e);
  }
  return r;
}

TEST_F(OutboxTest, AReportOverTheBudgetIsQueuedAsPartsThenItsHead) {
  auto o = Outbox::Open(db_, kDefaultOutboxMax, ReportBudget{64 << 10, 1000});
  ASSERT_TRUE(o.ok()) << o.status().message();
  auto before = (*o)->Enqueue(Result(1, 0, 50), 1);
  auto head = (*o)->Enqueue(Flood(), 2);
  auto after = (*o)->Enqueue(Result(0, 1, 300), 3);
  ASSERT_TRUE(before.ok() && head.ok() && after.ok());
  auto pending = (*o)->Pending(100);
  ASSERT_TRUE(pending.ok());
  ASSERT_GE(pending->size(), 6u);
  EXPECT_EQ(pending->front().report_id, *before);
  EXPECT_EQ(pending->back().report_id, *after);
  // The head comes right after its parts, and lists or points to every
  // high event; the low ones are folded.
  const auto& h = (*pending)[pending->size() - 2];
  EXPECT_EQ(h.report_id, *head);
  int64_t high = 0;
  for (size_t i = 1; i + 1 < pending->size(); ++i) {
    auto r = CheckResultFromJson(value::parse((*pending)[i].body));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_LE((*pending)[i].body.size(), size_t{64} << 10);
    for (const DriftEvent& e : r->events) high += e.severity == Severity::kHigh;
    if (i + 2 < pending->size()) {
      EXPECT_EQ(r->fold.part_of, *head) << i;
    } else {
      EXPECT_EQ(r->fold.folded.total, 500);
      EXPECT_EQ(r->fold.totals->total, 3500);
      EXPECT_EQ(r->fold.parts, static_cast<int64_t>(pending->size()) - 2);
    }
  }
  EXPECT_EQ(high, 3000);
}

TEST_F(OutboxTest, ShrinkFoldsTheReportAndKeepsPartsAheadOfIt) {
  auto o = Outbox::Open(db_);
  ASSERT_TRUE(o.ok());
  CheckResult r = Flood();
  for (DriftEvent& e : r.events)
    e.severity = e.severity == Severity::kHigh ? Severity::kMedium : e.severity;
  r.events[7].severity = Severity::kCritical;
  auto id = (*o)->Enqueue(r, 1);
  auto later = (*o)->Enqueue(Result(1, 0, 300), 2);
  ASSERT_TRUE(id.ok() && later.ok());
  auto pending = (*o)->Pending(10);
  ASSERT_EQ(pending->size(), 2u);
  const size_t size0 = (*pending)[0].body.size();
  int rounds = 0;
  while (true) {
    auto shrunk = (*o)->Shrink((*o)->Pending(1)->front().seq);
    ASSERT_TRUE(shrunk.ok()) << shrunk.status().message();
    if (!*shrunk) break;
    ASSERT_LT(++rounds, 20);
  }
  EXPECT_GE(rounds, 3);
  pending = (*o)->Pending(10);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].report_id, *id);
  EXPECT_EQ((*pending)[1].report_id, *later);
  EXPECT_LT((*pending)[0].body.size(), size0 / 4);
  auto head = CheckResultFromJson(value::parse((*pending)[0].body));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->fold.totals->total, 3500);
  EXPECT_EQ(head->fold.totals->severities[static_cast<int>(Severity::kCritical)], 1);
  ASSERT_FALSE(head->events.empty());
  bool critical = false;
  for (const DriftEvent& e : head->events) critical |= e.severity == Severity::kCritical;
  EXPECT_TRUE(critical);
}

TEST_F(OutboxTest, ShrinkingAHeadWithTooManyHighEventsSplitsItAheadOfItself) {
  auto o = Outbox::Open(db_);
  ASSERT_TRUE(o.ok());
  auto first = (*o)->Enqueue(Result(1, 0, 50), 1);
  auto id = (*o)->Enqueue(Flood(), 2);
  auto later = (*o)->Enqueue(Result(1, 0, 300), 3);
  ASSERT_TRUE(first.ok() && id.ok() && later.ok());
  auto pending = (*o)->Pending(10);
  ASSERT_EQ(pending->size(), 3u);  // fits the default budget
  auto shrunk = (*o)->Shrink((*pending)[1].seq);
  ASSERT_TRUE(shrunk.ok() && *shrunk) << shrunk.status().message();
  pending = (*o)->Pending(20);
  ASSERT_GE(pending->size(), 4u);
  EXPECT_EQ(pending->front().report_id, *first);
  EXPECT_EQ(pending->back().report_id, *later);
  EXPECT_EQ((*pending)[pending->size() - 2].report_id, *id);
  for (size_t i = 1; i + 2 < pending->size(); ++i) {
    auto p = CheckResultFromJson(value::parse((*pending)[i].body));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->fold.part_of, *id);
  }
  // New reports still queue after everything.
  auto newest = (*o)->Enqueue(Result(1, 0, 400), 4);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ((*o)->Pending(30)->back().report_id, *newest);
}

// What `driftwatch enroll` opens: a missing directory is made 0700 and the
// store 0600 before the token is written into it; an open one is refused.
TEST_F(OutboxTest, AgentOutboxMakesAPrivateStoreAndRefusesAnOpenOne) {
  const std::string db = dir_ + "/state/sub/agent.db";
  auto o = OpenAgentOutbox(DefaultHost(), db);
  ASSERT_TRUE(o.ok()) << o.status().message();
  ASSERT_TRUE((*o)->SaveEnrollment(Enrollment{"http://127.0.0.1:1", "h", "secret", "", ""}).ok());
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/state/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((dir_ + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  o->reset();
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);
  auto refused = OpenAgentOutbox(DefaultHost(), db);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            db +
                ": the store is open to group or others (mode 0644) and the agent store holds "
                "the agent's token: chmod 600 " +
                db);
}

}  // namespace
}  // namespace driftwatch::report
