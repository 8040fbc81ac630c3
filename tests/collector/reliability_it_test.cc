// Faults between agent and collector (docs/reliability.md, "Faults"):
//  - the collector's database disk is full: ingest answers 503 with a JSON
//    error, nothing is half-stored, the agent keeps the report, and it is
//    stored exactly once when space returns;
//  - a collector that answers 500, or accepts connections and never answers:
//    the agent's requests are bounded by a timeout, retries back off
//    exponentially, the outbox keeps everything, and a real collector later
//    gets every report once and in order;
//  - clocks that jump backwards, on the agent (retry schedule, outbox order)
//    and in the reports the collector receives (stored, ordered by the
//    received sequence, /drift paging intact).
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>

#include "report/client.h"
#include "report/outbox.h"
#include "report/reporter.h"
#include "tests/collector/agent_outbox.h"
#include "tests/collector/fake_collector.h"
#include "tests/collector/harness.h"
#include "tests/hostile/agent_runner.h"
#include "tests/testing/full_disk.h"

namespace driftwatch::collector_it {
namespace {

using report::CollectorClient;
using report::DeliveryOptions;
using report::Enrollment;
using report::Outbox;
using testutil::FillDisk;
using testutil::Tmpfs;

constexpr int64_t kSec = 1000000000;
constexpr int64_t kT0 = kNov1Ns;

// Enrolls `host` with a running collector and stores the enrollment in the
// agent database at `agent_db`, as `driftwatch enroll` would.
Enrollment EnrollAgent(Collector& c, const std::string& host, const std::string& agent_db) {
  Enrollment e;
  e.collector = c.url();
  e.host_id = host;
  e.token = c.EnrollApi(c.Token("enroll"), host);
  auto outbox = Outbox::Open(agent_db);
  EXPECT_TRUE(outbox.ok()) << outbox.status().message();
  if (outbox.ok()) {
    EXPECT_TRUE((*outbox)->SaveEnrollment(e).ok());
  }
  return e;
}

TEST(CollectorReliabilityTest, Answer500BacksOffKeepsOutboxAndDeliversOnceInOrder) {
  TempDir dir;
  const int port = FreePort();
  Collector c(dir);
  ASSERT_TRUE(c.Start(port)) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string agent_db = dir / "agent.db";
  const Enrollment e = EnrollAgent(c, "agent-1", agent_db);
  ASSERT_FALSE(e.token.empty());
  ASSERT_EQ(c.Stop(), 0);

  auto outbox = Outbox::Open(agent_db);
  ASSERT_TRUE(outbox.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = (*outbox)->Enqueue(Numbered("agent-1", i), kT0 + i);
    ASSERT_TRUE(id.ok()) << id.status().message();
    ids.push_back(*id);
  }

  FakeCollector fake(FakeCollector::Mode::kAnswer500, port);
  ASSERT_TRUE(fake.ok()) << "cannot listen on port " << port;
  CollectorClient client(e.collector, e.token, "", 2000);
  DeliveryOptions opts;
  opts.respect_backoff = true;
  opts.max_backoff_ns = 8 * kSec;
  const int64_t expected_backoff[] = {1, 2, 4, 8, 8};
  int64_t now = kT0 + 100 * kSec;
  for (int attempt = 1; attempt <= 5; ++attempt) {
    auto out = report::DeliverOutbox(DefaultHost(), **outbox, client, e, opts, now);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->sent, 0);
    EXPECT_EQ(out->rejected, 0);
    EXPECT_EQ(out->remaining, 5);
    EXPECT_EQ(out->error.code(), StatusCode::kUnavailable);
    EXPECT_NE(out->error.message().find("collector answered 500: injected failure"),
              std::string::npos)
        << out->error.message();
    // Only the head of the queue is tried: delivery stops at the first failure.
    EXPECT_EQ(fake.requests(), attempt);
    auto pending = (*outbox)->Pending(10);
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(pending->size(), 5u);
    const report::QueuedReport& head = (*pending)[0];
    EXPECT_EQ(head.report_id, ids[0]);
    EXPECT_EQ(head.attempts, attempt);
    EXPECT_EQ(head.next_attempt_ns, now + expected_backoff[attempt - 1] * kSec);
    for (int i = 1; i < 5; ++i) EXPECT_EQ((*pending)[i].attempts, 0);
    // One nanosecond before the retry is due nothing is sent.
    auto early =
        report::DeliverOutbox(DefaultHost(), **outbox, client, e, opts, head.next_attempt_ns - 1);
    ASSERT_TRUE(early.ok());
    EXPECT_EQ(early->error.code(), StatusCode::kUnavailable);
    EXPECT_EQ(early->error.message().rfind("backing off until ", 0), 0u);
    EXPECT_EQ(fake.requests(), attempt);
    now = head.next_attempt_ns;
  }

  // The wall clock is set back by an hour: a retry scheduled under the old
  // clock (further away than the longest backoff) is due at once, and the
  // next one is scheduled from the new clock.
  now -= 3600 * kSec;
  auto jumped = report::DeliverOutbox(DefaultHost(), **outbox, client, e, opts, now);
  ASSERT_TRUE(jumped.ok());
  EXPECT_EQ(fake.requests(), 6);
  auto pending = (*outbox)->Pending(10);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ((*pending)[0].attempts, 6);
  EXPECT_EQ((*pending)[0].next_attempt_ns, now + 8 * kSec);
  auto soon = report::DeliverOutbox(DefaultHost(), **outbox, client, e, opts, now + kSec);
  ASSERT_TRUE(soon.ok());
  EXPECT_EQ(fake.requests(), 6) << "a retry inside the backoff after the jump";
  fake.Stop();

  // A collector that accepts and never answers: the request ends at the
  // client's timeout, and the report stays queued.
  FakeCollector hang(FakeCollector::Mode::kHang, port);
  ASSERT_TRUE(hang.ok());
  CollectorClient impatient(e.collector, e.token, "", 500);
  const auto t0 = std::chrono::steady_clock::now();
  auto hung = report::DeliverOutbox(DefaultHost(), **outbox, impatient, e, DeliveryOptions{}, now);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(hung.ok());
  EXPECT_EQ(hung->sent, 0);
  EXPECT_EQ(hung->remaining, 5);
  EXPECT_EQ(hung->error.code(), StatusCode::kUnavailable);
  EXPECT_GE(hang.connections(), 1);
  EXPECT_LT(secs, 5.0) << "a hanging collector held the agent for " << secs << " s";
  hang.Stop();

  // The real collector is back: everything is delivered once, in order.
  ASSERT_TRUE(c.Start(port)) << testutil::Run("cat " + Q(c.log())).out;
  CollectorClient real(e.collector, e.token);
  auto done = report::DeliverOutbox(DefaultHost(), **outbox, real, e, DeliveryOptions{}, now);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->sent, 5);
  EXPECT_EQ(done->remaining, 0);
  EXPECT_TRUE(done->error.ok()) << done->error.message();
  std::vector<value> events = AllDrift(c, read, "host=agent-1");
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(ReportIdsOf(events), ids);
  ExpectAscendingIds(events);
  value host = c.Get("/api/v1/hosts/agent-1", read).json();
  EXPECT_EQ(host.at("reports").as_integer(), 5);
  EXPECT_EQ(c.Stop(), 0);
}

TEST(CollectorReliabilityTest, OutboxOrderIgnoresTheClock) {
  TempDir dir;
  auto outbox = Outbox::Open(dir / "agent.db");
  ASSERT_TRUE(outbox.ok());
  // Queue times go backwards (the clock was set back between checks).
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = (*outbox)->Enqueue(Numbered("agent-1", i), kT0 - i * 3600 * kSec);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  auto pending = (*outbox)->Pending(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*pending)[i].report_id, ids[i]);
    EXPECT_EQ((*pending)[i].created_ns, kT0 - i * 3600 * kSec);
  }
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), 4u) << "report ids do not depend on the clock";
}

TEST(CollectorReliabilityTest, ReportTimesGoingBackwardsAreStoredInReceivedOrder) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string agent = c.EnrollApi(c.Token("enroll"), "clock-1");
  ASSERT_FALSE(agent.empty());
  constexpr int kReports = 12;
  constexpr int kEvents = 3;
  std::vector<std::string> ids;
  int64_t last_sequence = 0;
  for (int n = 0; n < kReports; ++n) {
    std::vector<DriftEvent> ev;
    for (int i = 0; i < kEvents; ++i) {
      ev.push_back(Added("/etc/clock/r" + std::to_string(n) + "-" + std::to_string(i)));
    }
    // Each report finished an hour before the previous one.
    const int64_t finished = kT0 - int64_t{n} * 3600 * kSec;
    ids.push_back(Uuid(500 + n));
    Answer a = Http("POST", c.url() + "/api/v1/reports", agent,
                    ReportJson(ids.back(), "clock-1", ev, finished));
    ASSERT_EQ(a.status, 200) << a.body;
    const int64_t seq = a.json().at("sequence").as_number().to_int64();
    EXPECT_GT(seq, last_sequence);
    last_sequence = seq;
  }
  // Paged in pieces of 5, newest check first (the default order): every
  // event once, and here in the order the reports were received.
  std::vector<value> events;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    Answer a = c.Get("/api/v1/drift?host=clock-1&limit=5" +
                         (cursor.empty() ? std::string() : "&cursor=" + cursor),
                     read);
    ASSERT_EQ(a.status, 200) << a.body;
    value v = a.json();
    EXPECT_LE(v.at("events").size(), 5u);
    for (const value& e : v.at("events").as_array()) events.push_back(e);
    if (v.at("next_cursor").is_null()) break;
    cursor = v.at("next_cursor").as_string();
  }
  ASSERT_EQ(events.size(), static_cast<size_t>(kReports * kEvents));
  EXPECT_EQ(ReportIdsOf(events), ids);
  for (size_t i = 1; i < events.size(); ++i) {
    // One check's events share its finish time; the later id comes first.
    const value& a = events[i - 1];
    const value& b = events[i];
    if (a.at("report_id").as_string() == b.at("report_id").as_string()) {
      EXPECT_GT(a.at("id").as_number().to_int64(), b.at("id").as_number().to_int64());
    }
  }
  for (int n = 0; n < kReports; ++n) {
    EXPECT_EQ(events[n * kEvents].at("detected").as_string(),
              FormatRfc3339Nanos(kT0 - int64_t{n} * 3600 * kSec));
  }
  // A time window selects by the check's finish time, whatever the order.
  std::vector<value> window = AllDrift(
      c, read, "host=clock-1&since=2026-10-31T19:30:00Z&until=2026-11-01T00:00:00Z&order=desc");
  ASSERT_EQ(window.size(), static_cast<size_t>(4 * kEvents));
  EXPECT_EQ(ReportIdsOf(window), std::vector<std::string>(ids.begin() + 1, ids.begin() + 5));
  value host = c.Get("/api/v1/hosts/clock-1", read).json();
  EXPECT_EQ(host.at("reports").as_integer(), kReports);
  EXPECT_EQ(c.Stop(), 0);
}

// docs/api.md, "Authentication": after 20 failed authentications an address
// gets 429 for everything until attempts refill (one per second); agents
// treat 429 as "retry later", never as a refusal of the report; no token,
// right or wrong, reaches the collector's log.
TEST(CollectorReliabilityTest, FailedAuthenticationIsLimitedAndTokensAreNotLogged) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string agent_db = dir / "agent.db";
  const Enrollment e = EnrollAgent(c, "limited-1", agent_db);
  ASSERT_FALSE(e.token.empty());
  ASSERT_EQ(c.Get("/api/v1/hosts", read).status, 200);
  std::vector<std::string> wrong;
  for (int i = 0; i < 20; ++i) {
    wrong.push_back("dw_" + std::string(60, 'a') + std::to_string(1000 + i));
    Answer a = c.Get("/api/v1/hosts", wrong.back());
    ASSERT_EQ(a.status, 401) << i << ": " << a.body;
  }
  Answer limited = c.Get("/api/v1/hosts", "dw_another_wrong_token");
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.json().at("error").as_string(), "too_many_requests");
  EXPECT_EQ(limited.json().at("detail").as_string(),
            "too many failed authentication attempts from this address; retry in 1 s");
  // A valid token from the same address waits too (it is not even looked at).
  EXPECT_EQ(c.Get("/api/v1/hosts", read).status, 429);

  // The agent keeps its report and retries later.
  auto outbox = Outbox::Open(agent_db);
  ASSERT_TRUE(outbox.ok());
  ASSERT_TRUE((*outbox)->Enqueue(Numbered("limited-1", 0), kT0).ok());
  CollectorClient client(e.collector, e.token);
  auto out = report::DeliverOutbox(DefaultHost(), **outbox, client, e, DeliveryOptions{}, kT0);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->sent, 0);
  EXPECT_EQ(out->rejected, 0);
  EXPECT_EQ(out->remaining, 1);
  EXPECT_EQ(out->error.code(), StatusCode::kUnavailable) << out->error.message();
  EXPECT_NE(out->error.message().find("429"), std::string::npos) << out->error.message();

  // One attempt per second comes back; the valid token gets through.
  ASSERT_TRUE(WaitFor([&] { return c.Get("/api/v1/hosts", read).status == 200; }, 5));
  out = report::DeliverOutbox(DefaultHost(), **outbox, client, e, DeliveryOptions{}, kT0);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->sent, 1) << out->error.message();
  EXPECT_EQ(c.Stop(), 0);

  const std::string log = ReadAll(c.log());
  for (const std::string& t : wrong) EXPECT_EQ(log.find(t), std::string::npos);
  EXPECT_EQ(log.find(read), std::string::npos);
  EXPECT_EQ(log.find(e.token), std::string::npos);
  EXPECT_EQ(log.find("dw_"), std::string::npos) << log;
  // The store keeps digests only: no token appears in the database files.
  const std::string stored = ReadAll(c.db()) + ReadAll(c.db() + "-wal");
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored.find(read), std::string::npos);
  EXPECT_EQ(stored.find(e.token), std::string::npos);
  EXPECT_EQ(stored.find("dw_"), std::string::npos);
}

TEST(CollectorReliabilityTest, FullDiskUnderTheCollectorDatabase) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: mount -t tmpfs";
  // Keeps the mount out of the host's namespace where possible; the Tmpfs
  // guard unmounts it in any case.
  (void)testutil::EnterPrivateMountNamespace();
  TempDir dir;
  TempDir store_dir;
  Tmpfs tmpfs(store_dir.path(), "size=16m,mode=0700");
  ASSERT_TRUE(tmpfs.mounted()) << "mount tmpfs: " << tmpfs.error();
  Collector c(store_dir);
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  const std::string read = c.Token("read");
  const std::string agent_db = dir / "agent.db";
  const Enrollment e = EnrollAgent(c, "full-1", agent_db);
  ASSERT_FALSE(e.token.empty());

  std::string note;
  auto first = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 0, 10), &note);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(note, "delivered 1 report(s)");

  const std::string filler = store_dir / "filler";
  ASSERT_GT(FillDisk(filler), 0);
  // Bigger than anything written so far, so no page of the database or its
  // write-ahead log can be reused for it.
  auto second =
      report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 1, 3000), &note);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(note.rfind("delivered 0 report(s), 1 kept in the outbox (report: collector answered "
                       "503: sqlite",
                       0),
            0u)
      << note;
  EXPECT_NE(note.find("disk is full"), std::string::npos) << note;
  std::cout << "[ message  ] " << note << "\n";

  // The API answer as any client sees it.
  const std::vector<report::QueuedReport> kept = PendingReports(agent_db);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].report_id, *second);
  EXPECT_EQ(kept[0].attempts, 1);
  Answer a = Http("POST", c.url() + "/api/v1/reports", e.token,
                  report::StampReport(kept[0].body, "full-1", kT0));
  EXPECT_EQ(a.status, 503) << a.body;
  value err = a.json();
  EXPECT_EQ(err.at("error").as_string(), "unavailable");
  EXPECT_NE(err.at("detail").as_string().find("nothing was stored"), std::string::npos) << a.body;

  // Reads still work and see nothing of the refused report.
  std::vector<value> events = AllDrift(c, read, "host=full-1");
  EXPECT_EQ(events.size(), 10u);
  EXPECT_EQ(c.Get("/api/v1/hosts/full-1", read).json().at("reports").as_integer(), 1);

  // Space returns: the next delivery stores the report, once.
  ASSERT_EQ(unlink(filler.c_str()), 0);
  auto third = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 2, 1), &note);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(note, "delivered 2 report(s)");
  events = AllDrift(c, read, "host=full-1");
  ASSERT_EQ(events.size(), 10u + 3000u + 1u);
  EXPECT_EQ(ReportIdsOf(events), (std::vector<std::string>{*first, *second, *third}));
  ExpectAscendingIds(events);
  EXPECT_EQ(c.Get("/api/v1/hosts/full-1", read).json().at("reports").as_integer(), 3);
  // A resend of the refused-then-stored report is a duplicate.
  Answer again = Http("POST", c.url() + "/api/v1/reports", e.token,
                      report::StampReport(kept[0].body, "full-1", kT0));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(again.json().at("duplicate").as_bool());
  EXPECT_EQ(c.Stop(), 0);
  auto check = testutil::Run("sqlite3 " + Q(c.db()) + " 'PRAGMA integrity_check' 2>&1");
  EXPECT_EQ(check.out, "ok\n");
}

}  // namespace
}  // namespace driftwatch::collector_it
